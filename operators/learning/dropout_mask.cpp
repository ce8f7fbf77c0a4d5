#include "operators/learning/dropout_mask.hpp"

#include "operators/common/seeded_hash.hpp"

namespace tailflow::ops::learning {

torch::Tensor dropout_mask(std::span<const std::uint64_t> sample_keys, std::int64_t layer, std::int64_t width,
                           double drop_probability) {
  const auto samples = static_cast<std::int64_t>(sample_keys.size());
  torch::Tensor mask = torch::empty({samples, width}, torch::kFloat);
  float* out = mask.data_ptr<float>();
  const auto kept_value = static_cast<float>(1.0 / (1.0 - drop_probability));
  // Compare the top 53 bits of each draw with the keep probability scaled to 2^53: exact, no float maths.
  const auto keep_below = static_cast<std::uint64_t>((1.0 - drop_probability) * 0x1.0p53);
  for (std::int64_t i = 0; i < samples; ++i) {
    // SplitMix64: the j-th draw of the stream seeded by `state` is mix64(state + j · golden ratio).
    const std::uint64_t state = seeded_hash(sample_keys[i], static_cast<std::uint64_t>(layer));
    float* row = out + i * width;
    for (std::int64_t j = 0; j < width; ++j) {
      const std::uint64_t draw = mix64(state + static_cast<std::uint64_t>(j) * 0x9e3779b97f4a7c15ULL);
      row[j] = (draw >> 11) < keep_below ? kept_value : 0.0f;
    }
  }
  return mask;
}

}  // namespace tailflow::ops::learning
