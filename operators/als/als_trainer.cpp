#include "operators/als/als_trainer.hpp"

#include <fmt/format.h>

#include <time.h>
#include <algorithm>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/format_units.hpp"
#include "engine/stage_metrics.hpp"
#include "operators/als/cholesky_solver.hpp"
#include "operators/als/conjugate_gradient.hpp"
#include "operators/als/gram.hpp"
#include "operators/als/half_step.hpp"
#include "operators/als/loss.hpp"

namespace tailflow::ops::als {

struct AlsTrainer::HalfStepOutcome {
  HalfStep step;
  std::uint64_t bytes_moved = 0;
  std::uint64_t flops = 0;
  double compute_cpu_seconds = 0;
};

namespace {

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

std::span<const std::uint32_t> owned_ids(const DegreeRelabeling& labels, const RowRanges& ranges, int rank) {
  return std::span<const std::uint32_t>(labels.to_external).subspan(ranges.begin(rank), ranges.count(rank));
}

}  // namespace

AlsTrainer::AlsTrainer(Context& ctx, const BlockLayout& layout, const AlsOptions& options)
    : ctx_(ctx), layout_(layout), options_(options) {
  validate(options_);
  const int dims = options_.factors + (options_.biases ? 1 : 0);
  const int rank = ctx.rank();
  const int stride = FactorMatrix::stride_for(dims);
  const bool share =
      ctx.size() > 1 && (options_.exchange == ExchangeMode::kShared ||
                         (options_.exchange == ExchangeMode::kAuto && ctx.comm().can_share_memory()));
  if (share && !ctx.comm().can_share_memory())
    throw CollectiveError("--exchange shared needs every rank on one node; use auto, broadcast or targeted");
  if (share) {
    // Owned rows are contiguous and in rank order (RowRanges), so rank r's part of the region is exactly
    // its rows' place in the whole side.
    const std::size_t row_bytes = static_cast<std::size_t>(stride) * sizeof(float);
    shared_users_ = ctx.comm().allocate_shared(layout.user_ranges.count(rank) * row_bytes);
    shared_items_ = ctx.comm().allocate_shared(layout.item_ranges.count(rank) * row_bytes);
    auto* user_rows = reinterpret_cast<float*>(shared_users_->data());
    auto* item_rows = reinterpret_cast<float*>(shared_items_->data());
    all_users_ = FactorMatrix::view(user_rows, layout.users, dims);
    all_items_ = FactorMatrix::view(item_rows, layout.items, dims);
    users_ =
        FactorMatrix::view(all_users_.row(layout.user_ranges.begin(rank)), layout.user_block.rows(), dims);
    items_ =
        FactorMatrix::view(all_items_.row(layout.item_ranges.begin(rank)), layout.item_block.rows(), dims);
  } else {
    users_ = FactorMatrix(layout.user_block.rows(), dims);
    items_ = FactorMatrix(layout.item_block.rows(), dims);
    if (ctx.size() > 1) {
      all_users_ = FactorMatrix(layout.users, dims);
      all_items_ = FactorMatrix(layout.items, dims);
    }
  }
  initialise_factors(users_, owned_ids(layout.user_labels, layout.user_ranges, rank), Side::kUsers,
                     options_.seed, options_.factors);
  initialise_factors(items_, owned_ids(layout.item_labels, layout.item_ranges, rank), Side::kItems,
                     options_.seed, options_.factors);
  // The Cholesky solver's transformed fixed rows (cholesky_solver.hpp), sized once for both half-steps so
  // that the larger side does not briefly coexist with the smaller one.
  if (options_.solver == SolverKind::kCholesky && options_.feedback == Feedback::kImplicit &&
      options_.reg_scaling == RegScaling::kNone && !options_.biases)
    solver_scratch_ = FactorMatrix(std::max(layout.users, layout.items), dims);
  // On one rank nothing moves, whatever the mode; "shared" there is simply the factors in place.
  const ExchangeMode exchange = share                                        ? ExchangeMode::kShared
                                : options_.exchange == ExchangeMode::kShared ? ExchangeMode::kBroadcast
                                                                             : options_.exchange;
  user_exchange_ = std::make_unique<FactorExchange>(ctx, layout.item_ranges, layout.user_block, stride,
                                                    exchange, shared_items_.get());
  item_exchange_ = std::make_unique<FactorExchange>(ctx, layout.user_ranges, layout.item_block, stride,
                                                    exchange, shared_users_.get());
  if (options_.biases) {
    double sum = 0;
    for (float v : layout.user_block.values) sum += v;
    sum = comm::allreduce_sum(ctx.comm(), sum);
    global_mean_ = layout.total_nnz > 0 ? static_cast<float>(sum / static_cast<double>(layout.total_nnz)) : 0;
  }
  ctx.log().info(
      "als: {} users × {} items, {} interactions, {} factors, {} feedback, {} solver{}", layout.users,
      layout.items, layout.total_nnz, options_.factors, to_string(options_.feedback),
      to_string(options_.solver),
      options_.solver == SolverKind::kConjugateGradient ? fmt::format(" ({} steps)", options_.cg_steps) : "");
  ctx.log().info("als: factor exchange for users: {} ({} per half-step; broadcast {}, targeted {})",
                 to_string(user_exchange_->mode()), format_bytes(user_exchange_->bytes_per_run()),
                 format_bytes(user_exchange_->broadcast_bytes()),
                 format_bytes(user_exchange_->targeted_bytes()));
  ctx.log().info("als: factor exchange for items: {} ({} per half-step; broadcast {}, targeted {})",
                 to_string(item_exchange_->mode()), format_bytes(item_exchange_->bytes_per_run()),
                 format_bytes(item_exchange_->broadcast_bytes()),
                 format_bytes(item_exchange_->targeted_bytes()));
}

AlsTrainer::HalfStepOutcome AlsTrainer::solve_side(FactorMatrix& solving, const FactorMatrix& fixed_owned,
                                                   FactorMatrix& fixed_full, FactorExchange& exchange,
                                                   const CsrBlock& block) {
  HalfStepOutcome outcome;
  // On one rank the owned rows are all rows: read them in place.
  const FactorMatrix* fixed = &fixed_owned;
  if (ctx_.size() > 1) {
    exchange.run(ctx_, fixed_owned, fixed_full);
    outcome.bytes_moved = exchange.bytes_per_run();
    fixed = &fixed_full;
  }
  outcome.step = half_step(block, *fixed);
  HalfStep& step = outcome.step;
  step.scratch = &solver_scratch_;
  if (options_.feedback == Feedback::kImplicit) {
    step.gram = allreduce_gram(ctx_, fixed_owned, options_.factors).cast<float>();
    outcome.flops += 2ull * options_.factors * options_.factors * fixed_owned.rows();
  }
  const double cpu_start = thread_cpu_seconds();
  outcome.flops += options_.solver == SolverKind::kCholesky
                       ? solve_cholesky(step, solving)
                       : solve_conjugate_gradient(step, options_.cg_steps, solving);
  outcome.compute_cpu_seconds = thread_cpu_seconds() - cpu_start;
  return outcome;
}

HalfStep AlsTrainer::half_step(const CsrBlock& block, const FactorMatrix& fixed) const {
  HalfStep step;
  step.fixed = &fixed;
  step.block = &block;
  step.factors = options_.factors;
  step.feedback = options_.feedback;
  step.alpha = static_cast<float>(options_.alpha);
  step.regularization = static_cast<float>(options_.regularization);
  step.reg_scaling = options_.reg_scaling;
  step.biases = options_.biases;
  step.global_mean = global_mean_;
  return step;
}

LossValue AlsTrainer::evaluate_loss() {
  const FactorMatrix* fixed = &users_;
  if (ctx_.size() > 1) {
    item_exchange_->run(ctx_, users_, all_users_);
    fixed = &all_users_;
  }
  HalfStep step = half_step(layout_.item_block, *fixed);
  if (options_.feedback == Feedback::kImplicit)
    step.gram = allreduce_gram(ctx_, users_, options_.factors).cast<float>();
  return compute_loss(ctx_, step, items_, users_, layout_.user_block,
                      static_cast<double>(layout_.users) * layout_.items);
}

namespace {
double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}
}  // namespace

