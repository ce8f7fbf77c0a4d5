#include "operators/datagen/alias_table.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace tailflow::ops::datagen {

AliasTable::AliasTable(std::span<const double> weights) {
  const std::size_t n = weights.size();
  if (n == 0) throw std::invalid_argument("AliasTable: no weights");
  if (n > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("AliasTable: too many weights");
  double total = 0;
  for (double w : weights) {
    if (!std::isfinite(w) || w < 0)
      throw std::invalid_argument("AliasTable: weights must be finite and >= 0");
    total += w;
  }
  if (!(total > 0)) throw std::invalid_argument("AliasTable: weights sum to zero");

  probability_.resize(n);
  alias_.resize(n);
  // Scaled so that the average column holds exactly 1.
  std::vector<double> scaled(n);
  std::vector<std::uint32_t> small, large;
  for (std::size_t i = 0; i < n; ++i) {
    scaled[i] = weights[i] * static_cast<double>(n) / total;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(i));
  }
  // Each small column is topped up by one large column, which becomes its alias.
  while (!small.empty() && !large.empty()) {
    std::uint32_t s = small.back();
    small.pop_back();
    std::uint32_t l = large.back();
    probability_[s] = scaled[s];
    alias_[s] = l;
    scaled[l] = (scaled[l] + scaled[s]) - 1.0;
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // What is left is full up to rounding error.
  for (std::uint32_t i : large) probability_[i] = 1.0, alias_[i] = i;
  for (std::uint32_t i : small) probability_[i] = 1.0, alias_[i] = i;
}

}  // namespace tailflow::ops::datagen
