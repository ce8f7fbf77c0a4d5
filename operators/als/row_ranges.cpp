#include "operators/als/row_ranges.hpp"

namespace tailflow::ops::als {

RowRanges RowRanges::balanced_by_cost(std::span<const std::uint32_t> degrees, int parts,
                                      const RowCost& cost) {
  double total = 0;
  for (std::uint32_t d : degrees) total += cost(d);
  RowRanges ranges;
  ranges.starts.assign(parts + 1, static_cast<std::uint32_t>(degrees.size()));
  ranges.starts[0] = 0;
  // Rank r starts at the first row whose preceding rows cost at least r/parts of the total.
  double prefix = 0;
  int next_rank = 1;
  for (std::size_t row = 0; row < degrees.size() && next_rank < parts; ++row) {
    while (next_rank < parts && prefix >= total * next_rank / parts)
      ranges.starts[next_rank++] = static_cast<std::uint32_t>(row);
    prefix += cost(degrees[row]);
  }
  return ranges;
}

}  // namespace tailflow::ops::als
