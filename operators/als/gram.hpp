// The Gram matrix YᵀY of the fixed side, which the implicit solver adds to every row's normal equations
// (the unobserved cells, all at confidence 1, contribute YᵀY to each row: Hu, Koren, Volinsky).
//
// Each rank multiplies its own rows in float, 256 rows at a time, and accumulates the blocks in double;
// one allreduce of k × k doubles then sums the ranks. Double accumulation keeps the result within
// rounding of the one-rank value whatever the cut between ranks.
#pragma once

#include <Eigen/Core>

#include "engine/context.hpp"
#include "operators/als/factor_matrix.hpp"

namespace tailflow::ops::als {

// Collective: Σ over every rank's owned rows of y yᵀ, over the first `factors` columns.
Eigen::MatrixXd allreduce_gram(Context& ctx, const FactorMatrix& owned, int factors);

}  // namespace tailflow::ops::als
