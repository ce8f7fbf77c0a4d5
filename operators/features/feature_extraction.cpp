#include "operators/features/feature_extraction.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <span>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/stage_metrics.hpp"
#include "operators/features/attribute_encoding.hpp"
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

Titles split_titles(Context& ctx, const Catalog& catalog, bool year_from_title,
                    const ItemFeatureBlock* frozen) {
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
  titles.any_year = frozen ? frozen->title_years : comm::allreduce_sum(ctx.comm(), found) > 0;
  return titles;
}

void add_text(Context& ctx, const Catalog& catalog, const Titles& titles, const FeatureOptions& options,
              const ItemFeatureBlock* frozen, ItemFeatureBlock& block) {
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
  block.text_buckets = std::int64_t{1} << options.hashing.hash_bits;
  if (frozen && static_cast<std::int64_t>(frozen->idf.size()) != block.text_buckets)
    throw CollectiveError(
        fmt::format("frozen feature tables: an idf table of {} buckets, the settings ask for {}",
                    frozen->idf.size(), block.text_buckets));
  auto weighting =
      frozen ? TfIdfWeighting(frozen->idf) : TfIdfWeighting::fit(ctx, catalog_documents, options.hashing);
  for (const auto& terms : documents) block.text.append_row(weighting.weigh(terms));
  block.idf = weighting.idf();
}

using ValueColumns = std::vector<std::pair<std::string, std::vector<std::vector<std::string>>>>;

// One column per category level: the path prefixes of each item at that level. Returns the levels used.
int add_categories(Context& ctx, const Catalog& catalog, const FeatureOptions& options,
                   const ItemFeatureBlock* frozen, ValueColumns& columns) {
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
  depth = frozen
              ? static_cast<std::uint64_t>(frozen->category_levels)
              : std::min<std::uint64_t>(comm::allreduce_max(ctx.comm(), depth),
                                        static_cast<std::uint64_t>(std::max(0, options.max_category_levels)));
  const std::string& base = catalog.layout.category_column;
  for (std::uint64_t l = 0; l < depth; ++l) {
    std::vector<std::vector<std::string>> values;
    for (auto& levels : by_item) values.push_back(l < levels.size() ? levels[l] : std::vector<std::string>{});
    columns.emplace_back(depth == 1 ? base : fmt::format("{}_level{}", base, l + 1), std::move(values));
  }
  return static_cast<int>(depth);
}

void add_categorical(Context& ctx, const Catalog& catalog, const Titles& titles,
                     const FeatureOptions& options, const ItemFeatureBlock* frozen, ItemFeatureBlock& block) {
  const auto& local = catalog.local;
  ValueColumns columns;  // name -> values per item (several for multi-valued columns)
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
  if (!catalog.layout.category_column.empty())
    block.category_levels = add_categories(ctx, catalog, options, frozen, columns);
  if (titles.any_year)
    columns.emplace_back("decade", single([&](std::size_t i) {
                           return titles.years[i] ? decade_of(static_cast<int>(*titles.years[i]))
                                                  : std::string();
                         }));
  for (std::size_t c = 0; c < catalog.layout.categorical_names.size(); ++c)
    columns.emplace_back(catalog.layout.categorical_names[c], single([&](std::size_t i) {
                           return local[i].in_catalog ? local[i].categorical[c] : "";
                         }));

  auto plain_column = [&](const std::string& name, const CategoricalVocabulary& vocabulary,
                          const std::vector<std::vector<std::string>>& values) {
    CategoricalColumn column{name, vocabulary.values(), {}};
    for (const auto& item_values : values)
      column.ids.push_back(item_values.empty() ? 0 : vocabulary.id_of(item_values.front()));
    block.categorical.push_back(std::move(column));
  };
  auto multi_column = [&](const std::string& name, const CategoricalVocabulary& vocabulary,
                          const std::vector<std::vector<std::string>>& values) {
    MultiValuedColumn column{name, vocabulary.values(), {}};
    for (const auto& item_values : values) {
      std::vector<std::pair<std::int64_t, float>> entries;
      for (const auto& value : item_values)
        entries.emplace_back(vocabulary.id_of(value), 1.0f / static_cast<float>(item_values.size()));
      std::sort(entries.begin(), entries.end());
      column.values.append_row(entries);
    }
    block.multi_valued.push_back(std::move(column));
  };

  if (frozen) {
    // The frozen block's columns, in its order; a column the new rows lack is all unknown.
    const std::vector<std::vector<std::string>> none(local.size());
    auto values_of = [&](const std::string& name) -> const std::vector<std::vector<std::string>>& {
      for (const auto& [column, values] : columns)
        if (column == name) return values;
      return none;
    };
    for (const auto& column : frozen->categorical)
      plain_column(column.name, CategoricalVocabulary(column.vocabulary), values_of(column.name));
    for (const auto& column : frozen->multi_valued)
      multi_column(column.name, CategoricalVocabulary(column.vocabulary), values_of(column.name));
    return;
  }
  for (auto& [name, values] : columns) {
    std::vector<std::string> occurrences;
    std::uint64_t widest = 0;
    for (const auto& item_values : values) {
      occurrences.insert(occurrences.end(), item_values.begin(), item_values.end());
      widest = std::max<std::uint64_t>(widest, item_values.size());
    }
    auto vocabulary = CategoricalVocabulary::build(ctx, occurrences, options.min_count);
    if (comm::allreduce_max(ctx.comm(), widest) <= 1)
      plain_column(name, vocabulary, values);
    else
      multi_column(name, vocabulary, values);
  }
}

