// Folding rows with equal keys on one rank: the building block of reduce_by_key (used before the shuffle as
// the map-side combine, and after it on the key's owner).
#pragma once

#include <type_traits>
#include <unordered_map>
#include <vector>

#include "engine/stable_hash.hpp"

namespace tailflow {

// One row per distinct key, in order of first appearance.
template <class T, class KeyFn, class ReduceFn>
std::vector<T> combine_by_key(const std::vector<T>& rows, KeyFn& key, ReduceFn& reduce) {
  using Key = std::decay_t<std::invoke_result_t<KeyFn&, const T&>>;
  std::unordered_map<Key, std::size_t, StableHasher> slot_of;
  slot_of.reserve(rows.size());
  std::vector<T> combined;
  for (const auto& row : rows) {
    auto [it, inserted] = slot_of.try_emplace(key(row), combined.size());
    if (inserted)
      combined.push_back(row);
    else
      combined[it->second] = reduce(combined[it->second], row);
  }
  return combined;
}

}  // namespace tailflow
