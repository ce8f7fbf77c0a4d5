// Sampling an index with probability proportional to its weight in O(1): Walker's alias method (Vose's
// numerically stable construction).
//
// Every rank builds the table from the same weights with the same sequence of operations, so a draw from the
// same random numbers picks the same index on every rank.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "operators/datagen/counter_rng.hpp"

namespace tailflow::ops::datagen {

class AliasTable {
 public:
  AliasTable() = default;
  // Weights must be finite and non-negative with a positive sum.
  explicit AliasTable(std::span<const double> weights);

  std::size_t size() const { return probability_.size(); }
  bool empty() const { return probability_.empty(); }

  // One draw: a uniform column, then a biased coin between the column and its alias.
  std::uint32_t sample(CounterRng& rng) const {
    auto column = static_cast<std::uint32_t>(rng.below(probability_.size()));
    return rng.uniform() < probability_[column] ? column : alias_[column];
  }

 private:
  std::vector<double> probability_;
  std::vector<std::uint32_t> alias_;
};

}  // namespace tailflow::ops::datagen
