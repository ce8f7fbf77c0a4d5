// Folding rows with equal keys on one rank: the building block of reduce_by_key (used before the shuffle as
// the map-side combine, and after it on the key's owner).
//
// An open-addressing table (linear probing) maps a key to the position of its row in the output, which keeps
// the rows themselves in contiguous vectors. With millions of keys per rank this is several times faster
// than std::unordered_map, which allocates a node per key.
//
// The map-side combine writes its output straight into one bucket per destination rank (the key's hash
// modulo the rank count, the hash the table computes anyway): those buckets are the shuffle's send buffers,
// so the shuffle needs no pass of its own to find destinations and group rows by them.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <vector>

#include "engine/stable_hash.hpp"

namespace tailflow {

namespace detail {

// Folds the rows of `parts` (read one after the other) into out[bucket_of(hash of key)], one row per
// distinct key, each bucket in order of first appearance.
template <class T, class KeyFn, class ReduceFn, class BucketOf>
void combine_into_buckets(std::span<const std::span<const T>> parts, KeyFn& key, ReduceFn& reduce,
                          BucketOf bucket_of, std::vector<std::vector<T>>& out) {
  constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();
  std::size_t rows = 0;
  for (auto part : parts) rows += part.size();
  // At most half full, so probe sequences stay short.
  const std::size_t capacity = std::bit_ceil(std::max<std::size_t>(16, 2 * rows));
  const std::size_t mask = capacity - 1;
  std::vector<std::uint32_t> slots(capacity, kEmpty);
  // Hashing spreads keys evenly, so each bucket gets about rows / buckets (reserving only address space:
  // pages are touched when rows are written).
  const std::size_t per_bucket =
      out.size() == 1 ? rows : std::min(rows, rows / out.size() + rows / (8 * out.size()) + 64);
  for (auto& bucket : out) bucket.reserve(per_bucket);
  for (auto part : parts) {
    for (const T& row : part) {
      const auto k = key(row);
      const std::uint64_t hash = stable_hash(k);
      std::vector<T>& bucket = out[bucket_of(hash)];
      std::size_t at = hash & mask;
      while (true) {
        const std::uint32_t index = slots[at];
        if (index == kEmpty) {
          slots[at] = static_cast<std::uint32_t>(bucket.size());
          bucket.push_back(row);
          break;
        }
        // Equal keys have equal hashes, so a match can only be in this bucket.
        if (key(bucket[index]) == k) {
          bucket[index] = reduce(bucket[index], row);
          break;
        }
        at = (at + 1) & mask;
      }
    }
  }
}

}  // namespace detail

// One row per distinct key, in order of first appearance over `parts` read one after the other.
template <class T, class KeyFn, class ReduceFn>
std::vector<T> combine_by_key(std::span<const std::span<const T>> parts, KeyFn& key, ReduceFn& reduce) {
  std::vector<std::vector<T>> out(1);
  detail::combine_into_buckets(
      parts, key, reduce, [](std::uint64_t) { return std::size_t{0}; }, out);
  return std::move(out.front());
}

template <class T, class KeyFn, class ReduceFn>
std::vector<T> combine_by_key(const std::vector<T>& rows, KeyFn& key, ReduceFn& reduce) {
  const std::span<const T> all(rows);
  return combine_by_key(std::span<const std::span<const T>>(&all, 1), key, reduce);
}

// The map-side combine of reduce_by_key: one row per distinct key, in bucket d = stable_hash(key) % ranks
// (the rank that owns the key), each bucket in order of first appearance.
template <class T, class KeyFn, class ReduceFn>
std::vector<std::vector<T>> combine_by_key_into_buckets(const std::vector<T>& rows, KeyFn& key,
                                                        ReduceFn& reduce, int ranks) {
  const std::span<const T> all(rows);
  std::vector<std::vector<T>> buckets(static_cast<std::size_t>(ranks));
  const auto divisor = static_cast<std::uint64_t>(ranks);
  detail::combine_into_buckets(
      std::span<const std::span<const T>>(&all, 1), key, reduce,
      [divisor](std::uint64_t hash) { return static_cast<std::size_t>(hash % divisor); }, buckets);
  return buckets;
}

}  // namespace tailflow