IterationReport AlsTrainer::iterate() {
  Stopwatch watch;
  const double cpu_start = process_cpu_seconds();
  IterationReport report;
  report.iteration = iterations_done() + 1;
  HalfStepOutcome user_side = solve_side(users_, items_, all_items_, *user_exchange_, layout_.user_block);
  HalfStepOutcome item_side = solve_side(items_, users_, all_users_, *item_exchange_, layout_.item_block);
  report.bytes_moved = user_side.bytes_moved + item_side.bytes_moved;
  std::uint64_t flops = user_side.flops + item_side.flops;
  const bool loss_due = options_.loss_every > 0 && report.iteration % options_.loss_every == 0;
  if (loss_due || (options_.tolerance > 0 && options_.loss_every > 0)) {
    Stopwatch loss_watch;
    LossValue loss = compute_loss(ctx_, item_side.step, items_, users_, layout_.user_block,
                                  static_cast<double>(layout_.users) * layout_.items);
    report.loss = loss.normalised;
    if (options_.feedback == Feedback::kExplicit) report.rmse = loss.rmse;
    report.loss_seconds = comm::allreduce_max(ctx_.comm(), loss_watch.seconds());
  }
  report.flops = comm::allreduce_sum(ctx_.comm(), flops);
  report.rank_compute_cpu_seconds =
      comm::allgather_value(ctx_.comm(), user_side.compute_cpu_seconds + item_side.compute_cpu_seconds);
  report.compute_cpu_seconds =
      *std::max_element(report.rank_compute_cpu_seconds.begin(), report.rank_compute_cpu_seconds.end());
  report.cpu_seconds = comm::allreduce_max(ctx_.comm(), process_cpu_seconds() - cpu_start);
  report.seconds = comm::allreduce_max(ctx_.comm(), watch.seconds());
  history_.push_back(report);
  return report;
}