void add_numeric(Context& ctx, const Catalog& catalog, const Titles& titles, const ItemFeatureBlock* frozen,
                 ItemFeatureBlock& block) {
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
  auto missing_flags = [](const std::vector<std::optional<double>>& values) {
    std::vector<float> flags;
    for (const auto& value : values) flags.push_back(value ? 0.0f : 1.0f);
    return flags;
  };
  std::vector<std::vector<float>> columns;
  if (frozen) {
    // The frozen columns with their stored statistics; an input the new rows lack is all missing (0), and a
    // "<name>_missing" column follows its input as in the run that built the tables.
    std::vector<Input> absent;  // inputs the new rows lack: all missing
    absent.reserve(frozen->numeric_columns.size());
    const Input* previous = nullptr;
    for (const auto& stats : frozen->numeric_columns) {
      if (previous && stats.name == previous->name + "_missing") {
        columns.push_back(missing_flags(previous->values));
        block.numeric_columns.push_back(stats);
        previous = nullptr;
        continue;
      }
      previous = nullptr;
      for (const auto& input : inputs)
        if (input.name == stats.name) previous = &input;
      if (!previous) {
        absent.push_back({stats.name, NumericTransform::kNone, {}});
        absent.back().values.resize(local.size());
        previous = &absent.back();
      }
      NumericStandardiser standardiser;
      standardiser.transform = previous->transform;
      standardiser.mean = stats.mean;
      standardiser.stddev = stats.stddev;
      std::vector<float> column;
      for (const auto& value : previous->values) column.push_back(standardiser.apply(value));
      columns.push_back(std::move(column));
      block.numeric_columns.push_back(stats);
    }
  } else {
    for (const auto& input : inputs) {
      auto standardiser = NumericStandardiser::fit(ctx, input.values, input.transform);
      std::vector<float> column;
      for (const auto& value : input.values) column.push_back(standardiser.apply(value));
      block.numeric_columns.push_back(
          {input.name, standardiser.mean, standardiser.stddev, standardiser.missing});
      columns.push_back(std::move(column));
      if (standardiser.missing > 0) {
        block.numeric_columns.push_back({input.name + "_missing", 0.0, 1.0, 0});
        columns.push_back(missing_flags(input.values));
      }
    }
  }
  block.numeric.resize(local.size() * columns.size());
  for (std::size_t i = 0; i < local.size(); ++i)
    for (std::size_t c = 0; c < columns.size(); ++c) block.numeric[i * columns.size() + c] = columns[c][i];
}

