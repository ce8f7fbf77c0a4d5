// Alternating least squares on the block layout: the training loop.
//
// One iteration = two half-steps. Users given items: the item factors move to the ranks whose user block
// references them (factor_exchange.hpp), implicit feedback adds one allreduce for YᵀY (gram.hpp), and every
// rank solves its own users (conjugate_gradient.hpp or cholesky_solver.hpp). Then the same for items given
// users. Every rank keeps the factors of the rows it owns; nothing else persists between iterations.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "engine/context.hpp"
#include "operators/als/als_options.hpp"
#include "operators/als/block_layout.hpp"
#include "operators/als/factor_exchange.hpp"
#include "operators/als/factor_matrix.hpp"
#include "operators/als/initialisation.hpp"
#include "operators/als/loss.hpp"

namespace tailflow::ops::als {

struct IterationReport {
  int iteration = 0;   // 1-based
  double seconds = 0;  // wall time of the iteration, slowest rank (loss included when computed)
  double loss_seconds = 0;
  // CPU time of the iteration, busiest rank: a check on `seconds` on a loaded machine.
  double cpu_seconds = 0;
  // CPU time in the local computations only (the solves, not collectives), busiest rank: about what an
  // iteration would take on an idle machine, less communication.
  double compute_cpu_seconds = 0;
  // The same for every rank (index = rank): how evenly the row ranges split the work.
  std::vector<double> rank_compute_cpu_seconds;
  double loss = std::numeric_limits<double>::quiet_NaN();  // normalised loss; NaN when not computed
  double rmse = std::numeric_limits<double>::quiet_NaN();  // explicit only
  std::uint64_t bytes_moved = 0;  // factor bytes sent between ranks, all ranks together
  std::uint64_t flops = 0;        // floating-point operations, all ranks together
};

struct AlsResult {
  RowMajorMatrix user_factors;          // this rank's users × factors
  RowMajorMatrix item_factors;          // this rank's items × factors
  std::vector<std::uint32_t> user_ids;  // original index of each row of user_factors
  std::vector<std::uint32_t> item_ids;
  std::vector<float> user_biases;  // with biases only
  std::vector<float> item_biases;
  float global_mean = 0;                   // with biases only
  std::vector<std::uint32_t> user_counts;  // training interactions per row
  std::vector<std::uint32_t> item_counts;
  std::vector<IterationReport> history;
  ExchangeMode user_step_exchange = ExchangeMode::kBroadcast;
  ExchangeMode item_step_exchange = ExchangeMode::kBroadcast;
};

class AlsTrainer {
 public:
  // Collective: plans the exchanges and initialises the factors from options.seed.
  AlsTrainer(Context& ctx, const BlockLayout& layout, const AlsOptions& options);

  // Collective: one iteration (users, then items, then the loss when due).
  IterationReport iterate();

  // Collective: iterates until options.iterations are done or the loss stops improving by more than
  // options.tolerance (relative); one progress line per iteration on rank 0. `after_iteration`, if given,
  // runs on every rank after each iteration (e.g. to write a checkpoint).
  void train(const std::function<void(const IterationReport&)>& after_iteration = {});

  // Collective: the loss of the current factors (brings the user factors to the item blocks first).
  LossValue evaluate_loss();

  // This rank's rows, their original ids and counts, and the history so far.
  AlsResult result() const;

  // For checkpoints: the owned rows of each side (row r is internal row ranges.begin(rank) + r) and the
  // number of iterations done.
  FactorMatrix& owned(Side side) { return side == Side::kUsers ? users_ : items_; }
  int iterations_done() const { return static_cast<int>(history_.size()); }
  // Work memory of the solver that scales with the factors (the Cholesky solver's transformed rows).
  std::size_t solver_scratch_bytes() const { return solver_scratch_.bytes(); }
  const std::vector<IterationReport>& history() const { return history_; }
  void set_history(std::vector<IterationReport> history) { history_ = std::move(history); }
  const FactorExchange& user_step_exchange() const { return *user_exchange_; }
  const FactorExchange& item_step_exchange() const { return *item_exchange_; }

 private:
  struct HalfStepOutcome;
  HalfStep half_step(const CsrBlock& block, const FactorMatrix& fixed) const;
  HalfStepOutcome solve_side(FactorMatrix& solving, const FactorMatrix& fixed_owned, FactorMatrix& fixed_full,
                             FactorExchange& exchange, const CsrBlock& block);

  Context& ctx_;
  const BlockLayout& layout_;
  AlsOptions options_;
  float global_mean_ = 0;
  // With ExchangeMode::kShared: each side's rows in one node-shared region, every rank's owned rows a view
  // of its part and all_users_ / all_items_ views of the whole.
  std::unique_ptr<comm::SharedRegion> shared_users_;
  std::unique_ptr<comm::SharedRegion> shared_items_;
  FactorMatrix users_;
  FactorMatrix items_;
  FactorMatrix all_users_;  // every user row this rank's item block references (more than one rank only)
  FactorMatrix all_items_;
  FactorMatrix solver_scratch_;                    // kept between half-steps by the Cholesky solver
  std::unique_ptr<FactorExchange> user_exchange_;  // item factors for the user half-step
  std::unique_ptr<FactorExchange> item_exchange_;  // user factors for the item half-step
  std::vector<IterationReport> history_;
};

// Builds a trainer, trains, and returns this rank's result.
AlsResult train_als(Context& ctx, const BlockLayout& layout, const AlsOptions& options);

}  // namespace tailflow::ops::als
