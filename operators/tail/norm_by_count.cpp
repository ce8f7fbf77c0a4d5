#include "operators/tail/norm_by_count.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>

#include "engine/error.hpp"

namespace tailflow::ops::tail {

namespace {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

}  // namespace

double vector_length(std::span<const float> vector) {
  double sum = 0;
  for (float v : vector) sum += static_cast<double>(v) * v;
  return std::sqrt(sum);
}

NormByCount NormByCount::fit(std::span<const float> vectors, std::span<const std::uint64_t> counts,
                             std::size_t dims) {
  if (vectors.size() != counts.size() * dims)
    throw Error(fmt::format("norm by count: {} values for {} items of {} dimensions", vectors.size(),
                            counts.size(), dims));
  std::vector<double> lengths(counts.size());
  for (std::size_t i = 0; i < counts.size(); ++i) lengths[i] = vector_length(vectors.subspan(i * dims, dims));
  return fit_lengths(lengths, counts);
}

NormByCount NormByCount::fit_lengths(std::span<const double> lengths, std::span<const std::uint64_t> counts) {
  if (lengths.size() != counts.size())
    throw Error(fmt::format("norm by count: {} lengths for {} counts", lengths.size(), counts.size()));
  // (⌊log2 count⌋, log count, length) of every item with interactions, in group order.
  struct Point {
    int group;
    double log_count;
    double length;
  };
  std::vector<Point> points;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double length = lengths[i];
    if (counts[i] == 0 || !std::isfinite(length)) continue;
    points.push_back({static_cast<int>(std::floor(std::log2(static_cast<double>(counts[i])))),
                      std::log(static_cast<double>(counts[i])), length});
  }
  std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
    return std::tie(a.group, a.log_count, a.length) < std::tie(b.group, b.log_count, b.length);
  });
  // Consecutive groups, a small one merged into the next (the last small one into the one before it).
  std::vector<std::vector<Point>> groups;
  std::vector<Point> open;
  for (std::size_t p = 0; p < points.size(); ++p) {
    open.push_back(points[p]);
    const bool group_ends = p + 1 == points.size() || points[p + 1].group != points[p].group;
    if (group_ends && open.size() >= kMinItemsPerGroup) groups.push_back(std::exchange(open, {}));
  }
  if (!open.empty()) {
    if (groups.empty()) groups.emplace_back();
    groups.back().insert(groups.back().end(), open.begin(), open.end());
  }
  NormByCount curve;
  for (const auto& group : groups) {
    std::vector<double> logs, lengths;
    for (const Point& point : group) {
      logs.push_back(point.log_count);
      lengths.push_back(point.length);
    }
    curve.log_counts_.push_back(median(std::move(logs)));
    curve.lengths_.push_back(median(std::move(lengths)));
  }
  return curve;
}

double NormByCount::at(std::uint64_t count) const {
  if (log_counts_.empty()) return 0;
  const double x = std::log(static_cast<double>(std::max<std::uint64_t>(count, 1)));
  if (x <= log_counts_.front()) return lengths_.front();
  if (x >= log_counts_.back()) return lengths_.back();
  const auto upper = std::upper_bound(log_counts_.begin(), log_counts_.end(), x) - log_counts_.begin();
  const auto lower = upper - 1;
  const double span = log_counts_[upper] - log_counts_[lower];
  if (span <= 0) return lengths_[upper];
  const double t = (x - log_counts_[lower]) / span;
  return (1 - t) * lengths_[lower] + t * lengths_[upper];
}

}  // namespace tailflow::ops::tail