void add_images(Context& ctx, const Catalog& catalog, const FeatureOptions& options, bool frozen,
                ItemFeatureBlock& block) {
  if (catalog.layout.image_column.empty() && !frozen)
    throw CollectiveError(
        fmt::format("{}: images were asked for (--image-size {}) but there is no image column", catalog.path,
                    options.image_size));
  const int size = options.image_size, channels = options.image_channels;
  block.image_shape = {channels, size, size};
  const std::size_t values = block.image_shape.values();
  block.images.assign(catalog.local.size() * values, 0.0f);
  std::uint64_t missing = 0;
  collectively(ctx, [&] {
    CatalogImageLoader loader(catalog, options.image_options());
    for (std::size_t i = 0; i < catalog.local.size(); ++i)
      missing += !loader.load(catalog.local[i], std::span<float>(block.images).subspan(i * values, values));
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

CatalogImageOptions FeatureOptions::image_options() const {
  return {images_idx, image_root, image_size, image_channels, image_mean, image_stddev};
}

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
  if (!text_encoder.empty()) text += fmt::format(" text_encoder={} pooling={}", text_encoder, text_pooling);
  if (!image_encoder.empty()) text += fmt::format(" image_encoder={}", image_encoder);
  return text;
}

ItemFeatureBlock extract_features(Context& ctx, const Catalog& catalog, const FeatureOptions& options,
                                  const ItemFeatureBlock* frozen) {
  Stopwatch watch;
  if (options.image_size < 0 ||
      (options.image_size > 0 && options.image_channels != 1 && options.image_channels != 3))
    throw CollectiveError(fmt::format("image size {} / channels {}: the size must be >= 0, channels 1 or 3",
                                      options.image_size, options.image_channels));
  if (!options.wordpiece_vocab.empty() && options.max_tokens < 2)
    throw CollectiveError(
        fmt::format("--max-tokens must be at least 2 ([CLS] and [SEP]), not {}", options.max_tokens));
  if (!options.text_encoder.empty() && options.wordpiece_vocab.empty())
    throw CollectiveError(
        "--text-encoder needs --wordpiece-vocab: the vocab.txt the encoder was trained with");
  if (!options.image_encoder.empty() && options.image_size == 0)
    throw CollectiveError(
        "--image-encoder needs --image-size: the input size of the backbone (224 for ResNeXt-50)");
  if (options.text_pooling != "cls" && options.text_pooling != "mean")
    throw CollectiveError(fmt::format("--text-pooling '{}': expected cls or mean", options.text_pooling));
  ItemFeatureBlock block;
  block.total_items = catalog.total_items;
  block.first_row = catalog.first_row;
  for (const auto& record : catalog.local) {
    block.ids.push_back(record.id);
    block.interaction_counts.push_back(record.interactions);
    block.in_catalog.push_back(record.in_catalog);
  }
  Titles titles = split_titles(ctx, catalog, options.year_from_title, frozen);
  block.title_years = titles.any_year;
  if (frozen ? frozen->text_buckets > 0 : options.text)
    add_text(ctx, catalog, titles, options, frozen, block);
  add_categorical(ctx, catalog, titles, options, frozen, block);
  add_numeric(ctx, catalog, titles, frozen, block);
  // With a pretrained backbone the pixels go to it (operators/learning/pretrained_features.hpp) in batches.
  if (options.image_size > 0 && options.image_encoder.empty())
    add_images(ctx, catalog, options, frozen != nullptr, block);
  if (!options.wordpiece_vocab.empty()) add_tokens(ctx, catalog, titles, options, block);
  ctx.metrics().record(Stage{"features", catalog.local.size(), block.local_rows(), 0, watch.seconds()});
  return block;
}

ItemFeatureBlock tables_of(const ItemFeatureBlock& block) {
  ItemFeatureBlock tables;
  tables.total_items = 0;
  tables.text_buckets = block.text_buckets;
  tables.text.offsets = {0};
  tables.idf = block.idf;
  tables.category_levels = block.category_levels;
  tables.title_years = block.title_years;
  for (const auto& column : block.categorical)
    tables.categorical.push_back({column.name, column.vocabulary, {}});
  for (const auto& column : block.multi_valued)
    tables.multi_valued.push_back({column.name, column.vocabulary, {}});
  tables.numeric_columns = block.numeric_columns;
  tables.image_shape = block.image_shape;
  tables.token_length = block.token_length;
  for (const auto& dense : block.dense) tables.dense.push_back({dense.name, dense.dims, {}});
  return tables;
}

}  // namespace tailflow::ops::features
