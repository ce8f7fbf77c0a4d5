#include "operators/features/feature_extraction.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <span>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/parse_number.hpp"
#include "engine/stage_metrics.hpp"
#include "operators/datagen/idx_images.hpp"
#include "operators/features/attribute_encoding.hpp"
#include "operators/features/image_loading.hpp"
#include "operators/features/wordpiece_tokenizer.hpp"

namespace tailflow::ops::features {

namespace {

std::string join_floats(const std::vector<float>& values) {
  std::string text;
  for (float v : values) text += fmt::format("{}{}", text.empty() ? "" : "/", v);
  return text;
}

// Runs `step` on this rank; an Error on any rank becomes a CollectiveError on every rank.
template <class Step>
void collectively(Context& ctx, Step&& step) {
  std::string message;
  try {
    step();
  } catch (const Error& e) {
    message = e.what();
  }
  ctx.check_collectively(message);
}

// The titles without their "(1995)", and the years found (only when some title over all ranks has one).
struct Titles {
  std::vector<std::string> text;
  std::vector<std::optional<double>> years;
  bool any_year = false;
};

Titles split_titles(Context& ctx, const Catalog& catalog, bool year_from_title) {
  Titles titles;
  std::uint64_t found = 0;
  for (const auto& record : catalog.local) {
    if (!year_from_title) {
      titles.text.push_back(record.title);
      titles.years.emplace_back();
      continue;
    }
    auto split = split_title_year(record.title);
    titles.text.push_back(std::move(split.title));
    titles.years.push_back(split.year ? std::optional<double>(*split.year) : std::nullopt);
    found += split.year.has_value();
  }
  titles.any_year = comm::allreduce_sum(ctx.comm(), found) > 0;
  return titles;
}

void add_text(Context& ctx, const Catalog& catalog, const Titles& titles, const FeatureOptions& options,
              ItemFeatureBlock& block) {
  std::vector<std::vector<std::uint32_t>> documents;
  documents.reserve(catalog.local.size());
  std::vector<std::vector<std::uint32_t>> catalog_documents;  // the items of the catalog count for df
  for (std::size_t i = 0; i < catalog.local.size(); ++i) {
    const auto& record = catalog.local[i];
    std::string text = titles.text[i] + " \n " + record.description;
    if (options.include_tags && !record.tags.empty()) text += " \n " + record.tags;
    documents.push_back(record.in_catalog ? hashed_terms(text, options.hashing)
                                          : std::vector<std::uint32_t>{});
    if (record.in_catalog) catalog_documents.push_back(documents.back());
  }
  auto weighting = TfIdfWeighting::fit(ctx, catalog_documents, options.hashing);
  block.text_buckets = std::int64_t{1} << options.hashing.hash_bits;
  for (const auto& terms : documents) block.text.append_row(weighting.weigh(terms));
  block.idf = weighting.idf();
}

// One column per category level: the path prefixes of each item at that level.
void add_categories(Context& ctx, const Catalog& catalog, const FeatureOptions& options,
                    std::vector<std::pair<std::string, std::vector<std::vector<std::string>>>>& columns) {
  std::vector<std::vector<std::vector<std::string>>> by_item;  // item -> level -> prefixes
  std::uint64_t depth = 0;
  for (const auto& record : catalog.local) {
    std::vector<std::vector<std::string>> levels;
    for (const auto& path : record.categories) {
      auto prefixes = category_path_prefixes(path, catalog.category_level_separator);
      if (prefixes.size() > levels.size()) levels.resize(prefixes.size());
      for (std::size_t l = 0; l < prefixes.size(); ++l)
        if (std::find(levels[l].begin(), levels[l].end(), prefixes[l]) == levels[l].end())
          levels[l].push_back(std::move(prefixes[l]));
    }
    depth = std::max<std::uint64_t>(depth, levels.size());
    by_item.push_back(std::move(levels));
  }
  depth = std::min<std::uint64_t>(comm::allreduce_max(ctx.comm(), depth),
                                  static_cast<std::uint64_t>(std::max(0, options.max_category_levels)));
  const std::string& base = catalog.layout.category_column;
  for (std::uint64_t l = 0; l < depth; ++l) {
    std::vector<std::vector<std::string>> values;
    for (auto& levels : by_item) values.push_back(l < levels.size() ? levels[l] : std::vector<std::string>{});
    columns.emplace_back(depth == 1 ? base : fmt::format("{}_level{}", base, l + 1), std::move(values));
  }
}

void add_categorical(Context& ctx, const Catalog& catalog, const Titles& titles,
                     const FeatureOptions& options, ItemFeatureBlock& block) {
  const auto& local = catalog.local;
  // name -> values per item (several for multi-valued columns)
  std::vector<std::pair<std::string, std::vector<std::vector<std::string>>>> columns;
  auto single = [&](auto value_of) {
    std::vector<std::vector<std::string>> values;
    for (std::size_t i = 0; i < local.size(); ++i) {
      std::string value = value_of(i);
      values.push_back(value.empty() ? std::vector<std::string>{}
                                     : std::vector<std::string>{std::move(value)});
    }
    return values;
  };
  if (!catalog.layout.brand_column.empty())
    columns.emplace_back(catalog.layout.brand_column, single([&](std::size_t i) { return local[i].brand; }));
  if (!catalog.layout.category_column.empty()) add_categories(ctx, catalog, options, columns);
  if (titles.any_year)
    columns.emplace_back("decade", single([&](std::size_t i) {
                           return titles.years[i] ? decade_of(static_cast<int>(*titles.years[i]))
                                                  : std::string();
                         }));
  for (std::size_t c = 0; c < catalog.layout.categorical_names.size(); ++c)
    columns.emplace_back(catalog.layout.categorical_names[c], single([&](std::size_t i) {
                           return local[i].in_catalog ? local[i].categorical[c] : "";
                         }));

  for (auto& [name, values] : columns) {
    std::vector<std::string> occurrences;
    std::uint64_t widest = 0;
    for (const auto& item_values : values) {
      occurrences.insert(occurrences.end(), item_values.begin(), item_values.end());
      widest = std::max<std::uint64_t>(widest, item_values.size());
    }
    auto vocabulary = CategoricalVocabulary::build(ctx, occurrences, options.min_count);
    if (comm::allreduce_max(ctx.comm(), widest) <= 1) {
      CategoricalColumn column{name, vocabulary.values(), {}};
      for (const auto& item_values : values)
        column.ids.push_back(item_values.empty() ? 0 : vocabulary.id_of(item_values.front()));
      block.categorical.push_back(std::move(column));
    } else {
      MultiValuedColumn column{name, vocabulary.values(), {}};
      for (const auto& item_values : values) {
        std::vector<std::pair<std::int64_t, float>> entries;
        for (const auto& value : item_values)
          entries.emplace_back(vocabulary.id_of(value), 1.0f / static_cast<float>(item_values.size()));
        std::sort(entries.begin(), entries.end());
        column.values.append_row(entries);
      }
      block.multi_valued.push_back(std::move(column));
    }
  }
}

void add_numeric(Context& ctx, const Catalog& catalog, const Titles& titles, ItemFeatureBlock& block) {
  const auto& local = catalog.local;
  struct Input {
    std::string name;
    NumericTransform transform;
    std::vector<std::optional<double>> values;
  };
  std::vector<Input> inputs;
  if (!catalog.layout.price_column.empty()) {
    Input price{"log_" + catalog.layout.price_column, NumericTransform::kLog1p, {}};
    for (const auto& record : local) price.values.push_back(record.price);
    inputs.push_back(std::move(price));
  }
  if (titles.any_year) inputs.push_back({"year", NumericTransform::kNone, titles.years});
  for (std::size_t c = 0; c < catalog.layout.numeric_names.size(); ++c) {
    Input extra{catalog.layout.numeric_names[c], NumericTransform::kNone, {}};
    for (const auto& record : local)
      extra.values.push_back(record.in_catalog ? record.numeric[c] : std::nullopt);
    inputs.push_back(std::move(extra));
  }
  std::vector<std::vector<float>> columns;
  for (const auto& input : inputs) {
    auto standardiser = NumericStandardiser::fit(ctx, input.values, input.transform);
    std::vector<float> column;
    for (const auto& value : input.values) column.push_back(standardiser.apply(value));
    block.numeric_columns.push_back(
        {input.name, standardiser.mean, standardiser.stddev, standardiser.missing});
    columns.push_back(std::move(column));
    if (standardiser.missing > 0) {
      std::vector<float> missing;
      for (const auto& value : input.values) missing.push_back(value ? 0.0f : 1.0f);
      block.numeric_columns.push_back({input.name + "_missing", 0.0, 1.0, 0});
      columns.push_back(std::move(missing));
    }
  }
  block.numeric.resize(local.size() * columns.size());
  for (std::size_t i = 0; i < local.size(); ++i)
    for (std::size_t c = 0; c < columns.size(); ++c) block.numeric[i * columns.size() + c] = columns[c][i];
}

void add_images(Context& ctx, const Catalog& catalog, const FeatureOptions& options,
                ItemFeatureBlock& block) {
  if (catalog.layout.image_column.empty())
    throw CollectiveError(
        fmt::format("{}: images were asked for (--image-size {}) but there is no image column", catalog.path,
                    options.image_size));
  const int size = options.image_size, channels = options.image_channels;
  block.image_shape = {channels, size, size};
  block.images.assign(catalog.local.size() * block.image_shape.values(), 0.0f);
  std::uint64_t missing = 0;
  collectively(ctx, [&] {
    std::optional<datagen::IdxImages> idx;
    if (!options.images_idx.empty()) idx = datagen::read_idx_images(options.images_idx);
    const std::filesystem::path root = !options.image_root.empty()
                                           ? std::filesystem::path(options.image_root)
                                           : std::filesystem::path(catalog.path).parent_path();
    for (std::size_t i = 0; i < catalog.local.size(); ++i) {
      const auto& record = catalog.local[i];
      if (record.image.empty()) {
        // A missing photo is the mean image (zeros after normalisation), not a black one.
        ++missing;
        continue;
      }
      Image image;
      if (idx) {
        std::uint64_t index = 0;
        if (io::parse_number(record.image, index) != io::NumberError::kNone)
          throw InputError(
              catalog.path, record.line, catalog.layout.image_column,
              fmt::format("'{}' is not a row number of the IDX file {}", record.image, options.images_idx));
        image = image_from_idx(*idx, index, channels);
      } else {
        std::filesystem::path file(record.image);
        image = load_image_file(file.is_absolute() ? file : root / file, channels);
      }
      if (image.height != size || image.width != size) image = resize_bilinear(image, size, size);
      normalise(image, options.image_mean, options.image_stddev);
      std::copy(image.pixels.begin(), image.pixels.end(),
                block.images.begin() + static_cast<std::ptrdiff_t>(i * block.image_shape.values()));
    }
  });
  missing = comm::allreduce_sum(ctx.comm(), missing);
  if (missing > 0) ctx.log().info("images: {} items have no image (their input is the mean image)", missing);
}

void add_tokens(Context& ctx, const Catalog& catalog, const Titles& titles, const FeatureOptions& options,
                ItemFeatureBlock& block) {
  std::optional<WordPieceTokenizer> tokenizer;
  collectively(ctx, [&] { tokenizer = WordPieceTokenizer::from_file(options.wordpiece_vocab); });
  const auto length = static_cast<std::size_t>(options.max_tokens);
  block.token_length = options.max_tokens;
  for (std::size_t i = 0; i < catalog.local.size(); ++i) {
    std::string text = titles.text[i];
    if (!catalog.local[i].description.empty()) text += " " + catalog.local[i].description;
    auto encoding = tokenizer->encode(text, length);
    block.token_ids.insert(block.token_ids.end(), encoding.ids.begin(), encoding.ids.end());
    block.attention_mask.insert(block.attention_mask.end(), encoding.attention_mask.begin(),
                                encoding.attention_mask.end());
  }
}

}  // namespace

std::string FeatureOptions::describe() const {
  std::string text =
      fmt::format("text={} [{}] tags={} year={} levels={} min_count={}", this->text, hashing.describe(),
                  include_tags, year_from_title, max_category_levels, min_count);
  if (image_size > 0)
    text +=
        fmt::format(" image={}x{}x{} idx={} root={} mean={} std={}", image_channels, image_size, image_size,
                    images_idx, image_root, join_floats(image_mean), join_floats(image_stddev));
  if (!wordpiece_vocab.empty())
    text += fmt::format(" wordpiece={} max_tokens={}", wordpiece_vocab, max_tokens);
  return text;
}

ItemFeatureBlock extract_features(Context& ctx, const Catalog& catalog, const FeatureOptions& options) {
  Stopwatch watch;
  if (options.image_size < 0 ||
      (options.image_size > 0 && options.image_channels != 1 && options.image_channels != 3))
    throw CollectiveError(fmt::format("image size {} / channels {}: the size must be >= 0, channels 1 or 3",
                                      options.image_size, options.image_channels));
  if (!options.wordpiece_vocab.empty() && options.max_tokens < 2)
    throw CollectiveError(
        fmt::format("--max-tokens must be at least 2 ([CLS] and [SEP]), not {}", options.max_tokens));
  ItemFeatureBlock block;
  block.total_items = catalog.total_items;
  block.first_row = catalog.first_row;
  for (const auto& record : catalog.local) {
    block.ids.push_back(record.id);
    block.interaction_counts.push_back(record.interactions);
    block.in_catalog.push_back(record.in_catalog);
  }
  Titles titles = split_titles(ctx, catalog, options.year_from_title);
  if (options.text) add_text(ctx, catalog, titles, options, block);
  add_categorical(ctx, catalog, titles, options, block);
  add_numeric(ctx, catalog, titles, block);
  if (options.image_size > 0) add_images(ctx, catalog, options, block);
  if (!options.wordpiece_vocab.empty()) add_tokens(ctx, catalog, titles, options, block);
  ctx.metrics().record(Stage{"features", catalog.local.size(), block.local_rows(), 0, watch.seconds()});
  return block;
}

}  // namespace tailflow::ops::features
