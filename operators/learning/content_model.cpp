#include "operators/learning/content_model.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "engine/error.hpp"
#include "operators/learning/dropout_mask.hpp"

namespace tailflow::ops::learning {
namespace {

namespace nn = torch::nn;

template <class T>
torch::Tensor vector_tensor(const std::vector<T>& values, torch::Dtype dtype) {
  torch::Tensor out = torch::empty({static_cast<std::int64_t>(values.size())}, dtype);
  std::copy(values.begin(), values.end(), out.data_ptr<T>());
  return out;
}

// Rows of a row-major matrix gathered into one [rows, width] tensor.
template <class T>
torch::Tensor gather_rows(const std::vector<T>& matrix, std::int64_t width,
                          std::span<const std::int64_t> rows, torch::Dtype dtype,
                          std::vector<std::int64_t> row_shape) {
  std::vector<std::int64_t> shape{static_cast<std::int64_t>(rows.size())};
  shape.insert(shape.end(), row_shape.begin(), row_shape.end());
  torch::Tensor out = torch::empty(shape, dtype);
  T* target = out.data_ptr<T>();
  for (std::size_t i = 0; i < rows.size(); ++i)
    std::copy_n(matrix.data() + rows[i] * width, width, target + static_cast<std::int64_t>(i) * width);
  return out;
}

// Max-pooling halves the image; pool at most twice and never below 2 pixels.
int pool_count(std::int64_t height, std::int64_t width) {
  std::int64_t side = std::min(height, width);
  int pools = 0;
  while (pools < 2 && side >= 4) {
    side /= 2;
    ++pools;
  }
  return pools;
}

}  // namespace

FeatureBatch make_batch(const ItemFeatures& items, const FeatureSchema& schema,
                        std::span<const std::int64_t> rows) {
  FeatureBatch batch;
  batch.size = static_cast<std::int64_t>(rows.size());
  for (std::size_t b = 0; b < schema.bags.size(); ++b) {
    const SparseBags& bag = items.bags[b];
    std::vector<std::int64_t> ids, offsets;
    std::vector<float> weights;
    offsets.reserve(rows.size());
    for (std::int64_t row : rows) {
      offsets.push_back(static_cast<std::int64_t>(ids.size()));
      ids.insert(ids.end(), bag.ids.begin() + bag.offsets[row], bag.ids.begin() + bag.offsets[row + 1]);
      weights.insert(weights.end(), bag.weights.begin() + bag.offsets[row],
                     bag.weights.begin() + bag.offsets[row + 1]);
    }
    batch.bag_ids.push_back(vector_tensor(ids, torch::kLong));
    batch.bag_offsets.push_back(vector_tensor(offsets, torch::kLong));
    batch.bag_weights.push_back(vector_tensor(weights, torch::kFloat));
  }
  const auto columns = static_cast<std::int64_t>(schema.categorical.size());
  if (columns) batch.categorical = gather_rows(items.categorical, columns, rows, torch::kLong, {columns});
  const auto numeric = static_cast<std::int64_t>(schema.numeric.size());
  if (numeric) batch.numeric = gather_rows(items.numeric, numeric, rows, torch::kFloat, {numeric});
  if (schema.has_image())
    batch.images = gather_rows(items.images, schema.image_size(), rows, torch::kFloat,
                               {schema.image_channels, schema.image_height, schema.image_width});
  if (schema.dense_dims)
    batch.dense = gather_rows(items.dense, schema.dense_dims, rows, torch::kFloat, {schema.dense_dims});
  return batch;
}

ContentModelImpl::ContentModelImpl(const FeatureSchema& schema, const RegressorOptions& options,
                                   std::int64_t outputs)
    : schema_(schema), dropout_(options.dropout), outputs_(outputs) {
  std::int64_t width = 0;
  for (std::size_t b = 0; b < schema.bags.size(); ++b) {
    auto bag_options =
        nn::EmbeddingBagOptions(schema.bags[b].vocabulary_size, options.bag_dims).mode(torch::kSum);
    bags_.push_back(register_module("bag_" + schema.bags[b].name, nn::EmbeddingBag(bag_options)));
    width += options.bag_dims;
  }
  for (const CategoricalSchema& column : schema.categorical) {
    categorical_.push_back(register_module("categorical_" + column.name,
                                           nn::Embedding(column.vocabulary_size, options.categorical_dims)));
    width += options.categorical_dims;
  }
  if (!schema.numeric.empty()) {
    numeric_ = register_module(
        "numeric", nn::Linear(static_cast<std::int64_t>(schema.numeric.size()), options.numeric_dims));
    width += options.numeric_dims;
  }
  if (schema.has_image()) {
    const std::int64_t c = options.image_channels;
    const int pools = pool_count(schema.image_height, schema.image_width);
    nn::Sequential tower;
    std::int64_t in = schema.image_channels;
    for (int layer = 0; layer < 3; ++layer) {
      std::int64_t out = c << layer;
      tower->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1)));
      tower->push_back(nn::ReLU());
      if (layer < pools) tower->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2)));
      in = out;
    }
    tower->push_back(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)));
    tower->push_back(nn::Flatten());
    tower->push_back(nn::Linear(in, options.image_dims));
    tower->push_back(nn::ReLU());
    image_ = register_module("image", tower);
    width += options.image_dims;
  }
  if (schema.dense_dims) {
    dense_ = register_module("dense", nn::Linear(schema.dense_dims, options.dense_dims));
    width += options.dense_dims;
  }
  if (width == 0) throw Error("content model: the feature schema has no features");
  for (std::size_t h = 0; h < options.hidden.size(); ++h) {
    hidden_.push_back(register_module("hidden_" + std::to_string(h), nn::Linear(width, options.hidden[h])));
    if (options.layer_norm)
      norms_.push_back(register_module("norm_" + std::to_string(h),
                                       nn::LayerNorm(nn::LayerNormOptions({options.hidden[h]}))));
    width = options.hidden[h];
  }
  output_ = register_module("output", nn::Linear(width, outputs));
  if (options.wide) {
    for (const BagSchema& bag : schema.bags)
      wide_bags_.push_back(register_module(
          "wide_bag_" + bag.name,
          nn::EmbeddingBag(nn::EmbeddingBagOptions(bag.vocabulary_size, outputs).mode(torch::kSum))));
    for (const CategoricalSchema& column : schema.categorical)
      wide_categorical_.push_back(
          register_module("wide_categorical_" + column.name, nn::Embedding(column.vocabulary_size, outputs)));
    if (!schema.numeric.empty())
      wide_numeric_ = register_module("wide_numeric",
                                      nn::Linear(static_cast<std::int64_t>(schema.numeric.size()), outputs));
  }
}

