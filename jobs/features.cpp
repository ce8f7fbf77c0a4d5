// `tailflow features`: content features of every item, for the content -> embedding regressor.
//
//   tailflow features --items items.csv --out DIR [--interactions FILE] [column flags] [--tags FILE ...]
//                     [--text-hash-bits B] [--image-size S] [--wordpiece-vocab vocab.txt] ...
//                     [--text-encoder bert.pt [--text-pooling cls|mean]] [--image-encoder resnext.pt]
//
// Writes DIR/features.h5 (+ one shard per rank; layout in operators/features/feature_cache.hpp) and
// DIR/features_summary.json. With --interactions, row i is the item that the ALS job numbers i (catalog items
// without interactions follow); without, rows follow the catalog's id order. A second run with the same
// input files and settings reuses the stored features (--force recomputes). Image files named by path are
// not part of the fingerprint: use --force after changing them in place. Pretrained TorchScript encoders
// run through operators/learning/pretrained_features.hpp (this file stays free of LibTorch); their outputs
// are stored as dense blocks, and their files' bytes are part of the fingerprint. The master file also holds
// the recipe (operators/features/feature_recipe.hpp) that `tailflow train` copies into the model.
#include <fmt/format.h>

#include <filesystem>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/json_writer.hpp"
#include "engine/stage_metrics.hpp"
#include "jobs/interaction_options.hpp"
#include "jobs/subcommand.hpp"
#include "operators/data/interactions_loader.hpp"
#include "operators/features/feature_cache.hpp"
#include "operators/features/feature_extraction.hpp"
#include "operators/features/feature_recipe.hpp"
#include "operators/features/item_catalog.hpp"
#include "operators/learning/pretrained_features.hpp"

