// Exact top-K selection with reproducible tie-breaking.
//
// Rankings are compared item by item across runs, rank counts and vector sources, so the order must be a
// total order that does not favour any item: higher score first; equal scores ordered by a seeded hash of
// (seed, query, item) — a fixed random permutation per query — and, only if two hashes collide, by item id.
// Ordering ties by item id instead would inflate results whenever many items score the same (see
// ../shared/design/EVALUATION.md, "Ranking rules").
//
// TopKSelector keeps the best K offers in a heap whose front is the worst kept one, so almost every offer of
// a long score row costs one comparison against that threshold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "operators/common/seeded_hash.hpp"
#include "operators/data/interaction.hpp"

namespace tailflow::ops::knn {

struct ScoredItem {
  ItemIndex item = 0;
  float score = 0.0f;

  friend bool operator==(const ScoredItem&, const ScoredItem&) = default;
};

// The secondary key that orders equal scores of one query.
inline std::uint64_t tie_break_key(std::uint64_t seed, std::uint64_t query, ItemIndex item) {
  return seeded_hash(seed, query, item);
}

// True when `a` ranks before `b` in query `query`'s list. NaN scores are never passed here: selectors drop
// them.
bool ranks_before(const ScoredItem& a, const ScoredItem& b, std::uint64_t seed, std::uint64_t query);

class TopKSelector {
 public:
  TopKSelector(std::size_t k, std::uint64_t seed);

  // Starts a new list for `query` (the id that seeds its tie-breaking), keeping the allocated storage.
  void reset(std::uint64_t query);

  // Offers one item. NaN scores are ignored.
  void offer(ItemIndex item, float score);
  // Offers items first_item, first_item + 1, ... with the given scores: the hot loop of scoring.
  void offer_range(std::span<const float> scores, ItemIndex first_item);

  std::size_t k() const { return k_; }
  std::size_t size() const { return heap_.size(); }

  // Appends the kept items to `out`, best first, and empties the selector.
  void take_sorted(std::vector<ScoredItem>& out);

 private:
  struct Entry {
    float score;
    ItemIndex item;
    std::uint64_t tie_key;
  };
  static bool entry_before(const Entry& a, const Entry& b);
  void push(Entry entry);
  void replace_worst(Entry entry);

  std::size_t k_;
  std::uint64_t seed_;
  std::uint64_t query_ = 0;
  std::vector<Entry> heap_;  // a heap under entry_before: the front is the worst kept entry
  float threshold_;          // the worst kept score once K are kept; -infinity before
};

// The top K of a whole score row (item i has score scores[i]), best first.
std::vector<ScoredItem> select_top_k(std::span<const float> scores, std::size_t k, std::uint64_t seed,
                                     std::uint64_t query);

}  // namespace tailflow::ops::knn
