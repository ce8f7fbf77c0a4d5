// Helpers shared by the ALS tests: spreading a data set over ranks, training, and collecting every rank's
// factors into full matrices indexed by original id, so results can be compared with serial references.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/comm/collectives.hpp"
#include "engine/comm/thread_communicator.hpp"
#include "engine/context.hpp"
#include "operators/als/als_trainer.hpp"
#include "operators/als/block_layout.hpp"
#include "operators/data/interaction.hpp"

namespace tailflow::testing {

struct FullFactors {
  Eigen::MatrixXf users;  // row = original user index
  Eigen::MatrixXf items;
  Eigen::VectorXf user_biases;
  Eigen::VectorXf item_biases;
  std::vector<double> losses;
};

// Rank r's share: every size()-th interaction starting at r (an arbitrary, rank-count-dependent split).
inline std::vector<ops::Interaction> share_of(Context& ctx, const std::vector<ops::Interaction>& all) {
  std::vector<ops::Interaction> mine;
  for (std::size_t i = ctx.rank(); i < all.size(); i += ctx.size()) mine.push_back(all[i]);
  return mine;
}

inline Eigen::MatrixXf gather_rows(Context& ctx, const ops::als::RowMajorMatrix& rows,
                                   const std::vector<std::uint32_t>& ids, std::uint32_t total, int columns) {
  auto all_ids = comm::allgatherv(ctx.comm(), std::span<const std::uint32_t>(ids));
  std::vector<float> values(rows.data(), rows.data() + rows.size());
  auto all_values = comm::allgatherv(ctx.comm(), std::span<const float>(values));
  Eigen::MatrixXf full = Eigen::MatrixXf::Constant(total, columns, std::nanf(""));
  for (std::size_t i = 0; i < all_ids.size(); ++i)
    for (int c = 0; c < columns; ++c) full(all_ids[i], c) = all_values[i * columns + c];
  return full;
}

inline FullFactors gather_result(Context& ctx, const ops::als::AlsResult& result, std::uint32_t users,
                                 std::uint32_t items, int factors) {
  FullFactors full;
  full.users = gather_rows(ctx, result.user_factors, result.user_ids, users, factors);
  full.items = gather_rows(ctx, result.item_factors, result.item_ids, items, factors);
  if (!result.user_biases.empty() || !result.item_biases.empty()) {
    ops::als::RowMajorMatrix ub =
        Eigen::Map<const Eigen::VectorXf>(result.user_biases.data(), result.user_biases.size());
    ops::als::RowMajorMatrix ib =
        Eigen::Map<const Eigen::VectorXf>(result.item_biases.data(), result.item_biases.size());
    full.user_biases = gather_rows(ctx, ub, result.user_ids, users, 1);
    full.item_biases = gather_rows(ctx, ib, result.item_ids, items, 1);
  }
  for (const auto& report : result.history) full.losses.push_back(report.loss);
  return full;
}

// Collective: lays out this rank's share of `all`, trains, and gathers the factors on every rank.
inline FullFactors train_distributed(Context& ctx, std::uint32_t users, std::uint32_t items,
                                     const std::vector<ops::Interaction>& all,
                                     const ops::als::AlsOptions& options) {
  ops::als::LayoutOptions layout_options;
  layout_options.row_cost = ops::als::RowCost::for_solver(options.solver, options.factors);
  layout_options.merge_duplicates = options.feedback == ops::als::Feedback::kImplicit;
  layout_options.rows_per_round = 7;  // many small rounds: exercises the round logic
  auto layout = ops::als::build_block_layout(ctx, users, items, share_of(ctx, all), layout_options);
  auto result = ops::als::train_als(ctx, layout, options);
  return gather_result(ctx, result, users, items, options.factors);
}

// The same on one rank, in a thread of its own (usable inside a distributed test on any backend).
inline FullFactors train_serially(std::uint32_t users, std::uint32_t items,
                                  const std::vector<ops::Interaction>& all,
                                  const ops::als::AlsOptions& options) {
  FullFactors full;
  comm::run_on_threads(1, [&](comm::Communicator& comm) {
    Context ctx(comm);
    ctx.log().set_quiet(true);
    full = train_distributed(ctx, users, items, all, options);
  });
  return full;
}

// Largest |a − b| relative to the largest |b|.
inline double max_relative_difference(const Eigen::MatrixXf& a, const Eigen::MatrixXf& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(1e-30f, b.cwiseAbs().maxCoeff());
}

}  // namespace tailflow::testing
