// The fashion-shop generator: the same data on any rank count, a real long tail, content that shapes the
// hidden vectors, and the IDX photo reader with its error messages.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "operators/datagen/alias_table.hpp"
#include "operators/datagen/counter_rng.hpp"
#include "operators/datagen/fashion_shop.hpp"
#include "operators/datagen/idx_images.hpp"
#include "operators/datagen/keyed_permutation.hpp"
#include "operators/datagen/product_photos.hpp"
#include "operators/datagen/shop_csv.hpp"
#include "operators/datagen/shop_generator.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::ops::datagen {
namespace {

using testing::run_distributed;
namespace fs = std::filesystem;

// Small stand-in photos (12 x 12): each class is a bar at its own height, each photo varies in brightness
// and position, so pixels carry class and per-photo information like real photos do.
ProductPhotos synthetic_photos(std::uint32_t count) {
  ProductPhotos photos;
  photos.images.count = count;
  photos.images.rows = 12;
  photos.images.cols = 12;
  photos.images.pixels.assign(std::size_t{count} * 144, 0);
  for (std::uint32_t i = 0; i < count; ++i) {
    int label = static_cast<int>(splitmix64(i) % kPhotoClasses);
    photos.labels.push_back(static_cast<std::uint8_t>(label));
    int shift = static_cast<int>(splitmix64(i + 1000) % 3);
    auto intensity = static_cast<std::uint8_t>(80 + splitmix64(i + 2000) % 170);
    for (int r = 0; r < 12; ++r)
      for (int c = 0; c < 12; ++c) {
        bool on = (r == label + shift % 2 || r == label + 1 + shift % 2) && c >= shift && c < 9 + shift;
        photos.images.pixels[std::size_t{i} * 144 + r * 12 + c] = on ? intensity : 0;
      }
  }
  return photos;
}

ShopConfig small_config() {
  ShopConfig config;
  config.users = 150;
  config.items = 230;
  config.interactions_per_user = 12;
  config.factors = 8;
  config.brands = 40;
  config.seed = 11;
  return config;
}

// The whole shop made on one thread, entity by entity: the reference every rank count must reproduce.
struct SerialShop {
  std::vector<ShopItem> items;
  std::vector<ShopUser> users;
};

SerialShop make_serially(const FashionShop& shop) {
  SerialShop result;
  std::vector<float> truth;
  std::vector<double> popularity;
  for (std::uint64_t i = 0; i < shop.config().items; ++i) {
    result.items.push_back(shop.make_item(i));
    truth.insert(truth.end(), result.items.back().truth.begin(), result.items.back().truth.end());
    popularity.push_back(result.items.back().popularity);
  }
  Catalogue catalogue(shop.config().factors, truth, popularity);
  for (std::uint64_t u = 0; u < shop.config().users; ++u)
    result.users.push_back(shop.make_user(u, catalogue));
  return result;
}

std::string gather_text(Context& ctx, const std::string& local) {
  auto all = comm::gatherv(ctx.comm(), std::span<const char>(local.data(), local.size()), 0);
  return std::string(all.begin(), all.end());
}

double cosine(std::span<const float> a, std::span<const float> b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t d = 0; d < a.size(); ++d) ab += a[d] * b[d], aa += a[d] * a[d], bb += b[d] * b[d];
  return ab / std::sqrt(aa * bb);
}

// ---------------------------------------------------------------------------------------------------------
// Random streams, permutations, alias tables

TEST(FashionShopRandom, StreamsDependOnlyOnTheirName) {
  CounterRng a(7, StreamKind::kItem, 123), b(7, StreamKind::kItem, 123);
  CounterRng other_id(7, StreamKind::kItem, 124), other_kind(7, StreamKind::kUser, 123),
      other_seed(8, StreamKind::kItem, 123);
  for (int i = 0; i < 100; ++i) {
    std::uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    EXPECT_NE(x, other_id.next_u64());
    EXPECT_NE(x, other_kind.next_u64());
    EXPECT_NE(x, other_seed.next_u64());
  }
  EXPECT_EQ(CounterRng(7, StreamKind::kItem, 123).at(50), a.at(50));
}

