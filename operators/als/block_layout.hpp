// The distributed layout of the interaction matrix for ALS: relabelled rows, cost-balanced ranges, and each
// rank's user block and item block (see csr_block.hpp).
//
// build_block_layout() takes each rank's arbitrary share of the interactions (whatever the reader produced)
// and redistributes it with two rounds of alltoallv: first to the owners of the users, then, from the user
// blocks, to the owners of the items. It consumes the input, so that the input, the packed rows and the two
// blocks are never all alive at once.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/context.hpp"
#include "operators/als/csr_block.hpp"
#include "operators/als/degree_relabeling.hpp"
#include "operators/als/row_ranges.hpp"
#include "operators/data/interaction.hpp"

namespace tailflow::ops::als {

struct LayoutOptions {
  RowCost row_cost = RowCost::for_solver(SolverKind::kConjugateGradient, 64);  // to balance the ranges
  // Implicit feedback sums repeated (user, item) pairs into one cell; explicit keeps each rating.
  bool merge_duplicates = true;
  // Rows per alltoallv round while redistributing: bounds the temporary buffers.
  std::size_t rows_per_round = std::size_t{1} << 18;
};

struct BlockLayout {
  std::uint32_t users = 0;
  std::uint32_t items = 0;
  std::uint64_t total_nnz = 0;  // over all ranks, after merging duplicates
  DegreeRelabeling user_labels;
  DegreeRelabeling item_labels;
  RowRanges user_ranges;
  RowRanges item_ranges;
  CsrBlock user_block;  // this rank's users × all items
  CsrBlock item_block;  // this rank's items × all users
};

// Collective. `interactions` holds this rank's share (any subset; the union over ranks is the data set);
// user and item indices must lie below `users` and `items`.
BlockLayout build_block_layout(Context& ctx, std::uint32_t users, std::uint32_t items,
                               std::vector<Interaction> interactions, const LayoutOptions& options);

}  // namespace tailflow::ops::als
