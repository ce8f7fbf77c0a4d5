// Conjugate-gradient solver for the rows of one half-step (Takács, Pilászy, Tikk 2011; the formulation of
// the `implicit` library).
//
// Each row's system A x = b is never formed. For implicit feedback, with confidence c = 1 + alpha·value:
//     A = YᵀY + λI + Σ_observed (c − 1) y yᵀ,    b = Σ_observed c y,
// so A p costs one k × k product with the shared YᵀY plus a dot and an axpy per interaction. For explicit
// feedback A = Σ_observed y yᵀ + λI and b = Σ_observed rating · y. The iteration starts from the row's
// current factors (r = b − A x), which after the first iterations are already close: three steps suffice.
//
// Rows of 32, 64 and 128 factors run fixed-size kernels (the vectors live in registers); other sizes run
// the same code with dynamic sizes.
#pragma once

#include <cstdint>

#include "operators/als/half_step.hpp"

namespace tailflow::ops::als {

// Updates every row of `rows` (this rank's rows of the side being solved) in place. Returns the number of
// floating-point operations done, for GFLOP/s reports.
std::uint64_t solve_conjugate_gradient(const HalfStep& step, int steps, FactorMatrix& rows);

}  // namespace tailflow::ops::als
