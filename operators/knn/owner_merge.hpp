// The last step of every distributed top-K search here (recommend, similar, content-kNN): in one round,
// each rank kept, per query of the round, the best K of the items it owns; those candidates travel to the
// rank that owns the query (one alltoallv), which merges them into the query's final top-K.
#pragma once

#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "engine/comm/communicator.hpp"
#include "operators/knn/ranked_lists.hpp"
#include "operators/knn/top_k.hpp"

namespace tailflow::ops::knn {

// Exclusive prefix sums: prefix[r] = counts[0] + … + counts[r − 1], and one more entry for the total.
template <class Count>
std::vector<std::uint64_t> exclusive_prefix(const std::vector<Count>& counts) {
  std::vector<std::uint64_t> prefix(counts.size() + 1, 0);
  std::partial_sum(counts.begin(), counts.end(), prefix.begin() + 1);
  return prefix;
}

// `selectors[s]` holds this rank's candidates for round slot s; slots [slot_prefix[r], slot_prefix[r + 1])
// are the queries owned by rank r, in the owner's order. `own_query_ids` are this rank's queries of the
// round (their ids seed the tie-breaks). Appends one ranked list per own query to `result`, in order.
// Collective. The selectors are reused (reset) on return.
void merge_candidates_at_owners(comm::Communicator& comm, std::vector<TopKSelector>& selectors,
                                std::span<const std::uint64_t> slot_prefix,
                                std::span<const std::uint64_t> own_query_ids, RankedLists& result);

}  // namespace tailflow::ops::knn
