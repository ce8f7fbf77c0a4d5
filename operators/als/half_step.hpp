// Everything one half-step needs to solve this rank's rows of one side with the other side held fixed.
//
// The rows to solve are the local CSR block; `fixed` holds the other side's factors at their internal row
// numbers (all rows, or at least the referenced ones; see factor_exchange.hpp). A row of `fixed` carries
// `factors` values, then — with biases — the fixed side's bias.
#pragma once

#include <Eigen/Core>
#include <cstdint>

#include "operators/als/als_options.hpp"
#include "operators/als/csr_block.hpp"
#include "operators/als/factor_matrix.hpp"

namespace tailflow::ops::als {

struct HalfStep {
  const CsrBlock* block = nullptr;
  const FactorMatrix* fixed = nullptr;
  Eigen::MatrixXf gram;  // implicit only: Σ y yᵀ over all fixed rows (no regularisation)
  int factors = 0;
  Feedback feedback = Feedback::kImplicit;
  float alpha = 1;
  float regularization = 0;
  RegScaling reg_scaling = RegScaling::kNone;
  bool biases = false;    // explicit only: solve for [x, bias] against [y, 1]
  float global_mean = 0;  // explicit with biases: subtracted from every rating
  // Work space the Cholesky solver may keep between half-steps (the transformed fixed rows); null: its own.
  FactorMatrix* scratch = nullptr;

  // The L2 weight of a row with `nnz` interactions.
  float row_regularization(std::uint64_t nnz) const {
    return reg_scaling == RegScaling::kCount ? regularization * static_cast<float>(nnz) : regularization;
  }
};

}  // namespace tailflow::ops::als
