// ALS across ranks: the same factors on 1, 2, 3 and 4 ranks, broadcast and targeted exchange agreeing,
// decreasing loss, ranks without rows, and recovery of a low-rank matrix.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "operators/als/synthetic_interactions.hpp"
#include "tests/operators/als_test_support.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::testing {
namespace {

using namespace ops::als;
using ops::Interaction;

std::vector<Interaction> power_law_data(std::uint32_t users, std::uint32_t items, std::uint64_t nnz) {
  SyntheticShape shape;
  shape.users = users;
  shape.items = items;
  shape.nnz = nnz;
  shape.seed = 3;
  return generate_synthetic_interactions(shape, 0, 1);
}

AlsOptions small_options(Feedback feedback, SolverKind solver) {
  AlsOptions options;
  options.factors = 8;
  options.iterations = 4;
  options.regularization = 0.05;
  options.feedback = feedback;
  options.solver = solver;
  options.cg_steps = 3;
  options.seed = 11;
  return options;
}

void expect_same_on_any_rank_count(const AlsOptions& options) {
  const auto data = power_law_data(300, 120, 4000);
  const FullFactors reference = train_serially(300, 120, data, options);
  run_distributed({1, 2, 3, 4}, [&](Context& ctx) {
    ctx.log().set_quiet(true);
    FullFactors got = train_distributed(ctx, 300, 120, data, options);
    EXPECT_LT(max_relative_difference(got.users, reference.users), 1e-4);
    EXPECT_LT(max_relative_difference(got.items, reference.items), 1e-4);
  });
}

TEST(AlsDistributedTest, ImplicitConjugateGradientIsDeterministicAcrossRankCounts) {
  expect_same_on_any_rank_count(small_options(Feedback::kImplicit, SolverKind::kConjugateGradient));
}

TEST(AlsDistributedTest, ImplicitCholeskyIsDeterministicAcrossRankCounts) {
  expect_same_on_any_rank_count(small_options(Feedback::kImplicit, SolverKind::kCholesky));
}

TEST(AlsDistributedTest, ExplicitCholeskyIsDeterministicAcrossRankCounts) {
  auto options = small_options(Feedback::kExplicit, SolverKind::kCholesky);
  options.reg_scaling = RegScaling::kCount;
  expect_same_on_any_rank_count(options);
}

TEST(AlsDistributedTest, BroadcastTargetedAndSharedExchangeGiveTheSameFactors) {
  const auto data = power_law_data(400, 300, 2500);  // sparse: blocks reference few rows
  run_distributed({2, 3, 4}, [&](Context& ctx) {
    ctx.log().set_quiet(true);
    auto options = small_options(Feedback::kImplicit, SolverKind::kConjugateGradient);
    options.exchange = ExchangeMode::kBroadcast;
    FullFactors broadcast = train_distributed(ctx, 400, 300, data, options);
    options.exchange = ExchangeMode::kTargeted;
    FullFactors targeted = train_distributed(ctx, 400, 300, data, options);
    EXPECT_EQ(broadcast.users, targeted.users);
    EXPECT_EQ(broadcast.items, targeted.items);
    options.exchange = ExchangeMode::kShared;  // the tests' ranks share one node
    FullFactors shared = train_distributed(ctx, 400, 300, data, options);
    EXPECT_EQ(broadcast.users, shared.users);
    EXPECT_EQ(broadcast.items, shared.items);
  });
}

TEST(AlsDistributedTest, AutoSharesTheFactorsOnOneNodeAndMovesNothing) {
  const auto data = power_law_data(400, 300, 2500);
  run_distributed({2, 3}, [&](Context& ctx) {
    if (ctx.size() < 2) return;  // under mpiexec -n 1: one rank reads its factors in place
    ctx.log().set_quiet(true);
    auto options = small_options(Feedback::kImplicit, SolverKind::kConjugateGradient);
    LayoutOptions layout_options;
    layout_options.row_cost = RowCost::for_solver(options.solver, options.factors);
    auto layout = build_block_layout(ctx, 400, 300, share_of(ctx, data), layout_options);
    AlsTrainer trainer(ctx, layout, options);
    EXPECT_EQ(trainer.user_step_exchange().mode(), ExchangeMode::kShared);
    EXPECT_EQ(trainer.item_step_exchange().mode(), ExchangeMode::kShared);
    EXPECT_EQ(trainer.iterate().bytes_moved, 0u);
  });
}

TEST(AlsDistributedTest, TargetedExchangeMovesOnlyReferencedRows) {
  const auto data = power_law_data(400, 300, 2500);
  run_distributed({2, 3}, [&](Context& ctx) {
    ctx.log().set_quiet(true);
    LayoutOptions layout_options;
    layout_options.row_cost = RowCost::for_solver(SolverKind::kConjugateGradient, 8);
    auto layout = build_block_layout(ctx, 400, 300, share_of(ctx, data), layout_options);
    FactorExchange automatic(ctx, layout.item_ranges, layout.user_block, 16, ExchangeMode::kAuto);
    FactorExchange targeted(ctx, layout.item_ranges, layout.user_block, 16, ExchangeMode::kTargeted);
    EXPECT_EQ(targeted.broadcast_bytes(), (ctx.size() - 1) * 300ull * 16 * sizeof(float));
    EXPECT_LE(targeted.targeted_bytes(), targeted.broadcast_bytes());
    EXPECT_EQ(automatic.mode(), targeted.targeted_bytes() < targeted.broadcast_bytes()
                                    ? ExchangeMode::kTargeted
                                    : ExchangeMode::kBroadcast);
  });
}

TEST(AlsDistributedTest, LossDecreases) {
  const auto data = power_law_data(300, 120, 4000);
  for (auto feedback : {Feedback::kImplicit, Feedback::kExplicit}) {
    for (auto solver : {SolverKind::kCholesky, SolverKind::kConjugateGradient}) {
      auto options = small_options(feedback, solver);
      options.iterations = 6;
      run_distributed({1, 2}, [&](Context& ctx) {
        ctx.log().set_quiet(true);
        FullFactors got = train_distributed(ctx, 300, 120, data, options);
        ASSERT_EQ(got.losses.size(), 6u);
        for (std::size_t i = 1; i < got.losses.size(); ++i)
          EXPECT_LE(got.losses[i], got.losses[i - 1] * (1 + 1e-6)) << "iteration " << i + 1;
        EXPECT_LT(got.losses.back(), got.losses.front());
      });
    }
  }
}

TEST(AlsDistributedTest, EarlyStopOnRelativeLossTolerance) {
  const auto data = power_law_data(300, 120, 4000);
  run_distributed({1, 2}, [&](Context& ctx) {
    ctx.log().set_quiet(true);
    auto options = small_options(Feedback::kExplicit, SolverKind::kCholesky);
    options.iterations = 200;
    options.tolerance = 1e-3;
    FullFactors got = train_distributed(ctx, 300, 120, data, options);
    EXPECT_LT(got.losses.size(), 200u);
    ASSERT_GE(got.losses.size(), 2u);
    double last = got.losses[got.losses.size() - 1], before = got.losses[got.losses.size() - 2];
    EXPECT_LT(std::abs(before - last) / before, 1e-3);
  });
}

TEST(AlsDistributedTest, MoreRanksThanRowsLeavesSomeRanksEmpty) {
  const std::vector<Interaction> data = {{0, 0, 1}, {1, 1, 2}, {0, 1, 3}};
  auto options = small_options(Feedback::kImplicit, SolverKind::kConjugateGradient);
  options.factors = 4;
  const FullFactors reference = train_serially(2, 2, data, options);
  run_distributed({1, 2, 3, 4}, [&](Context& ctx) {
    ctx.log().set_quiet(true);
    FullFactors got = train_distributed(ctx, 2, 2, data, options);
    EXPECT_LT(max_relative_difference(got.users, reference.users), 1e-4);
    EXPECT_LT(max_relative_difference(got.items, reference.items), 1e-4);
  });
}

TEST(AlsDistributedTest, EmptyDataGivesZeroFactorsForRowsWithoutInteractions) {
  run_distributed({1, 3}, [&](Context& ctx) {
    ctx.log().set_quiet(true);
    auto options = small_options(Feedback::kImplicit, SolverKind::kCholesky);
    FullFactors got = train_distributed(ctx, 5, 4, {}, options);
    EXPECT_EQ(got.users.norm(), 0.0f);
    EXPECT_EQ(got.items.norm(), 0.0f);
  });
}

// Explicit ALS on 70% of a rank-3 matrix recovers it, held-out cells included.
TEST(AlsDistributedTest, ExplicitRecoversALowRankMatrix) {
  const std::uint32_t users = 80, items = 60;
  std::mt19937 random(5);
  std::normal_distribution<float> normal(0, 1);
  Eigen::MatrixXf u(users, 3), v(items, 3);
  for (int i = 0; i < u.size(); ++i) u.data()[i] = normal(random);
  for (int i = 0; i < v.size(); ++i) v.data()[i] = normal(random);
  Eigen::MatrixXf truth = u * v.transpose();
  std::vector<Interaction> train, test;
  std::uniform_real_distribution<float> coin(0, 1);
  for (std::uint32_t a = 0; a < users; ++a)
    for (std::uint32_t b = 0; b < items; ++b)
      (coin(random) < 0.7 ? train : test).push_back({a, b, truth(a, b)});
  run_distributed({1, 2, 3}, [&](Context& ctx) {
    ctx.log().set_quiet(true);
    AlsOptions options = small_options(Feedback::kExplicit, SolverKind::kCholesky);
    options.factors = 3;
    options.iterations = 25;
    options.regularization = 1e-3;
    FullFactors got = train_distributed(ctx, users, items, train, options);
    double train_error = 0, test_error = 0;
    for (const auto& x : train)
      train_error += std::pow(got.users.row(x.user).dot(got.items.row(x.item)) - x.value, 2);
    for (const auto& x : test)
      test_error += std::pow(got.users.row(x.user).dot(got.items.row(x.item)) - x.value, 2);
    const double truth_rms = std::sqrt(truth.squaredNorm() / truth.size());
    EXPECT_LT(std::sqrt(train_error / train.size()), 0.01 * truth_rms);
    EXPECT_LT(std::sqrt(test_error / test.size()), 0.02 * truth_rms);
  });
}

}  // namespace
}  // namespace tailflow::testing
