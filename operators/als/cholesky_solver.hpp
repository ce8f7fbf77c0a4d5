// Exact solver for the rows of one half-step: form each row's normal equations and factor them (LLᵀ).
//
// The row's interactions are gathered into a small dense block G (one fixed-side row per interaction scaled
// by √w, with a √w column when solving for a bias), and the data part of the normal equations is one matrix
// product per block of up to 256 interactions: A += GᵀG, b += Gᵀ(t/√w) — a blocked rank-k update instead
// of one rank-1 update per interaction. The factorisation runs in double (single precision lost up to 1e-3
// of the solution on badly conditioned systems), with fixed-size matrices for the common factor counts.
// Implicit feedback with one λ for every row takes a faster path: G = YᵀY + λI is factored once (LLᵀ), the
// fixed rows are transformed to L⁻¹y, and each row solves (I + HᵀH)z = Hᵀt — as an nnz × nnz system when it
// has fewer interactions than factors — then x = L⁻ᵀz (docs/als.md, section 3).
//   implicit:  A = YᵀY + λI + Σ (c − 1) y yᵀ,  b = Σ c y,           c = 1 + alpha·value
//   explicit:  A = Σ f fᵀ + λI,                b = Σ (r − μ − b_other) f,  f = y (or [y, 1] with biases)
#pragma once

#include <cstdint>

#include "operators/als/half_step.hpp"

namespace tailflow::ops::als {

// Overwrites every row of `rows` with its solution. Returns the floating-point operations done.
std::uint64_t solve_cholesky(const HalfStep& step, FactorMatrix& rows);

}  // namespace tailflow::ops::als
