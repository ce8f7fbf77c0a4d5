#include "operators/learning/item_features.hpp"

#include <fmt/format.h>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"

namespace tailflow::ops::learning {
namespace {

void check_length(const char* what, std::size_t actual, std::size_t expected) {
  if (actual != expected)
    throw Error(fmt::format("item features: '{}' holds {} values, expected {} (items × columns)", what,
                            actual, expected));
}

// Copies row `row` of a row-major matrix with `width` columns to the end of `out`.
template <class T>
void append_row(std::vector<T>& out, const std::vector<T>& matrix, std::size_t width, std::int64_t row) {
  auto begin = matrix.begin() + static_cast<std::ptrdiff_t>(row * width);
  out.insert(out.end(), begin, begin + static_cast<std::ptrdiff_t>(width));
}

template <class T>
std::vector<T> allgather(Context& ctx, const std::vector<T>& local) {
  return comm::allgatherv(ctx.comm(), std::span<const T>(local));
}

}  // namespace

ItemFeatures empty_item_features(const FeatureSchema& schema) {
  ItemFeatures items;
  items.bags.resize(schema.bags.size());
  return items;
}

void validate(const ItemFeatures& items, const FeatureSchema& schema) {
  const std::size_t n = items.size();
  if (items.bags.size() != schema.bags.size())
    throw Error(fmt::format("item features: {} sparse bags, but the schema names {}", items.bags.size(),
                            schema.bags.size()));
  for (std::size_t b = 0; b < schema.bags.size(); ++b) {
    const SparseBags& bag = items.bags[b];
    const BagSchema& bag_schema = schema.bags[b];
    if (bag.offsets.size() != n + 1 || bag.offsets.front() != 0)
      throw Error(fmt::format("item features: bag '{}' needs {} offsets starting at 0, has {}",
                              bag_schema.name, n + 1, bag.offsets.size()));
    for (std::size_t i = 0; i < n; ++i)
      if (bag.offsets[i + 1] < bag.offsets[i])
        throw Error(fmt::format("item features: bag '{}' offsets descend at item {}", bag_schema.name,
                                items.item_ids[i]));
    if (static_cast<std::size_t>(bag.offsets.back()) != bag.ids.size() ||
        bag.weights.size() != bag.ids.size())
      throw Error(fmt::format("item features: bag '{}' has {} ids and {} weights, offsets end at {}",
                              bag_schema.name, bag.ids.size(), bag.weights.size(), bag.offsets.back()));
    for (std::int64_t id : bag.ids)
      if (id < 0 || id >= bag_schema.vocabulary_size)
        throw Error(fmt::format("item features: bag '{}' holds id {} outside its vocabulary of {}",
                                bag_schema.name, id, bag_schema.vocabulary_size));
  }
  const std::size_t columns = schema.categorical.size();
  check_length("categorical", items.categorical.size(), n * columns);
  for (std::size_t i = 0; i < items.categorical.size(); ++i) {
    const CategoricalSchema& column = schema.categorical[i % columns];
    std::int64_t id = items.categorical[i];
    if (id < 0 || id >= column.vocabulary_size)
      throw Error(
          fmt::format("item features: item {} has {} id {}, outside its vocabulary of {} (0 = unknown)",
                      items.item_ids[i / columns], column.name, id, column.vocabulary_size));
  }
  check_length("numeric", items.numeric.size(), n * schema.numeric.size());
  check_length("images", items.images.size(), schema.has_image() ? n * schema.image_size() : 0);
  check_length("dense", items.dense.size(), n * schema.dense_dims);
}

ItemFeatures select_rows(const ItemFeatures& items, const FeatureSchema& schema,
                         std::span<const std::int64_t> rows) {
  ItemFeatures out = empty_item_features(schema);
  out.item_ids.reserve(rows.size());
  for (std::int64_t row : rows) out.item_ids.push_back(items.item_ids[row]);
  for (std::size_t b = 0; b < items.bags.size(); ++b) {
    const SparseBags& in = items.bags[b];
    SparseBags& bag = out.bags[b];
    for (std::int64_t row : rows) {
      auto begin = in.offsets[row];
      auto end = in.offsets[row + 1];
      bag.ids.insert(bag.ids.end(), in.ids.begin() + begin, in.ids.begin() + end);
      bag.weights.insert(bag.weights.end(), in.weights.begin() + begin, in.weights.begin() + end);
      bag.offsets.push_back(static_cast<std::int64_t>(bag.ids.size()));
    }
  }
  const std::size_t image_size = schema.has_image() ? static_cast<std::size_t>(schema.image_size()) : 0;
  for (std::int64_t row : rows) {
    append_row(out.categorical, items.categorical, schema.categorical.size(), row);
    append_row(out.numeric, items.numeric, schema.numeric.size(), row);
    if (image_size) append_row(out.images, items.images, image_size, row);
    if (schema.dense_dims)
      append_row(out.dense, items.dense, static_cast<std::size_t>(schema.dense_dims), row);
  }
  return out;
}

void append(ItemFeatures& items, const ItemFeatures& more, const FeatureSchema& schema) {
  items.item_ids.insert(items.item_ids.end(), more.item_ids.begin(), more.item_ids.end());
  if (items.bags.size() != schema.bags.size()) items.bags.resize(schema.bags.size());
  for (std::size_t b = 0; b < schema.bags.size(); ++b) {
    SparseBags& bag = items.bags[b];
    const SparseBags& extra = more.bags[b];
    const std::int64_t shift = static_cast<std::int64_t>(bag.ids.size());
    bag.ids.insert(bag.ids.end(), extra.ids.begin(), extra.ids.end());
    bag.weights.insert(bag.weights.end(), extra.weights.begin(), extra.weights.end());
    for (std::size_t i = 1; i < extra.offsets.size(); ++i) bag.offsets.push_back(extra.offsets[i] + shift);
  }
  items.categorical.insert(items.categorical.end(), more.categorical.begin(), more.categorical.end());
  items.numeric.insert(items.numeric.end(), more.numeric.begin(), more.numeric.end());
  items.images.insert(items.images.end(), more.images.begin(), more.images.end());
  items.dense.insert(items.dense.end(), more.dense.begin(), more.dense.end());
}

ItemFeatures allgather_items(Context& ctx, const ItemFeatures& local, const FeatureSchema& schema) {
  ItemFeatures all = empty_item_features(schema);
  std::vector<std::size_t> counts;
  all.item_ids = comm::allgatherv(ctx.comm(), std::span<const std::uint64_t>(local.item_ids), &counts);
  for (std::size_t b = 0; b < schema.bags.size(); ++b) {
    const SparseBags& mine = local.bags[b];
    SparseBags& bag = all.bags[b];
    bag.ids = allgather(ctx, mine.ids);
    bag.weights = allgather(ctx, mine.weights);
    // Per-item lengths travel instead of offsets, which are relative to each rank's own arrays.
    std::vector<std::int64_t> lengths(local.size());
    for (std::size_t i = 0; i < local.size(); ++i) lengths[i] = mine.offsets[i + 1] - mine.offsets[i];
    std::vector<std::int64_t> all_lengths = allgather(ctx, lengths);
    bag.offsets.assign(1, 0);
    for (std::int64_t length : all_lengths) bag.offsets.push_back(bag.offsets.back() + length);
  }
  all.categorical = allgather(ctx, local.categorical);
  all.numeric = allgather(ctx, local.numeric);
  all.images = allgather(ctx, local.images);
  all.dense = allgather(ctx, local.dense);
  return all;
}

KeyValues to_key_values(const FeatureSchema& schema) {
  KeyValues values;
  std::vector<std::string> bag_names, bag_sizes, categorical_names, categorical_sizes;
  for (const BagSchema& bag : schema.bags) {
    bag_names.push_back(bag.name);
    bag_sizes.push_back(std::to_string(bag.vocabulary_size));
  }
  for (const CategoricalSchema& column : schema.categorical) {
    categorical_names.push_back(column.name);
    categorical_sizes.push_back(std::to_string(column.vocabulary_size));
  }
  values["schema.bags"] = join(bag_names);
  values["schema.bag_vocabulary_sizes"] = join(bag_sizes);
  values["schema.categorical"] = join(categorical_names);
  values["schema.categorical_vocabulary_sizes"] = join(categorical_sizes);
  values["schema.numeric"] = join(schema.numeric);
  values["schema.image_channels"] = std::to_string(schema.image_channels);
  values["schema.image_height"] = std::to_string(schema.image_height);
  values["schema.image_width"] = std::to_string(schema.image_width);
  values["schema.dense_dims"] = std::to_string(schema.dense_dims);
  return values;
}

FeatureSchema feature_schema_from(const KeyValues& values) {
  auto list = [&](const std::string& key) { return split(required_value(values, key)); };
  auto integer = [&](const std::string& key) { return parse_int(key, required_value(values, key)); };
  FeatureSchema schema;
  auto bag_names = list("schema.bags");
  auto bag_sizes = list("schema.bag_vocabulary_sizes");
  auto categorical_names = list("schema.categorical");
  auto categorical_sizes = list("schema.categorical_vocabulary_sizes");
  if (bag_names.size() != bag_sizes.size() || categorical_names.size() != categorical_sizes.size())
    throw Error("feature schema: the number of names and vocabulary sizes differ");
  for (std::size_t i = 0; i < bag_names.size(); ++i)
    schema.bags.push_back({bag_names[i], parse_int("schema.bag_vocabulary_sizes", bag_sizes[i])});
  for (std::size_t i = 0; i < categorical_names.size(); ++i)
    schema.categorical.push_back(
        {categorical_names[i], parse_int("schema.categorical_vocabulary_sizes", categorical_sizes[i])});
  schema.numeric = list("schema.numeric");
  schema.image_channels = integer("schema.image_channels");
  schema.image_height = integer("schema.image_height");
  schema.image_width = integer("schema.image_width");
  schema.dense_dims = integer("schema.dense_dims");
  return schema;
}

std::string describe(const FeatureSchema& schema) {
  std::string bags;
  for (const BagSchema& bag : schema.bags)
    bags += fmt::format("{}{} {}", bags.empty() ? "" : ", ", bag.name, bag.vocabulary_size);
  std::string text = fmt::format("{} bags ({}), {} categorical, {} numeric", schema.bags.size(), bags,
                                 schema.categorical.size(), schema.numeric.size());
  if (schema.has_image())
    text += fmt::format(", image {}×{}×{}", schema.image_channels, schema.image_height, schema.image_width);
  if (schema.dense_dims) text += fmt::format(", dense {}", schema.dense_dims);
  return text;
}

}  // namespace tailflow::ops::learning
