// Per-query lists in compressed sparse row form: list i is entries[offsets[i] .. offsets[i + 1]).
//
// Used both for what goes into scoring (items to exclude per query) and what comes out (the ranked top-K),
// so that a hundred thousand short lists cost two allocations, not a hundred thousand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "operators/data/interaction.hpp"
#include "operators/knn/top_k.hpp"

namespace tailflow::ops::knn {

template <class T>
struct ListsOf {
  std::vector<std::uint64_t> offsets{0};
  std::vector<T> entries;

  std::size_t size() const { return offsets.size() - 1; }
  std::span<const T> operator[](std::size_t list) const {
    return std::span<const T>(entries).subspan(offsets[list], offsets[list + 1] - offsets[list]);
  }
  // Closes the list being appended to (entries added since the previous call).
  void close_list() { offsets.push_back(entries.size()); }
};

// Global item indices a query must not be recommended (its training items, or the item itself). Any order;
// duplicates are harmless.
using ExclusionLists = ListsOf<ItemIndex>;

// The top-K of each query, best first.
using RankedLists = ListsOf<ScoredItem>;

}  // namespace tailflow::ops::knn
