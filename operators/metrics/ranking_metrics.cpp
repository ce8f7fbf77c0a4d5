#include "operators/metrics/ranking_metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "operators/common/seeded_hash.hpp"

namespace tailflow::ops::metrics {
namespace {

constexpr int kMetrics = 5;

std::array<double, kMetrics> as_array(const UserRankingScores& s) {
  return {s.precision, s.recall, s.ndcg, s.average_precision, s.long_recall};
}

// The q-quantile of sorted values, interpolating linearly between neighbours.
double quantile(const std::vector<double>& sorted, double q) {
  double position = q * static_cast<double>(sorted.size() - 1);
  std::size_t below = static_cast<std::size_t>(std::floor(position));
  std::size_t above = std::min(below + 1, sorted.size() - 1);
  double fraction = position - static_cast<double>(below);
  return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

// Percentile intervals of the metrics' means, from `samples` resamples (with replacement) of the users.
std::array<std::pair<double, double>, kMetrics> bootstrap_intervals(const std::vector<UserScores>& users,
                                                                    const BootstrapOptions& options) {
  const std::size_t n = users.size();
  std::array<std::vector<double>, kMetrics> means;
  for (auto& m : means) m.reserve(options.samples);
  for (std::size_t sample = 0; sample < options.samples; ++sample) {
    std::array<double, kMetrics> sum{};
    for (std::size_t draw = 0; draw < n; ++draw) {
      // A counter-based generator: the same seed draws the same users on every platform.
      const auto& scores = users[seeded_hash(options.seed, sample, draw) % n].scores;
      auto values = as_array(scores);
      for (int m = 0; m < kMetrics; ++m) sum[m] += values[m];
    }
    for (int m = 0; m < kMetrics; ++m) means[m].push_back(sum[m] / static_cast<double>(n));
  }
  std::array<std::pair<double, double>, kMetrics> intervals;
  double tail = (1.0 - options.confidence) / 2.0;
  for (int m = 0; m < kMetrics; ++m) {
    std::sort(means[m].begin(), means[m].end());
    intervals[m] = {quantile(means[m], tail), quantile(means[m], 1.0 - tail)};
  }
  return intervals;
}

}  // namespace

UserRankingScores score_ranking(std::span<const ItemIndex> ranked, std::span<const ItemIndex> relevant,
                                std::size_t k, std::size_t long_k) {
  if (relevant.empty()) throw Error("score_ranking: a user without relevant items has no ranking scores");
  if (k == 0) throw Error("score_ranking: K must be at least 1");
  if (long_k == 0) long_k = k;
  if (long_k < k) throw Error(fmt::format("score_ranking: the long cutoff {} is below K = {}", long_k, k));
  const std::size_t positions = std::min(ranked.size(), k);
  double long_hits = 0;
  for (std::size_t i = 0; i < std::min(ranked.size(), long_k); ++i)
    long_hits += std::binary_search(relevant.begin(), relevant.end(), ranked[i]) ? 1 : 0;
  double hits = 0;
  double dcg = 0;
  double precision_sum = 0;  // Σ P@i over relevant positions i
  for (std::size_t i = 0; i < positions; ++i) {
    if (!std::binary_search(relevant.begin(), relevant.end(), ranked[i])) continue;
    hits += 1;
    dcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
    precision_sum += hits / static_cast<double>(i + 1);
  }
  const std::size_t ideal_positions = std::min(relevant.size(), k);
  double ideal_dcg = 0;
  for (std::size_t i = 0; i < ideal_positions; ++i)
    ideal_dcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
  UserRankingScores scores;
  scores.precision = hits / static_cast<double>(k);
  scores.recall = hits / static_cast<double>(relevant.size());
  scores.ndcg = dcg / ideal_dcg;
  scores.average_precision = precision_sum / static_cast<double>(ideal_positions);
  scores.long_recall = long_hits / static_cast<double>(relevant.size());
  return scores;
}

RankingReport summarize_rankings(Context& ctx, std::span<const UserScores> local_users, std::size_t k,
                                 const BootstrapOptions& bootstrap, std::size_t long_k) {
  if (bootstrap.confidence <= 0 || bootstrap.confidence >= 1)
    throw Error(fmt::format("bootstrap confidence must lie in (0, 1), not {}", bootstrap.confidence));
  auto all = comm::gatherv(ctx.comm(), local_users, 0);
  RankingReport report;
  report.k = k;
  report.long_k = long_k == 0 ? k : long_k;
  if (ctx.is_root()) {
    std::sort(all.begin(), all.end(),
              [](const UserScores& a, const UserScores& b) { return a.user < b.user; });
    report.users = all.size();
    std::array<double, kMetrics> sum{};
    for (const UserScores& user : all) {
      auto values = as_array(user.scores);
      for (int m = 0; m < kMetrics; ++m) sum[m] += values[m];
    }
    std::array<Estimate*, kMetrics> estimates = {&report.precision, &report.recall, &report.ndcg, &report.map,
                                                 &report.long_recall};
    for (int m = 0; m < kMetrics; ++m) {
      double mean = all.empty() ? 0.0 : sum[m] / static_cast<double>(all.size());
      *estimates[m] = {mean, mean, mean};
    }
    if (!all.empty() && bootstrap.samples > 0) {
      auto intervals = bootstrap_intervals(all, bootstrap);
      for (int m = 0; m < kMetrics; ++m) {
        estimates[m]->low = intervals[m].first;
        estimates[m]->high = intervals[m].second;
      }
    }
  }
  return comm::broadcast_value(ctx.comm(), report, 0);
}

double catalog_coverage(Context& ctx, std::span<const ItemIndex> recommended, std::uint64_t catalog_size) {
  if (catalog_size == 0) return 0.0;
  std::vector<std::int32_t> seen(catalog_size, 0);
  for (ItemIndex item : recommended)
    if (item < catalog_size) seen[item] = 1;
  comm::allreduce(ctx.comm(), std::span<std::int32_t>(seen), comm::ReduceOp::kMax);
  auto covered = std::count(seen.begin(), seen.end(), 1);
  return static_cast<double>(covered) / static_cast<double>(catalog_size);
}

PredictionError prediction_error(Context& ctx, std::span<const float> predicted,
                                 std::span<const float> actual) {
  ctx.check_collectively(predicted.size() == actual.size()
                             ? ""
                             : fmt::format("prediction_error: {} predictions for {} observed values",
                                           predicted.size(), actual.size()));
  std::array<double, 3> sums{0, 0, static_cast<double>(predicted.size())};  // squared, absolute, count
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    double error = static_cast<double>(predicted[i]) - static_cast<double>(actual[i]);
    sums[0] += error * error;
    sums[1] += std::abs(error);
  }
  comm::allreduce(ctx.comm(), std::span<double>(sums), comm::ReduceOp::kSum);
  PredictionError result;
  result.count = static_cast<std::uint64_t>(sums[2]);
  if (result.count > 0) {
    result.rmse = std::sqrt(sums[0] / sums[2]);
    result.mae = sums[1] / sums[2];
  }
  return result;
}

}  // namespace tailflow::ops::metrics
