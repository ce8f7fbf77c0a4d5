// `tailflow generate`: the built-in default dataset, a semi-synthetic fashion shop.
//
// Writes to --out DIR:
//   items.csv         item_id,title,description,brand,category,price,image — `category` is a path
//                     department>group>type; `image` is the item's row in images.idx (row i = item i).
//   images.idx        the catalogue's product photos in item order: an uncompressed IDX3 file (the MNIST
//                     format: 16-byte big-endian header 0x00000803, count, 28, 28; then 784 bytes per photo).
//                     Self-contained, so later jobs need neither the Debian package nor its train/test split.
//   interactions.csv  user_id,item_id,event,value,timestamp — event view/cart/purchase with value 1/3/5,
//                     rows ordered by user, then time; timestamps are seconds since the epoch.
//   truth.h5          the hidden model: items/vectors (items x factors), users/vectors (users x factors),
//                     items/ids, users/ids, items/popularity, items/photo (index into Fashion-MNIST, train
//                     photos first, then test photos); the generator's settings as attributes of "/".
// Every file is written atomically (temporary name, then rename). The same --seed gives byte-identical files
// for any number of ranks.
#include <fmt/format.h>

#include <unistd.h>
#include <array>
#include <cstdio>

#include <filesystem>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/hdf5_file.hpp"
#include "engine/io/parallel_text_writer.hpp"
#include "jobs/subcommand.hpp"
#include "operators/datagen/fashion_shop.hpp"
#include "operators/datagen/idx_images.hpp"
#include "operators/datagen/product_photos.hpp"
#include "operators/datagen/shop_csv.hpp"
#include "operators/datagen/shop_generator.hpp"