torch::Tensor ContentModelImpl::dropout(const torch::Tensor& x, std::int64_t layer,
                                        const FeatureBatch& batch) const {
  if (!is_training() || dropout_ <= 0) return x;
  if (static_cast<std::int64_t>(batch.dropout_keys.size()) != batch.size)
    throw Error("content model: training with dropout needs a dropout key per sample");
  return x * dropout_mask(batch.dropout_keys, layer, x.size(1), dropout_);
}

torch::Tensor ContentModelImpl::forward(const FeatureBatch& batch) {
  std::vector<torch::Tensor> parts;
  for (std::size_t b = 0; b < bags_.size(); ++b)
    parts.push_back(bags_[b]->forward(batch.bag_ids[b], batch.bag_offsets[b], batch.bag_weights[b]));
  for (std::size_t c = 0; c < categorical_.size(); ++c)
    parts.push_back(categorical_[c]->forward(batch.categorical.select(1, static_cast<std::int64_t>(c))));
  if (!numeric_.is_empty()) parts.push_back(torch::relu(numeric_->forward(batch.numeric)));
  if (!image_.is_empty()) parts.push_back(image_->forward(batch.images));
  if (!dense_.is_empty()) parts.push_back(torch::relu(dense_->forward(batch.dense)));
  torch::Tensor x = torch::cat(parts, 1);
  for (std::size_t h = 0; h < hidden_.size(); ++h) {
    x = hidden_[h]->forward(x);
    if (!norms_.empty()) x = norms_[h]->forward(x);
    x = dropout(torch::relu(x), static_cast<std::int64_t>(h), batch);
  }
  torch::Tensor output = output_->forward(x);
  for (std::size_t b = 0; b < wide_bags_.size(); ++b)
    output = output + wide_bags_[b]->forward(batch.bag_ids[b], batch.bag_offsets[b], batch.bag_weights[b]);
  for (std::size_t c = 0; c < wide_categorical_.size(); ++c)
    output =
        output + wide_categorical_[c]->forward(batch.categorical.select(1, static_cast<std::int64_t>(c)));
  if (!wide_numeric_.is_empty()) output = output + wide_numeric_->forward(batch.numeric);
  return output;
}

void initialise_parameters(ContentModelImpl& model, std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::int64_t fan_in = 1;
  auto visit = [&](const std::string& name, torch::Tensor& parameter) {
    const bool is_bias = name.ends_with(".bias");
    const bool is_norm = name.starts_with("norm_");
    const bool is_embedding = name.starts_with("bag_") || name.starts_with("categorical_");
    if (name.starts_with("wide_")) {
      parameter.zero_();  // the linear path starts from nothing; the MLP's initial output is unchanged
    } else if (is_norm) {
      parameter.fill_(is_bias ? 0.0 : 1.0);
    } else if (is_embedding) {
      parameter.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(parameter.size(1))), generator);
    } else {
      // Linear [out, in] and conv [out, in, kh, kw] weights; a bias shares its layer's fan-in, which the
      // weight visited just before it recorded.
      if (!is_bias) fan_in = parameter.numel() / parameter.size(0);
      double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
      parameter.uniform_(-bound, bound, generator);
    }
  };
  for (auto& item : model.named_parameters()) visit(item.key(), item.value());
}

std::vector<float> flatten_parameters(const torch::nn::Module& model) {
  std::vector<float> flat;
  for (const torch::Tensor& parameter : model.parameters()) {
    torch::Tensor values = parameter.detach().contiguous();
    flat.insert(flat.end(), values.data_ptr<float>(), values.data_ptr<float>() + values.numel());
  }
  return flat;
}

}  // namespace tailflow::ops::learning
