#include "operators/learning/synthetic_content.hpp"

#include <cmath>
#include <numbers>

#include "operators/common/seeded_hash.hpp"

namespace tailflow::ops::learning {
namespace {

// Streams of the generator, kept apart by salt.
enum Stream : std::uint64_t { kText = 1, kWeight, kBrand, kNumeric, kPixel, kDense, kNoise, kMatrix };

double uniform(std::uint64_t seed, Stream stream, std::uint64_t a, std::uint64_t b) {
  return unit_interval(seeded_hash(seed, stream, a, b));
}

// Box–Muller from two hashed uniforms.
double normal(std::uint64_t seed, Stream stream, std::uint64_t a, std::uint64_t b) {
  double u1 = std::max(1e-12, uniform(seed, stream, a, 2 * b));
  double u2 = uniform(seed, stream, a, 2 * b + 1);
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
}

// Entry (row, column) of one of the fixed random matrices, identified by `matrix`.
double weight(const SyntheticContentShape& shape, std::uint64_t matrix, std::uint64_t row,
              std::int64_t column) {
  return normal(shape.seed, kMatrix, (matrix << 40) ^ row, static_cast<std::uint64_t>(column));
}

}  // namespace

FeatureSchema synthetic_schema(const SyntheticContentShape& shape) {
  FeatureSchema schema;
  schema.bags.push_back({"text", shape.text_vocabulary});
  if (shape.brands > 0) schema.categorical.push_back({"brand", shape.brands + 1});
  for (std::int64_t c = 0; c < shape.numeric; ++c) schema.numeric.push_back("numeric_" + std::to_string(c));
  if (shape.image_channels > 0) {
    schema.image_channels = shape.image_channels;
    schema.image_height = schema.image_width = shape.image_side;
  }
  schema.dense_dims = shape.dense;
  return schema;
}

ItemFeatures synthetic_items(const SyntheticContentShape& shape, std::uint64_t first, std::uint64_t last) {
  const FeatureSchema schema = synthetic_schema(shape);
  ItemFeatures items = empty_item_features(schema);
  const std::uint64_t seed = shape.seed;
  const std::int64_t image_size = schema.has_image() ? schema.image_size() : 0;
  for (std::uint64_t id = first; id < last; ++id) {
    items.item_ids.push_back(id);
    SparseBags& text = items.bags[0];
    for (std::int64_t j = 0; j < shape.text_per_item; ++j) {
      auto slot = static_cast<std::uint64_t>(j);
      text.ids.push_back(static_cast<std::int64_t>(seeded_hash(seed, kText, id, slot) %
                                                   static_cast<std::uint64_t>(shape.text_vocabulary)));
      text.weights.push_back(static_cast<float>(0.2 + 0.8 * uniform(seed, kWeight, id, slot)));
    }
    text.offsets.push_back(static_cast<std::int64_t>(text.ids.size()));
    if (shape.brands > 0)
      items.categorical.push_back(1 + static_cast<std::int64_t>(seeded_hash(seed, kBrand, id, 0) %
                                                                static_cast<std::uint64_t>(shape.brands)));
    for (std::int64_t c = 0; c < shape.numeric; ++c)
      items.numeric.push_back(static_cast<float>(normal(seed, kNumeric, id, static_cast<std::uint64_t>(c))));
    for (std::int64_t p = 0; p < image_size; ++p)
      items.images.push_back(static_cast<float>(uniform(seed, kPixel, id, static_cast<std::uint64_t>(p))));
    for (std::int64_t d = 0; d < shape.dense; ++d)
      items.dense.push_back(
          static_cast<float>(2 * uniform(seed, kDense, id, static_cast<std::uint64_t>(d)) - 1));
  }
  return items;
}

std::vector<float> synthetic_targets(const SyntheticContentShape& shape, const ItemFeatures& items) {
  const std::int64_t k = shape.dims;
  const std::int64_t image_size = shape.image_channels * shape.image_side * shape.image_side;
  std::vector<float> targets;
  targets.reserve(items.size() * static_cast<std::size_t>(k));
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::uint64_t id = items.item_ids[i];
    double image_mean = 0;
    for (std::int64_t p = 0; p < image_size; ++p) image_mean += items.images[i * image_size + p];
    if (image_size) image_mean = image_mean / static_cast<double>(image_size) - 0.5;
    for (std::int64_t d = 0; d < k; ++d) {
      double value = 0;
      const SparseBags& text = items.bags[0];
      for (auto e = text.offsets[i]; e < text.offsets[i + 1]; ++e)
        value += text.weights[e] * weight(shape, 1, static_cast<std::uint64_t>(text.ids[e]), d) /
                 std::sqrt(static_cast<double>(shape.text_per_item));
      if (shape.brands > 0) value += weight(shape, 2, static_cast<std::uint64_t>(items.categorical[i]), d);
      for (std::int64_t c = 0; c < shape.numeric; ++c)
        value += items.numeric[i * shape.numeric + c] * weight(shape, 3, static_cast<std::uint64_t>(c), d);
      if (image_size) value += 4 * image_mean * weight(shape, 4, 0, d);
      for (std::int64_t c = 0; c < shape.dense; ++c)
        value += items.dense[i * shape.dense + c] * weight(shape, 5, static_cast<std::uint64_t>(c), d);
      if (shape.noise > 0)
        value += shape.noise * normal(shape.seed, kNoise, id, static_cast<std::uint64_t>(d));
      targets.push_back(static_cast<float>(value));
    }
  }
  return targets;
}

}  // namespace tailflow::ops::learning
