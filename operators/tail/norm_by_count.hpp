// The typical length of an ALS item vector as a function of the item's training count.
//
// Implicit ALS gives an item with more interactions a longer vector: its scores y_u·x must reach 1 for more
// users against the pull of the unobserved zeros. Ranking a bucket of items by user·item therefore ranks
// partly by that length, i.e. by popularity. The content model is trained on head items, so its predictions
// carry head-sized lengths for every item; blended into a 3-interaction item they make it look like a head
// item (docs/evaluation.md, protocol B tail). This curve lets the blend give the content vector the length an
// ALS vector has at the item's count, keeping only its direction.
//
// Fit: items with an ALS vector are grouped by ⌊log2 count⌋ (1, 2-3, 4-7, ...); each group's median length
// is placed at the group's median log count, and lengths between groups are interpolated linearly in log
// count, held flat beyond the first and last group. Groups of fewer than kMinItemsPerGroup items merge into
// the next one, so a few outliers cannot set the curve.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace tailflow::ops::tail {

class NormByCount {
 public:
  static constexpr std::size_t kMinItemsPerGroup = 5;

  // `vectors`: row-major, `dims` values per item; `counts`: each item's training count (items with count 0
  // are left out of the fit). Deterministic: the same on every rank.
  static NormByCount fit(std::span<const float> vectors, std::span<const std::uint64_t> counts,
                         std::size_t dims);
  // The same from the items' lengths (in any order: the fit sorts them).
  static NormByCount fit_lengths(std::span<const double> lengths, std::span<const std::uint64_t> counts);

  // The typical length at `count` (> 0); 0 when the fit saw no item.
  double at(std::uint64_t count) const;
  bool empty() const { return log_counts_.empty(); }
  // The fitted points (log count, median length), for logs and tests.
  const std::vector<double>& log_counts() const { return log_counts_; }
  const std::vector<double>& lengths() const { return lengths_; }

 private:
  std::vector<double> log_counts_;  // ascending
  std::vector<double> lengths_;
};

// Euclidean length of one vector (accumulated in double).
double vector_length(std::span<const float> vector);

}  // namespace tailflow::ops::tail
