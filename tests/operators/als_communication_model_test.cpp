// The ALS communication model against what the factor exchange really counts on synthetic data, and its
// limits: nothing moves on one rank, broadcast is exact, targeted is close, sparse blocks need few rows.
#include <gtest/gtest.h>

#include <cmath>

#include "operators/als/block_layout.hpp"
#include "operators/als/communication_model.hpp"
#include "operators/als/factor_exchange.hpp"
#include "operators/als/factor_matrix.hpp"
#include "operators/als/synthetic_interactions.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::testing {
namespace {

using namespace ops::als;

SyntheticShape shape_of(std::uint32_t users, std::uint32_t items, std::uint64_t nnz) {
  SyntheticShape shape;
  shape.users = users;
  shape.items = items;
  shape.nnz = nnz;
  shape.seed = 5;
  return shape;
}

TEST(AlsCommunicationModelTest, ExpectedDegreesAddUpOnBothSides) {
  const SyntheticShape shape = shape_of(30'000, 8'000, 400'000);
  const InteractionGraphModel graph = InteractionGraphModel::synthetic(shape);
  EXPECT_EQ(graph.users.rows(), shape.users);
  EXPECT_EQ(graph.items.rows(), shape.items);
  const double interactions = graph.users.interactions();
  EXPECT_NEAR(interactions, static_cast<double>(shape.nnz), 1e-6 * static_cast<double>(shape.nnz));
  // The draw counts are solved so that every user gets its degree in distinct items: both sides then agree.
  EXPECT_NEAR(graph.items.interactions(), interactions, 1e-6 * interactions);
  EXPECT_LT(graph.users.runs.size(), shape.users / 10) << "rows of similar rate should share runs";
  // The realized-degree classes keep every run's rows and interactions.
  for (const SideModel* side : {&graph.users, &graph.items}) {
    double rows = 0;
    double weighted = 0;
    for (const DegreeClass& c : side->classes) {
      rows += c.rows;
      weighted += c.rows * c.degree;
    }
    EXPECT_NEAR(rows, static_cast<double>(side->rows()), 1e-6 * static_cast<double>(side->rows()));
    EXPECT_NEAR(weighted, side->interactions(), 1e-3 * side->interactions());
  }
}

TEST(AlsCommunicationModelTest, OneRankMovesNothing) {
  const InteractionGraphModel graph = InteractionGraphModel::synthetic(shape_of(5'000, 2'000, 50'000));
  const IterationTraffic traffic = predict_iteration_traffic(graph, 1, 64, false);
  EXPECT_EQ(traffic.exchange_bytes(ExchangeMode::kBroadcast), 0);
  EXPECT_EQ(traffic.exchange_bytes(ExchangeMode::kTargeted), 0);
  EXPECT_EQ(traffic.gram_bytes_per_rank, 0);
}

void expect_prediction_matches_the_exchange(const SyntheticShape& shape) {
  const InteractionGraphModel graph = InteractionGraphModel::synthetic(shape);
  constexpr int kFactors = 16;
  run_distributed({2, 3, 4}, [&](Context& ctx) {
    if (ctx.size() < 2) return;  // under mpiexec -n 1: nothing is exchanged, nothing to compare
    ctx.log().set_quiet(true);
    LayoutOptions layout_options;
    layout_options.row_cost = RowCost::for_solver(SolverKind::kConjugateGradient, kFactors);
    BlockLayout layout =
        build_block_layout(ctx, shape.users, shape.items,
                           generate_synthetic_interactions(shape, ctx.rank(), ctx.size()), layout_options);
    const int stride = FactorMatrix::stride_for(kFactors);
    FactorExchange user_step(ctx, layout.item_ranges, layout.user_block, stride, ExchangeMode::kAuto);
    FactorExchange item_step(ctx, layout.user_ranges, layout.item_block, stride, ExchangeMode::kAuto);
    const IterationTraffic predicted = predict_iteration_traffic(graph, ctx.size(), kFactors, false);
    auto ratio = [](double predicted_bytes, std::uint64_t counted) {
      return predicted_bytes / static_cast<double>(counted);
    };
    // Broadcast depends on the shape alone: exact.
    EXPECT_NEAR(ratio(predicted.user_step.broadcast_bytes, user_step.broadcast_bytes()), 1.0, 1e-9);
    EXPECT_NEAR(ratio(predicted.item_step.broadcast_bytes, item_step.broadcast_bytes()), 1.0, 1e-9);
    // Targeted depends on which rows the random data references: within 1 %.
    EXPECT_NEAR(ratio(predicted.user_step.targeted_bytes, user_step.targeted_bytes()), 1.0, 0.01);
    EXPECT_NEAR(ratio(predicted.item_step.targeted_bytes, item_step.targeted_bytes()), 1.0, 0.01);
    EXPECT_GT(predicted.gram_bytes_per_rank, 0) << "implicit feedback allreduces the Gram matrix";
  });
}

TEST(AlsCommunicationModelTest, PredictsWhatTheFactorExchangeCounts) {
  expect_prediction_matches_the_exchange(shape_of(40'000, 20'000, 300'000));
}

// 5 interactions per user: most items have a handful of interactions, and which of them land in the heavy
// ranges depends on their realized counts (a model that orders rows by expected degree is 7 % off here).
TEST(AlsCommunicationModelTest, PredictsTheExchangeOfVerySparseData) {
  expect_prediction_matches_the_exchange(shape_of(60'000, 60'000, 300'000));
}

TEST(AlsCommunicationModelTest, SparseBlocksAtManyRanksNeedFarFewerRowsThanABroadcast) {
  // 10 interactions per user: at 256 ranks a block references only a small part of the other side.
  const InteractionGraphModel graph = InteractionGraphModel::synthetic(shape_of(400'000, 100'000, 4'000'000));
  const IterationTraffic at_16 = predict_iteration_traffic(graph, 16, 64, false);
  const IterationTraffic at_256 = predict_iteration_traffic(graph, 256, 64, false);
  EXPECT_LT(at_256.item_step.targeted_bytes, 0.2 * at_256.item_step.broadcast_bytes);
  EXPECT_LT(at_256.exchange_bytes(ExchangeMode::kTargeted), at_256.exchange_bytes(ExchangeMode::kBroadcast));
  // Per rank, targeted traffic falls as ranks are added (each block gets smaller); broadcast does not.
  EXPECT_LT(at_256.item_step.targeted_max_rank_bytes, at_16.item_step.targeted_max_rank_bytes);
  EXPECT_GT(at_256.item_step.broadcast_max_rank_bytes, at_16.item_step.broadcast_max_rank_bytes);
  EXPECT_EQ(at_256.exchange_bytes(ExchangeMode::kAuto), at_256.exchange_bytes(ExchangeMode::kTargeted));
}

}  // namespace
}  // namespace tailflow::testing
