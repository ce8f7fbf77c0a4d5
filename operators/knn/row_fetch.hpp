// Rows of a row-partitioned matrix, fetched by global index from whichever rank holds them.
//
// Used where two numberings meet: a job holds its queries in one row order and the vectors it needs for them
// lie, in another order, on other ranks (a second embeddings file's users or items, matched by external id).
// One alltoallv carries the requests to the holders, a second one carries the rows back.
#pragma once

#include <cstdint>
#include <span>

#include "engine/context.hpp"
#include "operators/knn/distributed_scorer.hpp"

namespace tailflow::ops::knn {

// Collective. Every rank holds one contiguous slice of the matrix (`slice`, any order of slices, empty ones
// allowed; all non-empty slices have the same column count). Returns the rows `wanted` (global indices,
// repeats allowed), in order. A wanted row that no rank holds is a CollectiveError on every rank.
RowMatrix fetch_rows(Context& ctx, const FactorSlice& slice, std::span<const std::uint64_t> wanted);

}  // namespace tailflow::ops::knn
