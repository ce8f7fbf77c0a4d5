// Which rank owns which rows: one contiguous range of (relabelled) row indices per rank.
//
// Ranges are cut so that every rank gets about the same estimated solve cost, not the same number of rows:
// with power-law data, equal row counts would leave one rank with most of the work. A row costs a fixed part
// (the k × k products of its solve) plus a part per interaction (the gathers, dots and updates), in a ratio
// that depends on the solver: see RowCost::for_solver.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "operators/als/als_options.hpp"

namespace tailflow::ops::als {

// Estimated cost of solving one row with `nnz` interactions, in arbitrary units.
struct RowCost {
  double per_row = 0;
  double per_interaction = 0;

  double operator()(std::uint64_t nnz) const { return per_row + per_interaction * static_cast<double>(nnz); }

  // k² + 4k·nnz for CG and 2k² + 4k·nnz for Cholesky. Both start from the operation counts (per CG pass a
  // k × k Gram product per row, a dot and an axpy per interaction) and were tuned on `bench als` at k = 64
  // on 2 ranks until the ranks' solve CPU times agreed: CG's per-interaction work is dearer than its flops
  // say (horizontal sums, fixed-side rows fetched from all over memory), Cholesky's per-row factorisation
  // dearer.
  static RowCost for_solver(SolverKind solver, int factors) {
    const double k = factors;
    return solver == SolverKind::kCholesky ? RowCost{2 * k * k, 4 * k} : RowCost{k * k, 4 * k};
  }
};

struct RowRanges {
  std::vector<std::uint32_t> starts;  // size ranks + 1; rank r owns [starts[r], starts[r + 1])

  int parts() const { return static_cast<int>(starts.size()) - 1; }
  std::uint32_t begin(int rank) const { return starts[rank]; }
  std::uint32_t end(int rank) const { return starts[rank + 1]; }
  std::uint32_t count(int rank) const { return starts[rank + 1] - starts[rank]; }
  std::uint32_t total() const { return starts.back(); }
  // The rank owning `row` (the last of several ranks whose ranges are empty at that point never owns it).
  int owner(std::uint32_t row) const {
    return static_cast<int>(std::upper_bound(starts.begin(), starts.end(), row) - starts.begin()) - 1;
  }

  // Cuts rows 0..degrees.size()-1 into `parts` ranges of about equal total cost. Deterministic.
  static RowRanges balanced_by_cost(std::span<const std::uint32_t> degrees, int parts, const RowCost& cost);
};

}  // namespace tailflow::ops::als
