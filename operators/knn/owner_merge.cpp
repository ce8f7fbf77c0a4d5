#include "operators/knn/owner_merge.hpp"

#include "engine/comm/collectives.hpp"

namespace tailflow::ops::knn {
namespace {

// One rank's candidate for one query, on its way to the query's owner.
struct Candidate {
  std::uint32_t owner_position;  // the query's position among the owner's queries of this round
  ItemIndex item;
  float score;
};

}  // namespace

void merge_candidates_at_owners(comm::Communicator& comm, std::vector<TopKSelector>& selectors,
                                std::span<const std::uint64_t> slot_prefix,
                                std::span<const std::uint64_t> own_query_ids, RankedLists& result) {
  std::vector<Candidate> candidates;
  std::vector<std::size_t> candidate_counts(comm.size(), 0);
  std::vector<ScoredItem> taken;
  for (int owner = 0; owner < comm.size(); ++owner)
    for (std::uint64_t s = slot_prefix[owner]; s < slot_prefix[owner + 1]; ++s) {
      taken.clear();
      selectors[s].take_sorted(taken);
      for (const ScoredItem& item : taken)
        candidates.push_back({static_cast<std::uint32_t>(s - slot_prefix[owner]), item.item, item.score});
      candidate_counts[owner] += taken.size();
    }
  const auto received = comm::alltoallv(comm, std::span<const Candidate>(candidates),
                                        std::span<const std::size_t>(candidate_counts));
  for (std::size_t q = 0; q < own_query_ids.size(); ++q) selectors[q].reset(own_query_ids[q]);
  for (const Candidate& candidate : received)
    selectors[candidate.owner_position].offer(candidate.item, candidate.score);
  for (std::size_t q = 0; q < own_query_ids.size(); ++q) {
    selectors[q].take_sorted(result.entries);
    result.close_list();
  }
}

}  // namespace tailflow::ops::knn
