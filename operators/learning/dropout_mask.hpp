// Dropout masks that belong to the sample, not to the rank that happens to process it.
//
// A mask drawn from a per-rank random stream makes an N-rank run differ from a 1-rank run. Here unit j of
// hidden layer `layer` of a sample is kept when the j-th draw of a SplitMix64 stream seeded by
// hash(sample key, layer) falls below the keep probability. The caller derives the sample key from
// (seed, epoch, step, the sample's index in the training set), so the mask is the same whichever rank,
// and whichever position in its rank's part of the batch, the sample lands on — and a resumed run draws
// exactly the masks of an uninterrupted one. Each rank draws only its own samples' masks.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <span>

namespace tailflow::ops::learning {

// [keys.size(), width] floats: 0 for a dropped unit, 1 / (1 − drop_probability) for a kept one (inverted
// dropout: the expected activation is unchanged, so evaluation needs no rescaling).
torch::Tensor dropout_mask(std::span<const std::uint64_t> sample_keys, std::int64_t layer, std::int64_t width,
                           double drop_probability);

}  // namespace tailflow::ops::learning
