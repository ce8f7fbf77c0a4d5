#include "operators/metrics/bias_baseline.hpp"

#include "engine/comm/collectives.hpp"

namespace tailflow::ops::metrics {
namespace {

// Σ residual / (damping + n) per row, from this rank's (row, residual) pairs summed over all ranks.
std::vector<double> damped_means(Context& ctx, std::vector<double> sums, std::vector<double> counts,
                                 double damping) {
  comm::allreduce(ctx.comm(), std::span<double>(sums), comm::ReduceOp::kSum);
  comm::allreduce(ctx.comm(), std::span<double>(counts), comm::ReduceOp::kSum);
  for (std::size_t row = 0; row < sums.size(); ++row) sums[row] /= damping + counts[row];
  return sums;
}

}  // namespace

BiasBaseline fit_bias_baseline(Context& ctx, std::span<const Interaction> train, std::uint64_t user_count,
                               std::uint64_t item_count, double damping) {
  BiasBaseline model;
  double sum = 0;
  for (const auto& rating : train) sum += rating.value;
  const double total_sum = comm::allreduce_sum(ctx.comm(), sum);
  const auto total_count = comm::allreduce_sum(ctx.comm(), static_cast<std::uint64_t>(train.size()));
  model.global_mean = total_count > 0 ? total_sum / static_cast<double>(total_count) : 0.0;

  std::vector<double> item_sums(item_count, 0.0), item_counts(item_count, 0.0);
  for (const auto& rating : train) {
    item_sums[rating.item] += rating.value - model.global_mean;
    item_counts[rating.item] += 1;
  }
  model.item_bias = damped_means(ctx, std::move(item_sums), std::move(item_counts), damping);

  std::vector<double> user_sums(user_count, 0.0), user_counts(user_count, 0.0);
  for (const auto& rating : train) {
    user_sums[rating.user] += rating.value - model.global_mean - model.item_bias[rating.item];
    user_counts[rating.user] += 1;
  }
  model.user_bias = damped_means(ctx, std::move(user_sums), std::move(user_counts), damping);
  return model;
}

}  // namespace tailflow::ops::metrics
