// The content → embedding network (LibTorch; include only from operators/learning/*.cpp).
//
//   sparse bags ──► EmbeddingBag (sum, per-sample weights) per bag ─┐
//   categorical ──► Embedding per column (row 0 = unknown) ─────────┤
//   numeric ──────► Linear + ReLU ──────────────────────────────────┼─► concat ─► [Linear ─► LayerNorm ─►
//   image ────────► 3 × (Conv 3×3 ─► ReLU ─► MaxPool 2) ─► mean ─► Linear + ReLU ┤     ReLU ─► Dropout]*
//   dense vector ─► Linear + ReLU ──────────────────────────────────┘            ─► Linear ─► k outputs
//
// No batch-dependent layer (no BatchNorm): each item's output depends on that item alone, so splitting a
// batch across ranks changes nothing but the order of summation. Dropout draws from a generator passed in
// by the caller, never from LibTorch's global one (ranks running as threads share that).
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
};

// The rows `rows` of `items` (local indices) as a batch.
FeatureBatch make_batch(const ItemFeatures& items, const FeatureSchema& schema,
                        std::span<const std::int64_t> rows);

class ContentModelImpl : public torch::nn::Module {
 public:
  ContentModelImpl(const FeatureSchema& schema, const RegressorOptions& options, std::int64_t outputs);

  // dropout_generator: used when training with dropout > 0 (must then be given).
  torch::Tensor forward(const FeatureBatch& batch, torch::Generator* dropout_generator = nullptr);

  std::int64_t outputs() const { return outputs_; }

 private:
  torch::Tensor dropout(const torch::Tensor& x, torch::Generator* generator);

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
};
TORCH_MODULE(ContentModel);

// Sets every parameter from a generator seeded with `seed` (PyTorch's default ranges: uniform ±1/√fan_in for
// linear and conv layers, N(0, 1/√dims) for embeddings, LayerNorm 1 and 0), so equal seeds give equal
// weights whatever else runs on other threads.
void initialise_parameters(ContentModelImpl& model, std::uint64_t seed);

// All parameters, in registration order, flattened into one vector (for equality checks).
std::vector<float> flatten_parameters(const torch::nn::Module& model);

}  // namespace tailflow::ops::learning
