#include "operators/learning/torchscript_encoder.hpp"

#include <fmt/format.h>
#include <torch/script.h>

#include <algorithm>
#include <filesystem>

#include "engine/error.hpp"

namespace tailflow::ops::learning {

struct TorchScriptEncoder::Module {
  torch::jit::Module module;
};

// One batch of token ids and attention masks, [batch, length] int64 each.
struct TorchScriptEncoder::Batch {
  torch::Tensor ids;
  torch::Tensor mask;
};

namespace {

// The tensor a model's output stands for (see the header for the accepted shapes).
torch::Tensor output_tensor(const c10::IValue& output, const std::string& path) {
  if (output.isTensor()) return output.toTensor();
  if (output.isTuple() && !output.toTupleRef().elements().empty())
    return output_tensor(output.toTupleRef().elements()[0], path);
  if (output.isGenericDict()) {
    auto dict = output.toGenericDict();
    if (dict.contains("last_hidden_state")) return dict.at("last_hidden_state").toTensor();
  }
  throw Error(
      fmt::format("TorchScript encoder '{}': its output is neither a tensor, a tuple starting with one, "
                  "nor a dict with 'last_hidden_state'",
                  path));
}

}  // namespace

TextPooling parse_text_pooling(const std::string& text) {
  if (text == "cls") return TextPooling::kCls;
  if (text == "mean") return TextPooling::kMean;
  throw Error(fmt::format("text pooling '{}': expected cls or mean", text));
}

TorchScriptEncoder::TorchScriptEncoder(const std::string& path)
    : module_(std::make_unique<Module>()), path_(path) {
  if (!std::filesystem::exists(path))
    throw Error(fmt::format("TorchScript encoder '{}' does not exist", path));
  try {
    module_->module = torch::jit::load(path, torch::kCPU);
  } catch (const c10::Error& error) {
    throw Error(
        fmt::format("cannot load '{}' as a TorchScript module (export it with torch.jit.trace or "
                    "torch.jit.script, then .save()): {}",
                    path, error.what_without_backtrace()));
  }
  // Frozen: inference only.
  module_->module.eval();
  for (torch::Tensor parameter : module_->module.parameters()) parameter.set_requires_grad(false);
}

TorchScriptEncoder::~TorchScriptEncoder() = default;
TorchScriptEncoder::TorchScriptEncoder(TorchScriptEncoder&&) noexcept = default;
TorchScriptEncoder& TorchScriptEncoder::operator=(TorchScriptEncoder&&) noexcept = default;

std::vector<float> TorchScriptEncoder::encode_text(const std::vector<std::vector<std::int64_t>>& sequences,
                                                   TextPooling pooling, std::int64_t batch_size,
                                                   std::int64_t pad_id, std::int64_t max_length) {
  if (batch_size < 1 || max_length < 1)
    throw Error("TorchScript encoder: batch size and length must be positive");
  std::vector<float> rows;
  torch::InferenceMode inference;
  const auto n = static_cast<std::int64_t>(sequences.size());
  for (std::int64_t start = 0; start < n; start += batch_size) {
    const std::int64_t end = std::min(n, start + batch_size);
    std::int64_t length = 1;
    for (std::int64_t i = start; i < end; ++i)
      length = std::max<std::int64_t>(length, static_cast<std::int64_t>(sequences[i].size()));
    length = std::min(length, max_length);
    torch::Tensor ids = torch::full({end - start, length}, pad_id, torch::kLong);
    torch::Tensor mask = torch::zeros({end - start, length}, torch::kLong);
    auto id_rows = ids.accessor<std::int64_t, 2>();
    auto mask_rows = mask.accessor<std::int64_t, 2>();
    for (std::int64_t i = start; i < end; ++i)
      for (std::int64_t t = 0;
           t < std::min<std::int64_t>(length, static_cast<std::int64_t>(sequences[i].size())); ++t) {
        id_rows[i - start][t] = sequences[i][t];
        mask_rows[i - start][t] = 1;
      }
    run_text({ids, mask}, pooling, rows);
  }
  return rows;
}

std::vector<float> TorchScriptEncoder::encode_tokens(std::span<const std::int32_t> ids,
                                                     std::span<const std::uint8_t> attention_mask,
                                                     std::int64_t count, std::int64_t length,
                                                     TextPooling pooling, std::int64_t batch_size) {
  if (batch_size < 1 || length < 1)
    throw Error("TorchScript encoder: batch size and length must be positive");
  if (static_cast<std::int64_t>(ids.size()) != count * length ||
      static_cast<std::int64_t>(attention_mask.size()) != count * length)
    throw Error(fmt::format("TorchScript text encoder: {} ids and {} mask values for {} rows of {} tokens",
                            ids.size(), attention_mask.size(), count, length));
  std::vector<float> rows;
  torch::InferenceMode inference;
  for (std::int64_t start = 0; start < count; start += batch_size) {
    const std::int64_t end = std::min(count, start + batch_size);
    auto* id_data = const_cast<std::int32_t*>(ids.data()) + start * length;
    auto* mask_data = const_cast<std::uint8_t*>(attention_mask.data()) + start * length;
    Batch batch{torch::from_blob(id_data, {end - start, length}, torch::kInt).to(torch::kLong),
                torch::from_blob(mask_data, {end - start, length}, torch::kUInt8).to(torch::kLong)};
    run_text(batch, pooling, rows);
  }
  return rows;
}

void TorchScriptEncoder::run_text(const Batch& batch, TextPooling pooling, std::vector<float>& rows) {
  torch::Tensor output;
  try {
    output = output_tensor(module_->module.forward({batch.ids, batch.mask}), path_);
  } catch (const c10::Error& error) {
    throw Error(fmt::format("TorchScript text encoder '{}' failed on forward(input_ids, attention_mask): {}",
                            path_, error.what_without_backtrace()));
  }
  output = output.to(torch::kFloat);
  if (output.dim() == 3) {
    if (pooling == TextPooling::kCls) {
      output = output.select(1, 0);
    } else {
      torch::Tensor weights = batch.mask.to(torch::kFloat).unsqueeze(-1);
      output = (output * weights).sum(1) / weights.sum(1).clamp_min(1);
    }
  } else if (output.dim() != 2) {
    throw Error(
        fmt::format("TorchScript text encoder '{}': output of {} dimensions; expected [batch, hidden] or "
                    "[batch, length, hidden]",
                    path_, output.dim()));
  }
  if (output.size(0) != batch.ids.size(0))
    throw Error(fmt::format("TorchScript text encoder '{}': {} output rows for a batch of {}", path_,
                            output.size(0), batch.ids.size(0)));
  output = output.contiguous();
  if (output_dims_ == 0) output_dims_ = output.size(1);
  if (output.size(1) != output_dims_)
    throw Error(fmt::format("TorchScript text encoder '{}': outputs of {} and then {} values", path_,
                            output_dims_, output.size(1)));
  rows.insert(rows.end(), output.data_ptr<float>(), output.data_ptr<float>() + output.numel());
}

std::vector<float> TorchScriptEncoder::encode_images(std::span<const float> pixels, std::int64_t count,
                                                     std::int64_t channels, std::int64_t height,
                                                     std::int64_t width, std::int64_t batch_size) {
  const std::int64_t image_size = channels * height * width;
  if (batch_size < 1) throw Error("TorchScript encoder: batch size must be positive");
  if (static_cast<std::int64_t>(pixels.size()) != count * image_size)
    throw Error(fmt::format("TorchScript image encoder: {} pixel values for {} images of {}×{}×{}",
                            pixels.size(), count, channels, height, width));
  std::vector<float> rows;
  torch::InferenceMode inference;
  for (std::int64_t start = 0; start < count; start += batch_size) {
    const std::int64_t end = std::min(count, start + batch_size);
    torch::Tensor images = torch::from_blob(const_cast<float*>(pixels.data()) + start * image_size,
                                            {end - start, channels, height, width}, torch::kFloat);
    torch::Tensor output;
    try {
      output = output_tensor(module_->module.forward({images}), path_);
    } catch (const c10::Error& error) {
      throw Error(fmt::format("TorchScript image encoder '{}' failed on images of {}×{}×{}: {}", path_,
                              channels, height, width, error.what_without_backtrace()));
    }
    output = output.to(torch::kFloat).flatten(1).contiguous();
    if (output.size(0) != end - start)
      throw Error(fmt::format("TorchScript image encoder '{}': {} output rows for a batch of {}", path_,
                              output.size(0), end - start));
    if (output_dims_ == 0) output_dims_ = output.size(1);
    if (output.size(1) != output_dims_)
      throw Error(fmt::format("TorchScript image encoder '{}': outputs of {} and then {} values", path_,
                              output_dims_, output.size(1)));
    rows.insert(rows.end(), output.data_ptr<float>(), output.data_ptr<float>() + output.numel());
  }
  return rows;
}

}  // namespace tailflow::ops::learning
