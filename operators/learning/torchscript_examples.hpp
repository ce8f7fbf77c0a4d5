// Tiny TorchScript models written from C++ (no Python, no downloads): stand-ins for real pretrained
// encoders in tests and demonstrations of the `--text-encoder` / `--image-encoder` options.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tailflow::ops::learning {

// forward(input_ids, attention_mask) -> (hidden_states, first_token): hidden_states[b, t] is row
// input_ids[b, t] of `table` (vocabulary × hidden, row-major) times attention_mask[b, t] — the shape of a
// traced BERT's output tuple.
void write_example_text_encoder(const std::string& path, std::int64_t vocabulary, std::int64_t hidden,
                                const std::vector<float>& table);

// forward(pixels) -> [batch, outputs, 1, 1]: each channel averaged over the four quadrants of the image
// (adaptive average pooling to 2×2), flattened to channels × 4 values, times `projection`
// (channels·4 × outputs, row-major) — the shape of a CNN backbone's pooled features.
void write_example_image_encoder(const std::string& path, std::int64_t channels, std::int64_t outputs,
                                 const std::vector<float>& projection);

}  // namespace tailflow::ops::learning
