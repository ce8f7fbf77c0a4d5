// AdamW's step as one pass over each parameter: torch::optim::AdamW's arithmetic, fused.
//
// LibTorch 1.13's AdamW::step runs about ten tensor operations per parameter, each a full pass, and makes
// two temporaries (the square root and the denominator). For the 2^15 × 64 text embedding table that is
// ~185 MB of memory traffic per step, on every rank alike: the part of a data-parallel step that does not
// shrink with more ranks. The fused loop reads parameter, gradient and both moments once and writes
// parameter and moments once (~60 MB), in SIMD registers. The state lives in the optimiser's own
// AdamWParamState entries, so optimiser.save / load (checkpoints) are unchanged.
#pragma once

#include <torch/torch.h>

namespace tailflow::ops::learning {

// One AdamW step for every parameter of `optimizer` that has a gradient (decoupled weight decay, bias
// correction, no AMSGrad — with amsgrad it falls back to optimizer.step()).
void fused_adamw_step(torch::optim::AdamW& optimizer);

}  // namespace tailflow::ops::learning
