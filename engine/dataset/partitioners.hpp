// Partitioners: functions row -> rank for partition_by.
//
// HashPartitioner spreads keys evenly and sends equal keys to the same rank; RangePartitioner keeps key order
// across ranks (rank r gets keys in [splitters[r-1], splitters[r])), which sort_by and block layouts need.
#pragma once

#include <algorithm>
#include <vector>

#include "engine/stable_hash.hpp"

namespace tailflow {

template <class KeyFn>
class HashPartitioner {
 public:
  HashPartitioner(KeyFn key, int ranks) : key_(std::move(key)), ranks_(ranks) {}
  template <class T>
  int operator()(const T& row) const {
    return static_cast<int>(stable_hash(key_(row)) % static_cast<std::uint64_t>(ranks_));
  }

 private:
  KeyFn key_;
  int ranks_;
};

template <class Key, class KeyFn>
class RangePartitioner {
 public:
  // `splitters` has size()-1 ascending entries.
  RangePartitioner(KeyFn key, std::vector<Key> splitters)
      : key_(std::move(key)), splitters_(std::move(splitters)) {}
  template <class T>
  int operator()(const T& row) const {
    return static_cast<int>(std::upper_bound(splitters_.begin(), splitters_.end(), key_(row)) -
                            splitters_.begin());
  }

 private:
  KeyFn key_;
  std::vector<Key> splitters_;
};

}  // namespace tailflow