TEST(FashionShopRandom, UniformAndNormalHaveTheRightMoments) {
  CounterRng rng(1, StreamKind::kUser, 0);
  const int n = 200000;
  double sum = 0, normal_sum = 0, normal_sq = 0;
  for (int i = 0; i < n; ++i) {
    double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    double z = rng.normal();
    normal_sum += z;
    normal_sq += z * z;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);
  EXPECT_NEAR(normal_sum / n, 0.0, 0.01);
  EXPECT_NEAR(normal_sq / n, 1.0, 0.02);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(rng.below(7), 7u);
}

TEST(FashionShopRandom, KeyedPermutationIsABijection) {
  for (std::uint64_t n : {1ull, 2ull, 3ull, 5ull, 17ull, 1000ull, 70000ull}) {
    KeyedPermutation permutation(n, 42);
    std::vector<bool> seen(n, false);
    for (std::uint64_t x = 0; x < n; ++x) {
      std::uint64_t y = permutation(x);
      ASSERT_LT(y, n);
      ASSERT_FALSE(seen[y]) << "n = " << n << ": " << y << " hit twice";
      seen[y] = true;
    }
  }
  // A different key gives a different order.
  KeyedPermutation a(1000, 1), b(1000, 2);
  int same = 0;
  for (std::uint64_t x = 0; x < 1000; ++x) same += a(x) == b(x);
  EXPECT_LT(same, 20);
}

