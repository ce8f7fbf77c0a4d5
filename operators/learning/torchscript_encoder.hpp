// A user-supplied, pretrained TorchScript encoder (a BERT-like text model or a CNN backbone such as
// ResNeXt-50), used frozen to turn item content into dense vectors. No LibTorch types in this header.
//
// Text models are called as forward(input_ids, attention_mask) with [batch, length] int64 tensors (padded
// with pad_id, mask 1 on real tokens). The output may be the hidden states [batch, length, hidden] — pooled
// here, by the first ([CLS]) token or by the mean over real tokens — or an already pooled [batch, hidden];
// a tuple (as traced Hugging Face models return) contributes its first element, a dict its
// "last_hidden_state".
// Image models are called as forward(pixels) with [batch, channels, height, width] float tensors; the
// output is flattened per image ([batch, features] or [batch, features, 1, 1]).
//
// Export from Python, e.g.: torch.jit.trace(model, (ids, mask)).save("encoder.pt").
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tailflow::ops::learning {

enum class TextPooling { kCls, kMean };

TextPooling parse_text_pooling(const std::string& text);  // "cls" or "mean"; Error otherwise

class TorchScriptEncoder {
 public:
  // Throws Error if the file is missing or is not a TorchScript module.
  explicit TorchScriptEncoder(const std::string& path);
  ~TorchScriptEncoder();
  TorchScriptEncoder(TorchScriptEncoder&&) noexcept;
  TorchScriptEncoder& operator=(TorchScriptEncoder&&) noexcept;

  // One row of output_dims() values per sequence, concatenated. Sequences longer than max_length are
  // truncated; empty sequences are given one pad token (masked out: mean pooling yields zeros).
  std::vector<float> encode_text(const std::vector<std::vector<std::int64_t>>& sequences, TextPooling pooling,
                                 std::int64_t batch_size = 32, std::int64_t pad_id = 0,
                                 std::int64_t max_length = 512);

  // Already tokenised and padded rows: `ids` and `attention_mask` hold count × length values (mask 1 on real
  // tokens). Every batch keeps the full length, so a row's output does not depend on its batch.
  std::vector<float> encode_tokens(std::span<const std::int32_t> ids,
                                   std::span<const std::uint8_t> attention_mask, std::int64_t count,
                                   std::int64_t length, TextPooling pooling, std::int64_t batch_size = 32);

  // `pixels` holds count × channels × height × width values.
  std::vector<float> encode_images(std::span<const float> pixels, std::int64_t count, std::int64_t channels,
                                   std::int64_t height, std::int64_t width, std::int64_t batch_size = 32);

  // The width of an output row; 0 until the first non-empty call.
  std::int64_t output_dims() const { return output_dims_; }
  const std::string& path() const { return path_; }

 private:
  struct Module;
  struct Batch;
  // Runs the text model on one batch and pools; appends the rows to `rows`.
  void run_text(const Batch& batch, TextPooling pooling, std::vector<float>& rows);

  std::unique_ptr<Module> module_;
  std::string path_;
  std::int64_t output_dims_ = 0;
};

}  // namespace tailflow::ops::learning
