// Exact distributed top-K by dot product (or cosine): the queries of every rank against the items of every
// rank.
//
// Items are partitioned across ranks by rows (each rank a contiguous slice); queries lie on the ranks that
// own them (a user's vector on the rank holding that user's factors). Work goes in rounds of about
// `query_block` queries taken from all ranks together:
//   1. allgatherv: every rank receives the round's query vectors;
//   2. alltoallv: each query's excluded items travel to the ranks that hold those items (and only there);
//   3. every rank multiplies the query block by its item rows in blocks (one Eigen GEMM per item block) and
//      keeps each query's best K with a heap (TopKSelector) — no sort of the whole score row;
//   4. alltoallv: at most K candidates per query and rank return to the query's owner, which merges them.
// Ties are broken by TopKSelector's seeded order on (seed, query id, item), so the result does not depend on
// the rank count or the block sizes.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/context.hpp"
#include "operators/knn/ranked_lists.hpp"

namespace tailflow::ops::knn {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// This rank's contiguous block of rows of a matrix partitioned by rows across ranks (possibly no rows).
struct FactorSlice {
  Eigen::Ref<const RowMatrix> rows;
  std::uint64_t first_row = 0;  // global index of rows.row(0)
};

// The queries this rank owns: one vector per row, and each query's global id (it seeds tie-breaking).
struct QuerySet {
  Eigen::Ref<const RowMatrix> vectors;
  std::span<const std::uint64_t> ids;
};

struct ScoringOptions {
  std::size_t k = 10;
  std::uint64_t seed = 0;          // tie-breaking
  bool cosine = false;             // normalise query and item rows first (zero rows stay zero)
  std::size_t query_block = 1024;  // queries, over all ranks, scored together in one round
  std::size_t item_block = 1024;   // item rows per matrix product
};

// Collective. Returns, for each of this rank's queries in order, its top-K items (global indices) with their
// scores, best first, never an item of its exclusion list. `exclusions` (optional) holds one list per local
// query. Lists are shorter than K only when fewer items remain.
RankedLists top_k_by_dot_product(Context& ctx, const QuerySet& queries, const FactorSlice& items,
                                 const ExclusionLists* exclusions, const ScoringOptions& options);

// Collective. The K items most similar by cosine to each of `query_items` (global item indices, all inside
// this rank's slice), the item itself excluded. `options.cosine` is implied.
RankedLists similar_items(Context& ctx, const FactorSlice& items, std::span<const ItemIndex> query_items,
                          const ScoringOptions& options);

// Row-normalised copy (rows of norm zero stay zero).
RowMatrix normalized_rows(const Eigen::Ref<const RowMatrix>& rows);

}  // namespace tailflow::ops::knn
