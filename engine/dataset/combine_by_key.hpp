// Folding rows with equal keys on one rank: the building block of reduce_by_key (used before the shuffle as
// the map-side combine, and after it on the key's owner).
//
// An open-addressing table (linear probing) maps a key to the position of its row in the output, which keeps
// the rows themselves in one contiguous vector. With millions of keys per rank this is several times faster
// than std::unordered_map, which allocates a node per key.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "engine/stable_hash.hpp"

namespace tailflow {

// One row per distinct key, in order of first appearance.
template <class T, class KeyFn, class ReduceFn>
std::vector<T> combine_by_key(const std::vector<T>& rows, KeyFn& key, ReduceFn& reduce) {
  constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();
  // At most half full, so probe sequences stay short.
  const std::size_t capacity = std::bit_ceil(std::max<std::size_t>(16, 2 * rows.size()));
  const std::size_t mask = capacity - 1;
  std::vector<std::uint32_t> slots(capacity, kEmpty);
  std::vector<T> combined;
  combined.reserve(rows.size());
  for (const auto& row : rows) {
    const auto k = key(row);
    std::size_t at = stable_hash(k) & mask;
    while (true) {
      std::uint32_t index = slots[at];
      if (index == kEmpty) {
        slots[at] = static_cast<std::uint32_t>(combined.size());
        combined.push_back(row);
        break;
      }
      if (key(combined[index]) == k) {
        combined[index] = reduce(combined[index], row);
        break;
      }
      at = (at + 1) & mask;
    }
  }
  return combined;
}

}  // namespace tailflow