void AlsTrainer::train(const std::function<void(const IterationReport&)>& after_iteration) {
  Stopwatch watch;
  std::uint64_t bytes = 0;
  while (iterations_done() < options_.iterations) {
    double previous = history_.empty() ? std::numeric_limits<double>::quiet_NaN() : history_.back().loss;
    IterationReport report = iterate();
    bytes += report.bytes_moved;
    std::string loss = std::isnan(report.loss) ? "-" : fmt::format("{:.6g}", report.loss);
    if (!std::isnan(report.rmse)) loss += fmt::format(" (rmse {:.4f})", report.rmse);
    ctx_.log().info("als iteration {:>3}/{}: loss {}  {:.3f} s ({:.3f} s cpu)  {} moved  {:.1f} GFLOP/s",
                    report.iteration, options_.iterations, loss, report.seconds, report.cpu_seconds,
                    format_bytes(report.bytes_moved), report.flops / report.seconds * 1e-9);
    if (after_iteration) after_iteration(report);
    if (options_.tolerance > 0 && !std::isnan(previous) && !std::isnan(report.loss)) {
      double change = std::abs(previous - report.loss) / std::max(std::abs(previous), 1e-300);
      if (change < options_.tolerance) {
        ctx_.log().info("als: relative loss change {:.3g} below --tolerance {:.3g}: stopping", change,
                        options_.tolerance);
        break;
      }
    }
  }
  ctx_.metrics().record(
      Stage{"als train", layout_.user_block.nnz(), users_.rows() + items_.rows(), bytes, watch.seconds()});
}

AlsResult AlsTrainer::result() const {
  AlsResult result;
  const int rank = ctx_.rank();
  const int k = options_.factors;
  result.user_factors = users_.to_eigen(k);
  result.item_factors = items_.to_eigen(k);
  auto user_ids = owned_ids(layout_.user_labels, layout_.user_ranges, rank);
  auto item_ids = owned_ids(layout_.item_labels, layout_.item_ranges, rank);
  result.user_ids.assign(user_ids.begin(), user_ids.end());
  result.item_ids.assign(item_ids.begin(), item_ids.end());
  for (std::size_t r = 0; r < layout_.user_block.rows(); ++r)
    result.user_counts.push_back(layout_.user_block.row_nnz(r));
  for (std::size_t r = 0; r < layout_.item_block.rows(); ++r)
    result.item_counts.push_back(layout_.item_block.row_nnz(r));
  if (options_.biases) {
    for (std::size_t r = 0; r < users_.rows(); ++r) result.user_biases.push_back(users_.row(r)[k]);
    for (std::size_t r = 0; r < items_.rows(); ++r) result.item_biases.push_back(items_.row(r)[k]);
    result.global_mean = global_mean_;
  }
  result.history = history_;
  result.user_step_exchange = user_exchange_->mode();
  result.item_step_exchange = item_exchange_->mode();
  return result;
}

AlsResult train_als(Context& ctx, const BlockLayout& layout, const AlsOptions& options) {
  AlsTrainer trainer(ctx, layout, options);
  trainer.train();
  return trainer.result();
}

}  // namespace tailflow::ops::als
