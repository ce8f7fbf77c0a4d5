// The content → embedding network (LibTorch; include only from operators/learning/*.cpp).
//
//   sparse bags ──► EmbeddingBag (sum, per-sample weights) per bag ─┐
//   categorical ──► Embedding per column (row 0 = unknown) ─────────┤
//   numeric ──────► Linear + ReLU ──────────────────────────────────┼─► concat ─► [Linear ─► LayerNorm ─►
//   image ────────► 3 × (Conv 3×3 ─► ReLU ─► MaxPool 2) ─► mean ─► Linear + ReLU ┤     ReLU ─► Dropout]*
//   dense vector ─► Linear + ReLU ──────────────────────────────────┘            ─► Linear ─► k outputs
// With options.wide, each sparse bag, categorical column and the numeric columns also map linearly straight
// to the k outputs (EmbeddingBag / Embedding / Linear of width k, zero at the start), added to the MLP's.
//
// No batch-dependent layer (no BatchNorm): each item's output depends on that item alone, so splitting a
// batch across ranks changes nothing but the order of summation. Dropout masks come from per-sample keys
// that the caller puts in the batch (dropout_mask.hpp), never from LibTorch's global generator (ranks
// running as threads share that), so they do not depend on which rank processes a sample either.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <span>
#include <vector>

#include "operators/learning/item_features.hpp"
#include "operators/learning/regressor_options.hpp"

namespace tailflow::ops::learning {

// One batch of items as tensors.
struct FeatureBatch {
  std::int64_t size = 0;
  std::vector<torch::Tensor> bag_ids, bag_offsets, bag_weights;  // per bag: [nnz] long, [size] long, [nnz]
  torch::Tensor categorical;                                     // [size, columns] long
  torch::Tensor numeric;                                         // [size, numeric columns]
  torch::Tensor images;                                          // [size, C, H, W]
  torch::Tensor dense;                                           // [size, dense dims]
  // Per sample: the key its dropout masks derive from. Needed when training with dropout > 0.
  std::vector<std::uint64_t> dropout_keys;
};

// The rows `rows` of `items` (local indices) as a batch.
FeatureBatch make_batch(const ItemFeatures& items, const FeatureSchema& schema,
                        std::span<const std::int64_t> rows);

class ContentModelImpl : public torch::nn::Module {
 public:
  ContentModelImpl(const FeatureSchema& schema, const RegressorOptions& options, std::int64_t outputs);

  torch::Tensor forward(const FeatureBatch& batch);

  std::int64_t outputs() const { return outputs_; }

  // The embedding tables of sparse bag `b` and categorical column `c` (schema order): [rows, dims]. A batch
  // gives non-zero gradients only to the rows it looks up.
  torch::Tensor bag_table(std::size_t b) const { return bags_.at(b)->weight; }
  torch::Tensor categorical_table(std::size_t c) const { return categorical_.at(c)->weight; }

 private:
  torch::Tensor dropout(const torch::Tensor& x, std::int64_t layer, const FeatureBatch& batch) const;

  FeatureSchema schema_;
  double dropout_;
  std::int64_t outputs_;
  std::vector<torch::nn::EmbeddingBag> bags_;
  std::vector<torch::nn::Embedding> categorical_;
  torch::nn::Linear numeric_{nullptr};
  torch::nn::Sequential image_{nullptr};
  torch::nn::Linear dense_{nullptr};
  std::vector<torch::nn::Linear> hidden_;
  std::vector<torch::nn::LayerNorm> norms_;
  torch::nn::Linear output_{nullptr};
  // The wide (linear) path; empty unless options.wide.
  std::vector<torch::nn::EmbeddingBag> wide_bags_;
  std::vector<torch::nn::Embedding> wide_categorical_;
  torch::nn::Linear wide_numeric_{nullptr};
};
TORCH_MODULE(ContentModel);

// Sets every parameter from a generator seeded with `seed` (PyTorch's default ranges: uniform ±1/√fan_in for
// linear and conv layers, N(0, 1/√dims) for embeddings, LayerNorm 1 and 0, the wide path 0), so equal seeds
// give equal weights whatever else runs on other threads.
void initialise_parameters(ContentModelImpl& model, std::uint64_t seed);

// All parameters, in registration order, flattened into one vector (for equality checks).
std::vector<float> flatten_parameters(const torch::nn::Module& model);

}  // namespace tailflow::ops::learning
