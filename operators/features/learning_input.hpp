// Feature rows in the regressor's input format (operators/learning/item_features.hpp, torch-free).
//
// The mapping: the text bag comes first ("text", vocabulary = hash buckets), then each multi-valued column as
// a bag (vocabulary = its values, "unknown" included); categorical columns keep their order; numeric columns
// keep theirs; images keep their shape. item_ids are global rows, i.e. ALS item indices. WordPiece tokens are
// not part of this format: a TorchScript text encoder turns them into a dense block first. The dense blocks
// (pretrained text and image encoder outputs) are concatenated, in block order, into the one `dense` input,
// which the model's single dense tower (Linear + ReLU) reads.
//
// Header-only on purpose: it fills plain structs, so code in tailflow_operators can use it without linking
// tailflow_learning (which links LibTorch).
#pragma once

#include <utility>

#include "operators/features/item_features.hpp"
#include "operators/learning/item_features.hpp"

namespace tailflow::ops::features {

struct LearningInput {
  learning::FeatureSchema schema;
  learning::ItemFeatures items;
};

inline learning::SparseBags to_sparse_bags(const SparseRows& rows) {
  learning::SparseBags bags;
  bags.ids = rows.ids;
  bags.weights = rows.weights;
  bags.offsets = rows.offsets;
  return bags;
}

inline LearningInput to_learning_input(const ItemFeatureBlock& block) {
  LearningInput input;
  auto& schema = input.schema;
  auto& items = input.items;
  for (std::size_t i = 0; i < block.local_rows(); ++i) items.item_ids.push_back(block.first_row + i);
  if (block.text_buckets > 0) {
    schema.bags.push_back({"text", block.text_buckets});
    items.bags.push_back(to_sparse_bags(block.text));
  }
  for (const auto& column : block.multi_valued) {
    schema.bags.push_back({column.name, static_cast<std::int64_t>(column.vocabulary.size())});
    items.bags.push_back(to_sparse_bags(column.values));
  }
  for (const auto& column : block.categorical)
    schema.categorical.push_back({column.name, static_cast<std::int64_t>(column.vocabulary.size())});
  const std::size_t columns = block.categorical.size();
  items.categorical.resize(block.local_rows() * columns);
  for (std::size_t c = 0; c < columns; ++c)
    for (std::size_t i = 0; i < block.local_rows(); ++i)
      items.categorical[i * columns + c] = block.categorical[c].ids[i];
  for (const auto& column : block.numeric_columns) schema.numeric.push_back(column.name);
  items.numeric = block.numeric;
  schema.image_channels = block.image_shape.channels;
  schema.image_height = block.image_shape.height;
  schema.image_width = block.image_shape.width;
  items.images = block.images;
  for (const auto& dense : block.dense) schema.dense_dims += dense.dims;
  if (schema.dense_dims > 0) {
    items.dense.reserve(block.local_rows() * static_cast<std::size_t>(schema.dense_dims));
    for (std::size_t i = 0; i < block.local_rows(); ++i)
      for (const auto& dense : block.dense) {
        const auto width = static_cast<std::ptrdiff_t>(dense.dims);
        auto row = dense.values.begin() + static_cast<std::ptrdiff_t>(i) * width;
        items.dense.insert(items.dense.end(), row, row + width);
      }
  }
  return input;
}

}  // namespace tailflow::ops::features