namespace tailflow::jobs {
namespace {

using namespace tailflow::ops::datagen;
namespace fs = std::filesystem;

// "0.6", not "0.59999999999999998", in --help.
std::string text(double value) {
  return fmt::format("{}", value);
}

void add_options(po::options_description& options) {
  const ShopConfig defaults;
  // clang-format off
  options.add_options()
    ("out", po::value<std::string>()->required(), "output directory (created if missing)")
    ("users", po::value<std::uint64_t>()->default_value(defaults.users), "number of users")
    ("items", po::value<std::uint64_t>()->default_value(defaults.items), "number of items")
    ("interactions-per-user", po::value<double>()->default_value(defaults.interactions_per_user, text(defaults.interactions_per_user)),
     "mean events per user (activity is power-law distributed)")
    ("factors", po::value<int>()->default_value(defaults.factors), "dimension of the hidden vectors")
    ("seed", po::value<std::uint64_t>()->default_value(defaults.seed), "random seed")
    ("zipf-exponent", po::value<double>()->default_value(defaults.zipf_exponent, text(defaults.zipf_exponent)),
     "exponent of the Zipf-like item popularity: larger = longer tail")
    ("head-flattening", po::value<double>()->default_value(defaults.head_flattening, text(defaults.head_flattening)),
     "flattens the very top of the popularity curve (Zipf-Mandelbrot offset, as a fraction of the items)")
    ("content-popularity-correlation", po::value<double>()->default_value(defaults.content_popularity_correlation, text(defaults.content_popularity_correlation)),
     "correlation (0..1) of an item's popularity with its content")
    ("activity-tail", po::value<double>()->default_value(defaults.activity_tail, text(defaults.activity_tail)),
     "Lomax shape of events per user (> 1; smaller = heavier tail)")
    ("brands", po::value<int>()->default_value(defaults.brands), "number of brands")
    ("candidates", po::value<int>()->default_value(defaults.candidates),
     "items drawn by popularity per event, one chosen by taste")
    ("temperature", po::value<double>()->default_value(defaults.temperature, text(defaults.temperature)),
     "softmax temperature of taste: lower = users follow their taste more strictly")
    ("start-time", po::value<std::int64_t>()->default_value(defaults.start_time),
     "first possible timestamp (seconds since the epoch)")
    ("days", po::value<int>()->default_value(defaults.days), "days over which activity spreads")
    ("images-dir", po::value<std::string>()->default_value(kDefaultFashionMnistDir),
     "directory with the Fashion-MNIST IDX files (Debian package dataset-fashion-mnist)");
  // clang-format on
}

ShopConfig config_from(const po::variables_map& vm) {
  ShopConfig config;
  config.users = vm["users"].as<std::uint64_t>();
  config.items = vm["items"].as<std::uint64_t>();
  config.interactions_per_user = vm["interactions-per-user"].as<double>();
  config.factors = vm["factors"].as<int>();
  config.seed = vm["seed"].as<std::uint64_t>();
  config.zipf_exponent = vm["zipf-exponent"].as<double>();
  config.head_flattening = vm["head-flattening"].as<double>();
  config.content_popularity_correlation = vm["content-popularity-correlation"].as<double>();
  config.activity_tail = vm["activity-tail"].as<double>();
  config.brands = vm["brands"].as<int>();
  config.candidates = vm["candidates"].as<int>();
  config.temperature = vm["temperature"].as<double>();
  config.start_time = vm["start-time"].as<std::int64_t>();
  config.days = vm["days"].as<int>();
  return config;
}

// Runs `step` on every rank; an Error on any rank becomes one CollectiveError on all of them.
template <class Step>
void collectively(Context& ctx, Step&& step) {
  std::string error;
  try {
    step();
  } catch (const Error& e) {
    error = e.what();
  }
  ctx.check_collectively(error);
}

// Rank 0 decompresses the photos once and broadcasts them: cheaper than every rank reading the same files.
ProductPhotos load_photos_on_root(Context& ctx, const std::string& dir) {
  ProductPhotos photos;
  collectively(ctx, [&] {
    if (ctx.is_root()) photos = load_fashion_mnist(dir);
  });
  std::array<std::uint32_t, 3> shape = {photos.images.count, photos.images.rows, photos.images.cols};
  comm::broadcast(ctx.comm(), std::span<std::uint32_t>(shape), 0);
  photos.images.count = shape[0];
  photos.images.rows = shape[1];
  photos.images.cols = shape[2];
  comm::broadcast_vector(ctx.comm(), photos.images.pixels, 0);
  comm::broadcast_vector(ctx.comm(), photos.labels, 0);
  return photos;
}

void write_files(Context& ctx, const FashionShop& shop, const ShopPartition& partition, const fs::path& out) {
  const ShopConfig& config = shop.config();
  Stopwatch watch;
  io::write_file_collectively(ctx, out / "items.csv", kItemsCsvHeader,
                              format_item_rows(partition.items, shop.brands()));
  ctx.metrics().record(
      {"write items.csv", partition.items.size(), partition.items.size(), 0, watch.seconds()});

  watch.restart();
  const IdxImages& images = shop.photos().images;
  std::string pixels;
  pixels.reserve(partition.items.size() * images.image_size());
  for (const ShopItem& item : partition.items) {
    auto image = images.image(item.photo);
    pixels.append(reinterpret_cast<const char*>(image.data()), image.size());
  }
  io::write_file_collectively(ctx, out / "images.idx",
                              idx3_header(static_cast<std::uint32_t>(config.items), images.rows, images.cols),
                              pixels);
  ctx.metrics().record(
      {"write images.idx", partition.items.size(), partition.items.size(), 0, watch.seconds()});

  watch.restart();
  std::uint64_t events = 0;
  for (const ShopUser& user : partition.users) events += user.events.size();
  io::write_file_collectively(ctx, out / "interactions.csv", kInteractionsCsvHeader,
                              format_interaction_rows(partition.users));
  ctx.metrics().record({"write interactions.csv", events, events, 0, watch.seconds()});
}

// The hidden model, written by rank 0 after gathering the user vectors and photo indices.
void write_truth(Context& ctx, const FashionShop& shop, const ShopPartition& partition, const fs::path& out) {
  Stopwatch watch;
  const ShopConfig& config = shop.config();
  std::vector<float> local_tastes;
  for (const ShopUser& user : partition.users)
    local_tastes.insert(local_tastes.end(), user.taste.begin(), user.taste.end());
  std::vector<std::uint32_t> local_photos;
  std::vector<double> local_popularity;
  for (const ShopItem& item : partition.items) {
    local_photos.push_back(item.photo);
    local_popularity.push_back(item.popularity);
  }
  auto tastes = comm::gatherv(ctx.comm(), std::span<const float>(local_tastes), 0);
  auto photos = comm::gatherv(ctx.comm(), std::span<const std::uint32_t>(local_photos), 0);
  auto popularity = comm::gatherv(ctx.comm(), std::span<const double>(local_popularity), 0);
  std::uint64_t gathered_bytes = ctx.is_root()
                                     ? 0
                                     : local_tastes.size() * sizeof(float) + local_photos.size() * 4 +
                                           local_popularity.size() * sizeof(double);

  collectively(ctx, [&] {
    if (!ctx.is_root()) return;
    const fs::path path = out / "truth.h5";
    const fs::path temporary = out / fmt::format(".truth.h5.tmp.{}", ::getpid());
    try {
      auto file = io::Hdf5File::create(temporary);
      const auto& truth = partition.catalogue.all_truth();
      file.write_matrix<float>("items/vectors", truth, config.items, config.factors);
      file.write_matrix<float>("users/vectors", tastes, config.users, config.factors);
      std::vector<std::string> item_ids(config.items), user_ids(config.users);
      for (std::uint64_t i = 0; i < config.items; ++i) item_ids[i] = item_key(i);
      for (std::uint64_t u = 0; u < config.users; ++u) user_ids[u] = user_key(u);
      file.write_strings("items/ids", item_ids);
      file.write_strings("users/ids", user_ids);
      file.write<std::uint32_t>("items/photo", photos);
      file.write<double>("items/popularity", popularity);
      file.set_attribute("/", "generator", "tailflow generate (fashion shop)");
      file.set_attribute("/", "seed", config.seed);
      file.set_attribute("/", "factors", std::int32_t{config.factors});
      file.set_attribute("/", "zipf_exponent", config.zipf_exponent);
      file.set_attribute("/", "temperature", config.temperature);
      file.set_attribute("/", "interactions_per_user", config.interactions_per_user);
      file.set_attribute("items/vectors", "meaning",
                         "hidden item vectors: content embeddings + pixel projection + price + noise");
      file.set_attribute("users/vectors", "meaning", "hidden user taste vectors; score = user . item");
      file.close();
      fs::rename(temporary, path);
    } catch (const fs::filesystem_error& e) {
      fs::remove(temporary);
      throw Error(fmt::format("cannot write {}: {}", path.string(), e.what()));
    } catch (...) {
      std::error_code ignored;
      fs::remove(temporary, ignored);
      throw;
    }
  });
  ctx.metrics().record({"write truth.h5", partition.users.size(), ctx.is_root() ? config.users : 0,
                        gathered_bytes, watch.seconds()});
}

int run(Context& ctx, const po::variables_map& vm) {
  Stopwatch total;
  const ShopConfig config = config_from(vm);
  const fs::path out = vm["out"].as<std::string>();
  collectively(ctx, [&] {
    config.validate();
    if (ctx.is_root()) {
      std::error_code ec;
      fs::create_directories(out, ec);
      if (ec) throw Error(fmt::format("cannot create output directory {}: {}", out.string(), ec.message()));
    }
  });

  Stopwatch watch;
  ProductPhotos photos = load_photos_on_root(ctx, vm["images-dir"].as<std::string>());
  ctx.metrics().record({"load photos", 0, photos.size(), 0, watch.seconds()});
  ctx.log().info("generate: {} product photos from {}", photos.size(), vm["images-dir"].as<std::string>());

  FashionShop shop(config, photos);
  ShopPartition partition = generate_shop(ctx, shop);
  write_files(ctx, shop, partition, out);
  write_truth(ctx, shop, partition, out);
  ShopSummary summary = summarise_shop(ctx, partition);

  if (ctx.is_root()) {
    double items = static_cast<double>(summary.items);
    std::printf(
        "fashion shop (seed %llu) written to %s in %.1f s on %d rank(s)\n"
        "  users %llu, items %llu, interactions %llu (views %llu, carts %llu, purchases %llu)\n"
        "  items with < 5 interactions: %.1f%% (cold, none at all: %.1f%%); median per item %.1f, max %llu\n"
        "  top 1%% of items hold %.1f%% of interactions; most active user has %llu events\n",
        static_cast<unsigned long long>(config.seed), out.string().c_str(), total.seconds(), ctx.size(),
        static_cast<unsigned long long>(summary.users), static_cast<unsigned long long>(summary.items),
        static_cast<unsigned long long>(summary.interactions), static_cast<unsigned long long>(summary.views),
        static_cast<unsigned long long>(summary.carts), static_cast<unsigned long long>(summary.purchases),
        100.0 * static_cast<double>(summary.items_below_5) / items,
        100.0 * static_cast<double>(summary.cold_items) / items, summary.median_item_interactions,
        static_cast<unsigned long long>(summary.max_item_interactions), 100.0 * summary.top_1_percent_share,
        static_cast<unsigned long long>(summary.max_user_interactions));
    std::fflush(stdout);
  }
  return 0;
}

const SubcommandRegistration registration(
    {"generate", "make the built-in fashion-shop dataset (items, photos, interactions)", add_options, run});

}  // namespace
}  // namespace tailflow::jobs