TEST(FashionShopRandom, AliasTableDrawsInProportionToWeights) {
  std::vector<double> weights = {1, 0, 3, 6, 0.5};
  AliasTable table(weights);
  CounterRng rng(3, StreamKind::kUserEvents, 9);
  std::vector<int> counts(weights.size(), 0);
  const int n = 105000;
  for (int i = 0; i < n; ++i) ++counts[table.sample(rng)];
  double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  for (std::size_t i = 0; i < weights.size(); ++i)
    EXPECT_NEAR(counts[i] / double(n), weights[i] / total, 0.006) << "index " << i;
  EXPECT_EQ(counts[1], 0);
  EXPECT_EQ(counts[4] > 0, true);
  EXPECT_THROW(AliasTable(std::vector<double>{0, 0}), std::invalid_argument);
  EXPECT_THROW(AliasTable(std::vector<double>{}), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------------------
// The model

TEST(FashionShop, SameRowsOnAnyRankCount) {
  const ProductPhotos photos = synthetic_photos(500);
  const FashionShop shop(small_config(), photos);
  const SerialShop reference = make_serially(shop);
  const std::string expected_items = format_item_rows(reference.items, shop.brands());
  const std::string expected_events = format_interaction_rows(reference.users);
  std::vector<float> expected_tastes;
  for (const ShopUser& user : reference.users)
    expected_tastes.insert(expected_tastes.end(), user.taste.begin(), user.taste.end());
  ASSERT_FALSE(expected_events.empty());

  run_distributed([&](Context& ctx) {
    ShopPartition partition = generate_shop(ctx, shop);
    std::string items = gather_text(ctx, format_item_rows(partition.items, shop.brands()));
    std::string events = gather_text(ctx, format_interaction_rows(partition.users));
    std::vector<float> local_tastes;
    for (const ShopUser& user : partition.users)
      local_tastes.insert(local_tastes.end(), user.taste.begin(), user.taste.end());
    auto tastes = comm::gatherv(ctx.comm(), std::span<const float>(local_tastes), 0);
    // Every rank holds the whole catalogue, bit for bit.
    std::vector<float> expected_truth;
    for (const ShopItem& item : reference.items)
      expected_truth.insert(expected_truth.end(), item.truth.begin(), item.truth.end());
    EXPECT_EQ(partition.catalogue.all_truth(), expected_truth);
    if (ctx.is_root()) {
      EXPECT_EQ(items, expected_items);
      EXPECT_EQ(events, expected_events);
      EXPECT_EQ(tastes, expected_tastes);
    }
  });
}

TEST(FashionShop, MoreRanksThanItemsOrUsers) {
  const ProductPhotos photos = synthetic_photos(50);
  ShopConfig config = small_config();
  config.items = 2;
  config.users = 3;
  const FashionShop shop(config, photos);
  const SerialShop reference = make_serially(shop);
  run_distributed([&](Context& ctx) {
    ShopPartition partition = generate_shop(ctx, shop);
    std::string events = gather_text(ctx, format_interaction_rows(partition.users));
    ShopSummary summary = summarise_shop(ctx, partition);
    EXPECT_EQ(summary.items, 2u);
    EXPECT_EQ(summary.users, 3u);
    if (ctx.is_root()) {
      EXPECT_EQ(events, format_interaction_rows(reference.users));
    }
  });
}

TEST(FashionShop, BlockRangesCoverEveryEntityOnce) {
  for (std::uint64_t n : {0ull, 1ull, 7ull, 100ull})
    for (int size : {1, 2, 3, 5, 8}) {
      std::uint64_t next = 0;
      for (int r = 0; r < size; ++r) {
        auto [begin, end] = block_range(n, r, size);
        EXPECT_EQ(begin, next);
        EXPECT_LE(end - begin, n / size + 1);
        next = end;
      }
      EXPECT_EQ(next, n);
    }
}

TEST(FashionShop, PopularityHasALongTailAndAHead) {
  const ProductPhotos photos = synthetic_photos(3000);
  ShopConfig config = small_config();
  config.items = 2000;
  config.users = 4000;
  config.interactions_per_user = 40;  // 80 interactions per item on average
  config.brands = 200;
  const FashionShop shop(config, photos);
  run_distributed({1, 3}, [&](Context& ctx) {
    ShopPartition partition = generate_shop(ctx, shop);
    ShopSummary s = summarise_shop(ctx, partition);
    double mean = double(s.interactions) / double(s.items);
    EXPECT_NEAR(double(s.interactions) / double(s.users), config.interactions_per_user,
                0.15 * config.interactions_per_user);
    EXPECT_LT(s.median_item_interactions, mean / 4) << "most items should have far fewer than the mean";
    EXPECT_GT(s.top_1_percent_share, 0.15) << "the top 1% of items should hold a large share";
    EXPECT_GT(s.items_below_5, s.items / 5) << "a real tail: many items with fewer than 5 interactions";
    EXPECT_GT(s.cold_items, 0u) << "some items have no interaction at all";
    EXPECT_GT(s.max_user_interactions, 10 * config.interactions_per_user) << "user activity is heavy-tailed";
    EXPECT_GT(s.views, s.carts);
    EXPECT_GT(s.carts, s.purchases);
    EXPECT_GT(s.purchases, 0u);
  });
}

TEST(FashionShop, ContentShapesTheHiddenVectors) {
  const ProductPhotos photos = synthetic_photos(3000);
  ShopConfig config = small_config();
  config.items = 1500;
  config.factors = 16;
  const FashionShop shop(config, photos);
  std::vector<ShopItem> items;
  for (std::uint64_t i = 0; i < config.items; ++i) items.push_back(shop.make_item(i));
  double same_class = 0, same_brand = 0, any = 0;
  int n_class = 0, n_brand = 0, n_any = 0;
  for (std::size_t a = 0; a < items.size(); ++a)
    for (std::size_t b = a + 1; b < items.size(); b += 7) {
      double c = cosine(items[a].truth, items[b].truth);
      any += c, ++n_any;
      if (items[a].photo_class == items[b].photo_class) same_class += c, ++n_class;
      if (items[a].brand == items[b].brand && items[a].photo_class != items[b].photo_class)
        same_brand += c, ++n_brand;
    }
  ASSERT_GT(n_class, 100);
  ASSERT_GT(n_brand, 10);
  EXPECT_GT(same_class / n_class, any / n_any + 0.2) << "same category => closer hidden vectors";
  EXPECT_GT(same_brand / n_brand, any / n_any + 0.05) << "same brand => closer hidden vectors";
}

TEST(FashionShop, PixelsEnterTheHiddenVector) {
  // The same photos, each moved one pixel to the right (same brightness, so the same colour words): the
  // titles stay the same, the hidden vectors do not.
  const ProductPhotos photos = synthetic_photos(400);
  ProductPhotos moved = photos;
  const std::size_t cols = photos.images.cols;
  for (std::size_t row = 0; row < moved.images.pixels.size() / cols; ++row) {
    auto begin = moved.images.pixels.begin() + row * cols;
    std::rotate(begin, begin + cols - 1, begin + cols);
  }
  const FashionShop shop(small_config(), photos), moved_shop(small_config(), moved);
  for (std::uint64_t i = 0; i < 50; ++i) {
    ShopItem a = shop.make_item(i), b = moved_shop.make_item(i);
    EXPECT_EQ(a.title, b.title);
    EXPECT_EQ(a.price, b.price);
    EXPECT_NE(a.truth, b.truth);
    EXPECT_GT(cosine(a.truth, b.truth), 0.5) << "the photo is one part of the content, not all of it";
  }
}

TEST(FashionShop, UsersChooseWhatFitsTheirTaste) {
  const ProductPhotos photos = synthetic_photos(1000);
  ShopConfig config = small_config();
  config.users = 300;
  config.items = 800;
  config.interactions_per_user = 20;
  const FashionShop shop(config, photos);
  SerialShop data = make_serially(shop);
  std::vector<float> truth;
  std::vector<double> popularity;
  for (const ShopItem& item : data.items) {
    truth.insert(truth.end(), item.truth.begin(), item.truth.end());
    popularity.push_back(item.popularity);
  }
  Catalogue catalogue(config.factors, truth, popularity);
  CounterRng rng(5, StreamKind::kUserEvents, 77);
  double chosen = 0, by_popularity = 0;
  std::uint64_t n = 0;
  for (const ShopUser& user : data.users) {
    std::int64_t last_time = 0;
    for (const ShopEvent& event : user.events) {
      ASSERT_LT(event.item, config.items);
      EXPECT_GT(event.time, last_time) << "timestamps increase within a user";
      last_time = event.time;
      chosen += FashionShop::score(user.taste, catalogue.truth(event.item));
      by_popularity += FashionShop::score(user.taste, catalogue.truth(catalogue.popularity().sample(rng)));
      ++n;
    }
  }
  EXPECT_GT(chosen / n, by_popularity / n + 0.5) << "events follow taste, not popularity alone";
}

TEST(FashionShop, ItemsAreWellFormedProducts) {
  const ProductPhotos photos = synthetic_photos(500);
  const FashionShop shop(small_config(), photos);
  std::set<std::uint32_t> photos_used;
  std::set<std::string> brand_names;
  for (const Brand& brand : shop.brands()) brand_names.insert(brand.name);
  EXPECT_EQ(brand_names.size(), shop.brands().size()) << "brand names are unique";
  bool some_title_has_comma = false;
  for (std::uint64_t i = 0; i < shop.config().items; ++i) {
    ShopItem item = shop.make_item(i);
    photos_used.insert(item.photo);
    EXPECT_EQ(item.photo_class, photos.labels[item.photo]) << "category comes from the photo's label";
    EXPECT_EQ(std::count(item.category.begin(), item.category.end(), '>'), 2) << item.category;
    EXPECT_EQ(item.title.rfind(shop.brands()[item.brand].name, 0), 0u) << "titles start with the brand";
    EXPECT_GT(item.price, 2.0);
    EXPECT_FALSE(item.description.empty());
    EXPECT_EQ(item.truth.size(), std::size_t(shop.config().factors));
    EXPECT_GT(item.popularity, 0);
    some_title_has_comma |= item.title.find(',') != std::string::npos;
  }
  EXPECT_EQ(photos_used.size(), shop.config().items) << "no photo repeats while photos last";
  EXPECT_TRUE(some_title_has_comma);
}

TEST(FashionShop, InvalidConfigNamesTheOption) {
  const ProductPhotos photos = synthetic_photos(20);
  ShopConfig config = small_config();
  config.temperature = 0;
  try {
    FashionShop shop(config, photos);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--temperature"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------------------
// CSV

TEST(FashionShopCsv, QuotesFieldsThatNeedIt) {
  std::string out;
  append_csv_field(out, "plain");
  out += '|';
  append_csv_field(out, "Velmora Shirt, Navy");
  out += '|';
  append_csv_field(out, "Velmora \"Riviera\" Tee");
  EXPECT_EQ(out, "plain|\"Velmora Shirt, Navy\"|\"Velmora \"\"Riviera\"\" Tee\"");
  EXPECT_EQ(item_key(123), "i000123");
  EXPECT_EQ(user_key(1234567), "u1234567");
}

TEST(FashionShopCsv, InteractionRowsHaveFiveFields) {
  ShopUser user;
  user.id = 45;
  user.events = {{3, EventType::kView, 100}, {7, EventType::kPurchase, 160}, {7, EventType::kCart, 170}};
  EXPECT_EQ(format_interaction_rows(std::span<const ShopUser>(&user, 1)),
            "u000045,i000003,view,1,100\nu000045,i000007,purchase,5,160\nu000045,i000007,cart,3,170\n");
}

// ---------------------------------------------------------------------------------------------------------
// IDX files

class IdxFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / fmt::format("tailflow_idx_{}", ::getpid());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write_plain(const fs::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
  }
  void write_gzip(const fs::path& path, const std::string& bytes) {
    gzFile file = gzopen(path.c_str(), "wb");
    ASSERT_NE(file, nullptr);
    ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())), int(bytes.size()));
    gzclose(file);
  }
  std::string error_of(const std::function<void()>& step) {
    try {
      step();
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  }

  fs::path dir_;
  const std::string pixels_ =
      std::string("\x00\x01\x02\x03\x04\x05\x10\x20\x30\x40\x50\x60\xff\xfe\xfd\xfc\xfb\xfa", 18);
};

TEST_F(IdxFiles, ReadsPlainAndGzippedFiles) {
  std::string images = idx3_header(3, 2, 3) + pixels_;
  std::string labels = idx1_header(3) + std::string("\x02\x00\x09", 3);
  write_plain(dir_ / "images.idx", images);
  write_gzip(dir_ / "images.idx.gz", images);
  write_gzip(dir_ / "labels.idx.gz", labels);
  for (const char* name : {"images.idx", "images.idx.gz"}) {
    IdxImages read = read_idx_images(dir_ / name);
    EXPECT_EQ(read.count, 3u);
    EXPECT_EQ(read.rows, 2u);
    EXPECT_EQ(read.cols, 3u);
    EXPECT_EQ(std::string(read.pixels.begin(), read.pixels.end()), pixels_);
    EXPECT_EQ(read.image(2)[0], 0xff);
  }
  EXPECT_EQ(read_idx_labels(dir_ / "labels.idx.gz"), (std::vector<std::uint8_t>{2, 0, 9}));
}

TEST_F(IdxFiles, ErrorsNameTheFileAndTheProblem) {
  std::string missing = error_of([&] { read_idx_images(dir_ / "nope.gz"); });
  EXPECT_NE(missing.find("nope.gz"), std::string::npos) << missing;
  EXPECT_NE(missing.find("no such file"), std::string::npos) << missing;

  write_plain(dir_ / "labels_as_images", idx1_header(3) + "abc");
  std::string magic = error_of([&] { read_idx_images(dir_ / "labels_as_images"); });
  EXPECT_NE(magic.find("labels_as_images"), std::string::npos) << magic;
  EXPECT_NE(magic.find("magic number 0x00000801"), std::string::npos) << magic;

  write_gzip(dir_ / "short.gz", idx3_header(4, 2, 3) + pixels_);
  std::string truncated = error_of([&] { read_idx_images(dir_ / "short.gz"); });
  EXPECT_NE(truncated.find("short.gz: truncated"), std::string::npos) << truncated;

  write_plain(dir_ / "header_only", std::string("\x00\x00", 2));
  EXPECT_NE(error_of([&] { read_idx_labels(dir_ / "header_only"); }).find("truncated"), std::string::npos);

  write_plain(dir_ / "too_long", idx1_header(2) + "abc");
  EXPECT_NE(error_of([&] { read_idx_labels(dir_ / "too_long"); }).find("longer than its header"),
            std::string::npos);

  // A gzip stream cut in the middle is reported, not read as zeros.
  std::string images = idx3_header(3, 2, 3) + pixels_;
  write_gzip(dir_ / "whole.gz", images + std::string(4000, '\x7f'));
  std::ifstream in(dir_ / "whole.gz", std::ios::binary);
  std::string compressed((std::istreambuf_iterator<char>(in)), {});
  write_plain(dir_ / "cut.gz", compressed.substr(0, compressed.size() / 2));
  std::string cut = error_of([&] { read_idx_images(dir_ / "cut.gz"); });
  EXPECT_NE(cut.find("cut.gz"), std::string::npos) << cut;
}

TEST_F(IdxFiles, MissingFashionMnistSaysHowToInstallIt) {
  std::string message = error_of([&] { load_fashion_mnist(dir_); });
  EXPECT_NE(message.find("apt-get install dataset-fashion-mnist"), std::string::npos) << message;
  EXPECT_NE(message.find("train-images-idx3-ubyte"), std::string::npos) << message;
}

TEST_F(IdxFiles, LabelsMustMatchImages) {
  write_gzip(dir_ / "train-images-idx3-ubyte.gz", idx3_header(3, 2, 3) + pixels_);
  write_gzip(dir_ / "train-labels-idx1-ubyte.gz", idx1_header(2) + std::string("\x01\x02", 2));
  write_gzip(dir_ / "t10k-images-idx3-ubyte.gz", idx3_header(3, 2, 3) + pixels_);
  write_gzip(dir_ / "t10k-labels-idx1-ubyte.gz", idx1_header(3) + std::string("\x01\x02\x03", 3));
  std::string message = error_of([&] { load_fashion_mnist(dir_); });
  EXPECT_NE(message.find("3 images but 2 labels"), std::string::npos) << message;
  write_gzip(dir_ / "train-labels-idx1-ubyte.gz", idx1_header(3) + std::string("\x01\x02\x03", 3));
  ProductPhotos photos = load_fashion_mnist(dir_);
  EXPECT_EQ(photos.size(), 6u);
  EXPECT_EQ(photos.images.count, 6u);
  EXPECT_EQ(photos.labels[3], 1);
}

TEST(FashionMnist, RealPhotosLoadWhenInstalled) {
  if (!fs::exists(fs::path(kDefaultFashionMnistDir) / "train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)";
  ProductPhotos photos = load_fashion_mnist(kDefaultFashionMnistDir);
  EXPECT_EQ(photos.size(), 70000u);
  EXPECT_EQ(photos.images.rows, 28u);
  EXPECT_EQ(photos.images.cols, 28u);
  std::array<int, kPhotoClasses> per_class{};
  for (auto label : photos.labels) ++per_class[label];
  for (int count : per_class) EXPECT_EQ(count, 7000);
}

}  // namespace
}  // namespace tailflow::ops::datagen
