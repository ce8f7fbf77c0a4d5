// Which rank owns which rows: one contiguous range of (relabelled) row indices per rank.
//
// Ranges are cut so that every rank gets about the same estimated solve cost, not the same number of rows:
// a row of a k-factor model costs about 2k² (its share of the Gram products) + 4k·nnz (a dot and an axpy per
// interaction and CG step). With power-law data, equal row counts would leave one rank with most of the work.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace tailflow::ops::als {

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

  // Estimated cost of solving one row with `nnz` interactions and `factors` factors.
  static double row_cost(std::uint64_t nnz, int factors) {
    return 2.0 * factors * factors + 4.0 * factors * static_cast<double>(nnz);
  }

  // Cuts rows 0..degrees.size()-1 into `parts` ranges of about equal total cost. Deterministic.
  static RowRanges balanced_by_cost(std::span<const std::uint32_t> degrees, int parts, int factors);
};

}  // namespace tailflow::ops::als