namespace tailflow::jobs {
namespace {

using namespace tailflow::ops::features;
namespace fs = std::filesystem;

void add_options(po::options_description& options) {
  const FeatureOptions defaults;
  // clang-format off
  options.add_options()
    ("items", po::value<std::string>()->required(), "item catalog (CSV/TSV with a header)")
    ("out", po::value<std::string>()->required(), "output directory (created if missing)")
    ("items-sep", po::value<std::string>(), "field separator of the items file (detected when absent)")
    ("item-id-column", po::value<std::string>()->default_value(""), "item id column: name or 0-based index")
    ("title-column", po::value<std::string>()->default_value(""), "title column ('none' to ignore one)")
    ("description-column", po::value<std::string>()->default_value(""), "description column")
    ("brand-column", po::value<std::string>()->default_value(""), "brand column")
    ("category-column", po::value<std::string>()->default_value(""),
     "category column: hierarchical a>b>c and/or multi-valued a|b (MovieLens: genres)")
    ("price-column", po::value<std::string>()->default_value(""), "price column (standardised as ln(1 + price))")
    ("image-column", po::value<std::string>()->default_value(""), "image column: a row of --images-idx or a file path")
    ("numeric-columns", po::value<std::string>()->default_value(""), "extra numeric columns, comma-separated")
    ("categorical-columns", po::value<std::string>()->default_value(""), "extra categorical columns, comma-separated")
    ("category-level-sep", po::value<std::string>()->default_value(">"), "separator of category levels")
    ("category-value-sep", po::value<std::string>()->default_value("|"), "separator of several categories")
    ("max-category-levels", po::value<int>()->default_value(defaults.max_category_levels), "category levels used")
    ("min-count", po::value<std::uint64_t>()->default_value(defaults.min_count),
     "categorical values in fewer items map to 'unknown'")
    ("tags", po::value<std::vector<std::string>>()->multitoken(),
     "tag files (userId,movieId,tag,timestamp): tags join their item's text. Note: tags leak popularity")
    ("no-text", "no hashed text features")
    ("text-hash-bits", po::value<int>()->default_value(defaults.hashing.hash_bits), "2^B hash buckets for text terms")
    ("char-ngrams", po::value<std::string>()->default_value("3-5"), "character n-gram lengths, e.g. 3-5, or 'off'")
    ("no-word-bigrams", "no word bigrams")
    ("text-min-df", po::value<std::uint32_t>()->default_value(defaults.hashing.min_df),
     "text terms in fewer items are dropped")
    ("no-title-year", "do not take a trailing '(1995)' off titles as year and decade")
    ("image-size", po::value<int>()->default_value(0), "images resized to S x S (0 = no image features)")
    ("image-channels", po::value<int>()->default_value(defaults.image_channels), "1 (grey) or 3 (RGB)")
    ("images-idx", po::value<std::string>(),
     "IDX image file whose rows the image column names (default: images.idx next to the items file, if any)")
    ("image-root", po::value<std::string>()->default_value(""),
     "directory of relative image paths (default: the items file's directory)")
    ("image-mean", po::value<std::string>()->default_value("0.5"), "normalisation mean, one value or one per channel")
    ("image-std", po::value<std::string>()->default_value("0.5"), "normalisation std, one value or one per channel")
    ("wordpiece-vocab", po::value<std::string>(), "BERT vocab.txt: also write WordPiece token ids")
    ("max-tokens", po::value<int>()->default_value(defaults.max_tokens), "WordPiece sequence length")
    ("text-encoder", po::value<std::string>(),
     "pretrained TorchScript text model (forward(input_ids, attention_mask)); needs --wordpiece-vocab")
    ("text-pooling", po::value<std::string>()->default_value(defaults.text_pooling),
     "text encoder pooling: cls (first token) or mean (over real tokens)")
    ("image-encoder", po::value<std::string>(),
     "pretrained TorchScript image backbone (forward(pixels)), frozen; needs --image-size (e.g. 224)")
    ("encoder-batch", po::value<int>()->default_value(defaults.encoder_batch), "items per encoder call")
    ("force", "recompute even if the stored features match the inputs and settings");
  // clang-format on
  add_interaction_options(options, /*required=*/false);
}

std::vector<std::string> comma_list(const std::string& text) {
  std::vector<std::string> parts;
  for (auto& part : ops::data::parse_column_list(text))
    if (!part.empty()) parts.push_back(std::move(part));
  return parts;
}

std::vector<float> float_list(const std::string& option, const std::string& text) {
  std::vector<float> values;
  for (const auto& part : comma_list(text)) {
    float value = 0;
    if (io::parse_number(part, value) != io::NumberError::kNone)
      throw Error(fmt::format("--{}: '{}' is not a number", option, part));
    values.push_back(value);
  }
  if (values.empty()) throw Error(fmt::format("--{}: no values given", option));
  return values;
}

struct JobSettings {
  CatalogOptions catalog;
  FeatureOptions features;
  std::optional<ops::data::InteractionsLoadOptions> interactions;
  fs::path out;
  bool force = false;
};

JobSettings settings_from(const po::variables_map& vm) {
  JobSettings s;
  s.out = vm["out"].as<std::string>();
  s.force = vm.count("force") > 0;
  auto& c = s.catalog;
  c.path = vm["items"].as<std::string>();
  if (vm.count("items-sep")) c.separator = io::separator_from_option(vm["items-sep"].as<std::string>());
  c.columns.id = vm["item-id-column"].as<std::string>();
  c.columns.title = vm["title-column"].as<std::string>();
  c.columns.description = vm["description-column"].as<std::string>();
  c.columns.brand = vm["brand-column"].as<std::string>();
  c.columns.category = vm["category-column"].as<std::string>();
  c.columns.price = vm["price-column"].as<std::string>();
  c.columns.image = vm["image-column"].as<std::string>();
  c.columns.numeric = comma_list(vm["numeric-columns"].as<std::string>());
  c.columns.categorical = comma_list(vm["categorical-columns"].as<std::string>());
  c.category_level_separator = vm["category-level-sep"].as<std::string>();
  c.category_value_separator = vm["category-value-sep"].as<std::string>();
  if (vm.count("tags")) c.tag_files = vm["tags"].as<std::vector<std::string>>();

  auto& f = s.features;
  f.text = vm.count("no-text") == 0;
  f.hashing.hash_bits = vm["text-hash-bits"].as<int>();
  f.hashing.word_bigrams = vm.count("no-word-bigrams") == 0;
  f.hashing.min_df = vm["text-min-df"].as<std::uint32_t>();
  const auto ngrams = vm["char-ngrams"].as<std::string>();
  if (ngrams == "off" || ngrams == "0") {
    f.hashing.char_ngram_min = f.hashing.char_ngram_max = 0;
  } else {
    auto dash = ngrams.find('-');
    std::string low = ngrams.substr(0, dash),
                high = dash == std::string::npos ? low : ngrams.substr(dash + 1);
    if (io::parse_number(low, f.hashing.char_ngram_min) != io::NumberError::kNone ||
        io::parse_number(high, f.hashing.char_ngram_max) != io::NumberError::kNone ||
        f.hashing.char_ngram_min < 1 || f.hashing.char_ngram_max < f.hashing.char_ngram_min)
      throw Error(fmt::format("--char-ngrams: '{}' is not a range like 3-5 (or 'off')", ngrams));
  }
  f.year_from_title = vm.count("no-title-year") == 0;
  f.max_category_levels = vm["max-category-levels"].as<int>();
  f.min_count = vm["min-count"].as<std::uint64_t>();
  f.image_size = vm["image-size"].as<int>();
  f.image_channels = vm["image-channels"].as<int>();
  f.image_root = vm["image-root"].as<std::string>();
  f.image_mean = float_list("image-mean", vm["image-mean"].as<std::string>());
  f.image_stddev = float_list("image-std", vm["image-std"].as<std::string>());
  if (vm.count("images-idx")) {
    f.images_idx = vm["images-idx"].as<std::string>();
  } else if (f.image_size > 0) {
    auto beside = fs::path(c.path).parent_path() / "images.idx";
    if (fs::exists(beside)) f.images_idx = beside.string();
  }
  if (vm.count("wordpiece-vocab")) f.wordpiece_vocab = vm["wordpiece-vocab"].as<std::string>();
  f.max_tokens = vm["max-tokens"].as<int>();
  // Absolute paths: the recipe that `train` copies into the model must find the encoders from anywhere.
  if (vm.count("text-encoder")) f.text_encoder = fs::absolute(vm["text-encoder"].as<std::string>()).string();
  if (vm.count("image-encoder"))
    f.image_encoder = fs::absolute(vm["image-encoder"].as<std::string>()).string();
  f.text_pooling = vm["text-pooling"].as<std::string>();
  f.encoder_batch = vm["encoder-batch"].as<int>();
  if (vm.count("interactions")) s.interactions = interaction_load_options(vm);
  return s;
}

// Everything besides the input files' bytes that changes the output.
std::string settings_text(const JobSettings& s) {
  const auto& c = s.catalog.columns;
  std::string text = fmt::format(
      "columns id={} title={} description={} brand={} category={} price={} image={} numeric={} "
      "categorical={} "
      "sep={} levels={} values={} | {}",
      c.id, c.title, c.description, c.brand, c.category, c.price, c.image, fmt::join(c.numeric, ","),
      fmt::join(c.categorical, ","), s.catalog.separator.value_or("auto"), s.catalog.category_level_separator,
      s.catalog.category_value_separator, s.features.describe());
  if (s.interactions) {
    const auto& i = *s.interactions;
    text +=
        fmt::format(" | interactions columns={} user={} item={} value={} time={} event={} header={} sep={}",
                    fmt::join(i.columns, ","), i.user_column, i.item_column, i.value_column, i.time_column,
                    i.event_column, static_cast<int>(i.header), i.separator.value_or("auto"));
    for (const auto& [event, weight] : i.event_weights) text += fmt::format(" {}={}", event, weight);
  }
  return text;
}

// "text_encoder 768, image_encoder 2048", or "" without pretrained encoders.
std::string dense_description(const ItemFeatureBlock& block) {
  std::string text;
  for (const auto& dense : block.dense)
    text += fmt::format("{}{} {}", text.empty() ? "" : ", ", dense.name, dense.dims);
  return text;
}

// How to encode new rows like these (feature_recipe.hpp): the columns as found, the options, the digests of
// the files that decide the pretrained encoders' outputs. Collective (rank 0 reads the files).
std::string recipe_text(Context& ctx, const JobSettings& s, const Catalog& catalog) {
  FeatureRecipe recipe;
  recipe.catalog = s.catalog;
  recipe.catalog.path.clear();
  recipe.catalog.tag_files.clear();
  recipe.catalog.columns = catalog.layout.choices;
  recipe.had_tags = !s.catalog.tag_files.empty();
  recipe.features = s.features;
  if (!recipe.features.images_idx.empty())
    recipe.features.images_idx = fs::absolute(recipe.features.images_idx).string();
  if (!recipe.features.wordpiece_vocab.empty())
    recipe.features.wordpiece_vocab = fs::absolute(recipe.features.wordpiece_vocab).string();
  std::string text, error;
  if (ctx.is_root()) {
    try {
      if (!s.features.wordpiece_vocab.empty())
        recipe.wordpiece_digest = file_digest(s.features.wordpiece_vocab);
      if (!s.features.text_encoder.empty()) recipe.text_encoder_digest = file_digest(s.features.text_encoder);
      if (!s.features.image_encoder.empty())
        recipe.image_encoder_digest = file_digest(s.features.image_encoder);
      text = to_text(recipe);
    } catch (const Error& e) {
      error = e.what();
    }
  }
  ctx.check_collectively(error);
  return comm::broadcast_string(ctx.comm(), text, 0);
}

int run_features(Context& ctx, const po::variables_map& vm) {
  Stopwatch watch;
  JobSettings s;
  try {
    s = settings_from(vm);
  } catch (const Error& e) {
    throw CollectiveError(e.what());  // every rank parsed the same options
  }
  std::string error;
  if (ctx.is_root()) {
    std::error_code code;
    fs::create_directories(s.out, code);
    if (code)
      error = fmt::format("cannot create the output directory '{}': {}", s.out.string(), code.message());
  }
  ctx.check_collectively(error);

  std::vector<std::string> inputs = {s.catalog.path};
  if (s.interactions) inputs.push_back(s.interactions->path);
  inputs.insert(inputs.end(), s.catalog.tag_files.begin(), s.catalog.tag_files.end());
  if (!s.features.images_idx.empty()) inputs.push_back(s.features.images_idx);
  if (!s.features.wordpiece_vocab.empty()) inputs.push_back(s.features.wordpiece_vocab);
  if (!s.features.text_encoder.empty()) inputs.push_back(s.features.text_encoder);
  if (!s.features.image_encoder.empty()) inputs.push_back(s.features.image_encoder);
  const std::string settings = settings_text(s);
  const std::string fingerprint = feature_fingerprint(ctx, inputs, settings);
  const fs::path master = s.out / "features.h5";

  ItemFeatureBlock block;
  const bool reuse = !s.force && stored_fingerprint(ctx, master) == fingerprint;
  if (reuse) {
    ctx.log().info("features: {} matches the inputs and settings (fingerprint {}); reusing it",
                   master.string(), fingerprint);
    block = read_features(master, ctx.rank(), ctx.size());
  } else {
    std::optional<ops::data::LoadedInteractions> interactions;
    if (s.interactions) interactions = ops::data::load_interactions(ctx, *s.interactions);
    auto catalog = load_catalog(ctx, s.catalog, interactions ? &*interactions : nullptr);
    interactions.reset();  // the catalog keeps what it needs
    block = extract_features(ctx, catalog, s.features);
    ops::learning::add_pretrained_features(ctx, catalog, block, s.features);
    const std::string recipe = recipe_text(ctx, s, catalog);
    Stopwatch write_watch;
    write_features(ctx, master, block, fingerprint, settings, recipe);
    ctx.metrics().record(
        Stage{"write features", block.local_rows(), block.local_rows(), 0, write_watch.seconds()});
  }
  auto summary = summarise(ctx, block);
  const double seconds = watch.seconds();
  if (ctx.is_root()) {
    JsonObject vocabularies;
    for (const auto& [name, size] : summary.vocabulary_sizes) vocabularies.add(name, std::uint64_t{size});
    JsonObject json;
    json.add("items", summary.items)
        .add("items_in_catalog", summary.items_in_catalog)
        .add("items_with_text", summary.items_with_text)
        .add("text_nnz", summary.text_nnz)
        .add("text_buckets", block.text_buckets)
        .add("vocabulary_sizes", vocabularies)
        .add("numeric_columns", fmt::format("{}", fmt::join(summary.numeric_columns, ",")))
        .add("image_shape", fmt::format("{}x{}x{}", block.image_shape.channels, block.image_shape.height,
                                        block.image_shape.width))
        .add("token_length", block.token_length)
        .add("dense_blocks", dense_description(block))
        .add("reused", reuse)
        .add("fingerprint", fingerprint)
        .add("settings", settings)
        .add("ranks", ctx.size())
        .add("seconds", seconds);
    write_json_file((s.out / "features_summary.json").string(), json);
    fmt::print("features  {}\n{}{}\nseconds   {:.2f}{}\n", master.string(), summary.describe(),
               block.dense.empty() ? "" : ", pretrained: " + dense_description(block), seconds,
               reuse ? " (reused)" : "");
  }
  return 0;
}

const SubcommandRegistration registration{Subcommand{
    "features", "content features of every item (text, categories, numbers, images) -> DIR/features.h5",
    add_options, run_features}};

}  // namespace
}  // namespace tailflow::jobs
