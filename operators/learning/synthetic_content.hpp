// Synthetic items whose ALS-like target vectors are a known function of their content: for tests (can the
// regressor learn it?) and `tailflow bench train` (a realistic input shape without a dataset).
//
// Item i (a global id) gets, from seeded hashes of (seed, i) only — so any rank can generate any item:
//   text:    `text_per_item` ids from a vocabulary of `text_vocabulary`, TF-IDF-like weights in [0.2, 1]
//   brand:   one categorical id in 1 .. brands (0 stays "unknown")
//   numeric: `numeric` values, roughly standard normal
//   image:   optional channels × side × side pixels in [0, 1]
//   dense:   optional `dense` values in [−1, 1]
// and target = Σ weight · T[text id] + B[brand] + M · numeric + image mean · v + D · dense (+ noise), with
// T, B, M, v, D fixed random matrices: linear in the features, so a good regressor fits it closely.
#pragma once

#include <cstdint>
#include <vector>

#include "operators/learning/item_features.hpp"

namespace tailflow::ops::learning {

struct SyntheticContentShape {
  std::int64_t dims = 8;  // target (ALS factor) dimensions
  std::int64_t text_vocabulary = 1000;
  std::int64_t text_per_item = 12;
  std::int64_t brands = 20;
  std::int64_t numeric = 3;
  std::int64_t image_channels = 0;  // 0 = no image
  std::int64_t image_side = 0;
  std::int64_t dense = 0;
  double noise = 0.0;  // standard deviation of Gaussian noise added to the targets
  std::uint64_t seed = 7;
};

FeatureSchema synthetic_schema(const SyntheticContentShape& shape);

// Items with ids first .. last−1.
ItemFeatures synthetic_items(const SyntheticContentShape& shape, std::uint64_t first, std::uint64_t last);

// The target vectors of `items` (items × dims, row-major).
std::vector<float> synthetic_targets(const SyntheticContentShape& shape, const ItemFeatures& items);

}  // namespace tailflow::ops::learning
