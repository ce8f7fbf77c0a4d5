// `tailflow bench als`: seconds per ALS iteration, GFLOP/s, bytes moved and peak memory per rank, on
// synthetic power-law data of a given shape or on an interaction file.
//
// The timed part is the iteration itself (factor exchange, Gram allreduce, solves). The loss is evaluated
// once after the last iteration, outside the timing, as the `implicit` library's benchmarks do.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "engine/comm/collectives.hpp"
#include "engine/format_units.hpp"
#include "engine/memory_usage.hpp"
#include "engine/stage_metrics.hpp"
#include "jobs/als_cli_options.hpp"
#include "jobs/bench_support.hpp"
#include "jobs/interaction_options.hpp"
#include "jobs/subcommand.hpp"
#include "operators/als/als_trainer.hpp"
#include "operators/als/block_layout.hpp"
#include "operators/als/communication_model.hpp"
#include "operators/als/synthetic_interactions.hpp"

namespace tailflow::jobs {
namespace {

using namespace ops::als;

// fp32 peak of one core of this machine's AMD EPYC: 2 AVX-512 FMA pipes × 16 lanes × 2 flops × ~3.5 GHz.
constexpr double kPeakGflopsPerCore = 223.0;

struct BenchData {
  std::vector<ops::Interaction> local;
  std::uint32_t users = 0;
  std::uint32_t items = 0;
  std::string source;
  std::optional<SyntheticShape> shape;  // synthetic data only
};

BenchData bench_data(Context& ctx, const po::variables_map& values) {
  BenchData data;
  if (values.count("interactions")) {
    auto loaded = ops::data::load_interactions(ctx, interaction_load_options(values));
    data.users = static_cast<std::uint32_t>(loaded.users.size());
    data.items = static_cast<std::uint32_t>(loaded.items.size());
    data.local = std::move(loaded.local);
    data.source = values["interactions"].as<std::string>();
    return data;
  }
  SyntheticShape shape;
  shape.users = values["users"].as<std::uint32_t>();
  shape.items = values["items"].as<std::uint32_t>();
  shape.nnz = values["nnz"].as<std::uint64_t>();
  shape.seed = values["data-seed"].as<std::uint64_t>();
  data.users = shape.users;
  data.items = shape.items;
  data.local = generate_synthetic_interactions(shape, ctx.rank(), ctx.size());
  data.shape = shape;
  data.source = fmt::format("synthetic power-law {} users × {} items × {} interactions (seed {})",
                            shape.users, shape.items, shape.nnz, shape.seed);
  return data;
}

int run_bench_als(Context& ctx, const po::variables_map& values) {
  AlsOptions options = als_options_from(values);
  const std::uint64_t baseline_rss = current_rss_bytes();

  Stopwatch watch;
  BenchData data = bench_data(ctx, values);
  const double input_seconds = comm::allreduce_max(ctx.comm(), watch.seconds());
  const std::uint64_t input_rows = comm::allreduce_sum<std::uint64_t>(ctx.comm(), data.local.size());
  ctx.log().info("bench als: {} ({} interactions in {:.2f} s)", data.source, input_rows, input_seconds);

  watch.restart();
  LayoutOptions layout_options;
  layout_options.row_cost = RowCost::for_solver(options.solver, options.factors);
  layout_options.merge_duplicates = options.feedback == Feedback::kImplicit;
  BlockLayout layout = build_block_layout(ctx, data.users, data.items, std::move(data.local), layout_options);
  const double layout_seconds = comm::allreduce_max(ctx.comm(), watch.seconds());

  AlsTrainer trainer(ctx, layout, options);
  trainer.train();
  LossValue loss = trainer.evaluate_loss();

  std::vector<double> seconds;
  std::vector<double> cpu_seconds;
  std::vector<double> solve_cpu_seconds;
  std::vector<std::vector<double>> rank_solve_cpu_seconds(ctx.size());  // [rank][iteration]
  std::vector<double> gflops;
  std::uint64_t bytes_moved = 0;
  for (const IterationReport& report : trainer.history()) {
    double solve_seconds = report.seconds - report.loss_seconds;
    seconds.push_back(solve_seconds);
    cpu_seconds.push_back(report.cpu_seconds);
    solve_cpu_seconds.push_back(report.compute_cpu_seconds);
    for (int r = 0; r < ctx.size(); ++r)
      rank_solve_cpu_seconds[r].push_back(report.rank_compute_cpu_seconds[r]);
    gflops.push_back(report.flops / solve_seconds * 1e-9);
    bytes_moved = report.bytes_moved;
  }
  const double median_seconds = median(seconds);
  const double median_gflops = median(gflops);
  std::vector<double> rank_solve_cpu;  // each rank's median
  for (const std::vector<double>& per_iteration : rank_solve_cpu_seconds)
    rank_solve_cpu.push_back(median(per_iteration));

  // Memory: the peak over the whole run, less what the process held before any data, less the factors
  // (this rank's rows of both sides, on several ranks the full-size buffers the exchange fills, and the
  // Cholesky solver's transformed copy of the fixed side).
  const std::uint64_t peak_rss = peak_rss_bytes();
  // With the node-shared exchange the owned rows are part of the shared full-size regions.
  const bool shared = trainer.user_step_exchange().mode() == ExchangeMode::kShared;
  const std::uint64_t factor_bytes =
      (shared ? 0 : trainer.owned(Side::kUsers).bytes() + trainer.owned(Side::kItems).bytes()) +
      trainer.solver_scratch_bytes() +
      (ctx.size() > 1
           ? (static_cast<std::uint64_t>(layout.users) + layout.items) *
                 FactorMatrix::stride_for(options.factors + (options.biases ? 1 : 0)) * sizeof(float)
           : 0);
  const double held = std::max<double>(1, 0.5 * (layout.user_block.nnz() + layout.item_block.nnz()));
  const double bytes_per_interaction = (static_cast<double>(peak_rss) - static_cast<double>(baseline_rss) -
                                        static_cast<double>(factor_bytes)) /
                                       held;

  JsonObject settings;
  settings.add("users", static_cast<std::uint64_t>(layout.users))
      .add("items", static_cast<std::uint64_t>(layout.items))
      .add("interactions", layout.total_nnz)
      .add("input_rows", input_rows)
      .add("data", data.source)
      .add("factors", options.factors)
      .add("iterations", options.iterations)
      .add("feedback", to_string(options.feedback))
      .add("solver", to_string(options.solver))
      .add("cg_steps", options.cg_steps)
      .add("reg", options.regularization)
      .add("reg_scaling", to_string(options.reg_scaling))
      .add("alpha", options.alpha)
      .add("biases", options.biases)
      .add("exchange", to_string(options.exchange))
      .add("seed", options.seed);

  JsonObject report = bench_header(ctx, "als");
  report.add("seconds_per_iteration", median_seconds)
      .add("best_seconds_per_iteration",
           seconds.empty() ? 0.0 : *std::min_element(seconds.begin(), seconds.end()))
      .add("iteration_seconds", seconds)
      .add("cpu_seconds_per_iteration", median(cpu_seconds))
      .add("solve_cpu_seconds_per_iteration", median(solve_cpu_seconds))
      .add("solve_cpu_seconds_per_rank", rank_solve_cpu)
      .add("gflops", median_gflops)
      .add("fraction_of_peak", median_gflops / (kPeakGflopsPerCore * ctx.size()))
      .add("peak_gflops_assumed", kPeakGflopsPerCore * ctx.size())
      .add("bytes_moved_per_iteration", bytes_moved)
      .add("user_step_exchange", to_string(trainer.user_step_exchange().mode()))
      .add("item_step_exchange", to_string(trainer.item_step_exchange().mode()))
      .add("final_loss", loss.normalised)
      .add("peak_rss_bytes", comm::allreduce_max(ctx.comm(), peak_rss))
      .add("baseline_rss_bytes", comm::allreduce_max(ctx.comm(), baseline_rss))
      .add("factor_bytes_per_rank", comm::allreduce_max(ctx.comm(), factor_bytes))
      .add("bytes_per_interaction", comm::allreduce_max(ctx.comm(), bytes_per_interaction))
      .add("input_seconds", input_seconds)
      .add("layout_seconds", layout_seconds)
      .add("settings", settings);
  if (options.feedback == Feedback::kExplicit) report.add("final_rmse", loss.rmse);
  // Both exchange modes as the trainer counts them, and, for synthetic data, as the communication model
  // predicts them from the shape alone (docs/scaling.md).
  const FactorExchange& user_step = trainer.user_step_exchange();
  const FactorExchange& item_step = trainer.item_step_exchange();
  report.add("broadcast_bytes_per_iteration", user_step.broadcast_bytes() + item_step.broadcast_bytes())
      .add("targeted_bytes_per_iteration", user_step.targeted_bytes() + item_step.targeted_bytes());
  if (data.shape) {
    const IterationTraffic predicted =
        predict_iteration_traffic(InteractionGraphModel::synthetic(*data.shape), ctx.size(), options.factors,
                                  options.biases, options.feedback == Feedback::kImplicit, options.solver);
    report.add("predicted_bytes_moved_per_iteration", predicted.exchange_bytes(user_step.mode()))
        .add("predicted_broadcast_bytes_per_iteration", predicted.exchange_bytes(ExchangeMode::kBroadcast))
        .add("predicted_targeted_bytes_per_iteration", predicted.exchange_bytes(ExchangeMode::kTargeted))
        .add("predicted_gram_bytes_per_rank", predicted.gram_bytes_per_rank);
  }
  ctx.log().info(
      "bench als: {:.4f} s per iteration (median of {}), {:.1f} GFLOP/s ({:.1f}% of peak), {} moved, "
      "loss {:.6g}, {:.1f} bytes per interaction",
      median_seconds, seconds.size(), median_gflops, 100 * median_gflops / (kPeakGflopsPerCore * ctx.size()),
      format_bytes(bytes_moved), loss.normalised, bytes_per_interaction);
  if (ctx.size() > 1)
    ctx.log().info("bench als: solve CPU per rank {:.4f} s (busiest / mean {:.3f})",
                   fmt::join(rank_solve_cpu, " "),
                   *std::max_element(rank_solve_cpu.begin(), rank_solve_cpu.end()) * rank_solve_cpu.size() /
                       std::accumulate(rank_solve_cpu.begin(), rank_solve_cpu.end(), 0.0));
  write_bench_json(ctx, values["json"].as<std::string>(), report);
  return 0;
}

AlsOptions bench_defaults() {
  AlsOptions defaults;
  defaults.iterations = 10;
  defaults.loss_every = 0;
  return defaults;
}

const SubcommandRegistration registration{Subcommand{
    "bench als", "seconds per ALS iteration, GFLOP/s, bytes moved, peak memory (synthetic data or a file)",
    [](po::options_description& options) {
      options.add_options()("users", po::value<std::uint32_t>()->default_value(100'000), "synthetic users")(
          "items", po::value<std::uint32_t>()->default_value(50'000), "synthetic items")(
          "nnz", po::value<std::uint64_t>()->default_value(5'000'000), "synthetic interactions (about)")(
          "data-seed", po::value<std::uint64_t>()->default_value(1), "seed of the synthetic data")(
          "json", po::value<std::string>()->required(), "write the report here");
      add_als_options(options, bench_defaults());
      add_interaction_options(options, /*required=*/false);
    },
    run_bench_als}};

}  // namespace
}  // namespace tailflow::jobs
