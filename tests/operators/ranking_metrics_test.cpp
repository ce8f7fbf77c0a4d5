// Ranking metrics against values worked out by hand, and their distributed aggregation.
#include "operators/metrics/ranking_metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/comm/thread_communicator.hpp"
#include "engine/error.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::ops::metrics {
namespace {

using testing::run_distributed;

// The worked example, K = 3 (positions are 1-based; 1/log2(3) = 0.63093):
//   user A: ranked 5 2 9 7, relevant {2, 7}: one hit, at position 2 (7 is at position 4, beyond K)
//     P = 1/3, R = 1/2, DCG = 0.63093, IDCG (2 places) = 1 + 0.63093, NDCG = 0.386853,
//     AP = P@2 / min(2, 3) = (1/2) / 2 = 0.25
//   user B: ranked 1 3 (a short list), relevant {1, 3, 4, 8}: hits at positions 1 and 2
//     P = 2/3, R = 2/4, DCG = 1 + 0.63093, IDCG (3 places) = 1 + 0.63093 + 0.5, NDCG = 0.765361,
//     AP = (1/1 + 2/2) / min(4, 3) = 2/3
const std::vector<ItemIndex> kRankedA = {5, 2, 9, 7}, kRelevantA = {2, 7};
const std::vector<ItemIndex> kRankedB = {1, 3}, kRelevantB = {1, 3, 4, 8};

TEST(RankingMetrics, WorkedExampleUserA) {
  auto s = score_ranking(kRankedA, kRelevantA, 3);
  EXPECT_DOUBLE_EQ(s.precision, 1.0 / 3);
  EXPECT_DOUBLE_EQ(s.recall, 0.5);
  EXPECT_NEAR(s.ndcg, 0.38685280723454163, 1e-12);
  EXPECT_DOUBLE_EQ(s.average_precision, 0.25);
}

TEST(RankingMetrics, WorkedExampleUserB) {
  auto s = score_ranking(kRankedB, kRelevantB, 3);
  EXPECT_DOUBLE_EQ(s.precision, 2.0 / 3);
  EXPECT_DOUBLE_EQ(s.recall, 0.5);
  EXPECT_NEAR(s.ndcg, 0.7653606369886217, 1e-12);
  EXPECT_DOUBLE_EQ(s.average_precision, 2.0 / 3);
}

TEST(RankingMetrics, LongRecallCountsHitsUpToTheSecondCutoff) {
  // User A at K = 3: item 7 (position 4) is a hit for Recall@4 but not for Recall@3.
  auto s = score_ranking(kRankedA, kRelevantA, 3, 4);
  EXPECT_DOUBLE_EQ(s.recall, 0.5);
  EXPECT_DOUBLE_EQ(s.long_recall, 1.0);
  EXPECT_NEAR(s.ndcg, 0.38685280723454163, 1e-12);                            // the @K metrics do not change
  EXPECT_DOUBLE_EQ(score_ranking(kRankedA, kRelevantA, 3).long_recall, 0.5);  // L defaults to K
  EXPECT_THROW(score_ranking(kRankedA, kRelevantA, 3, 2), Error);
}

TEST(RankingMetrics, PerfectAndEmptyRankings) {
  std::vector<ItemIndex> relevant = {4, 6};
  auto perfect = score_ranking(std::vector<ItemIndex>{6, 4, 1}, relevant, 10);
  EXPECT_DOUBLE_EQ(perfect.recall, 1.0);
  EXPECT_DOUBLE_EQ(perfect.ndcg, 1.0);
  EXPECT_DOUBLE_EQ(perfect.average_precision, 1.0);
  EXPECT_DOUBLE_EQ(perfect.precision, 0.2);
  auto none = score_ranking(std::vector<ItemIndex>{}, relevant, 10);
  EXPECT_EQ(none.ndcg, 0.0);
  EXPECT_EQ(none.average_precision, 0.0);
  EXPECT_THROW(score_ranking(std::vector<ItemIndex>{1}, std::vector<ItemIndex>{}, 10), Error);
}

TEST(RankingMetrics, SummaryAveragesUsersOnAnyRankCount) {
  run_distributed([](Context& ctx) {
    std::vector<UserScores> mine;
    // User A on the last rank, user B on rank 0.
    if (ctx.rank() == ctx.size() - 1) mine.push_back({10, score_ranking(kRankedA, kRelevantA, 3, 4)});
    if (ctx.rank() == 0) mine.push_back({20, score_ranking(kRankedB, kRelevantB, 3, 4)});
    auto report = summarize_rankings(ctx, mine, 3, BootstrapOptions{200, 1, 0.95}, 4);
    EXPECT_EQ(report.users, 2u);
    EXPECT_EQ(report.k, 3u);
    EXPECT_EQ(report.long_k, 4u);
    EXPECT_DOUBLE_EQ(report.long_recall.mean, (1.0 + 0.5) / 2);  // A: both relevant in the top 4; B: 2 of 4
    EXPECT_LE(report.long_recall.low, report.long_recall.mean);
    EXPECT_DOUBLE_EQ(report.precision.mean, 0.5);
    EXPECT_DOUBLE_EQ(report.recall.mean, 0.5);
    EXPECT_NEAR(report.ndcg.mean, (0.38685280723454163 + 0.7653606369886217) / 2, 1e-12);
    EXPECT_NEAR(report.map.mean, (0.25 + 2.0 / 3) / 2, 1e-12);
    // With two users a resampled mean lies between the two users' values.
    EXPECT_GE(report.map.low, 0.25 - 1e-12);
    EXPECT_LE(report.map.high, 2.0 / 3 + 1e-12);
    EXPECT_LE(report.map.low, report.map.mean);
    EXPECT_GE(report.map.high, report.map.mean);
  });
}

TEST(RankingMetrics, BootstrapIntervalIsSeededAndIndependentOfRanks) {
  // 400 users, half with NDCG 1 and half 0: the mean's standard error is 0.025, so the 95% interval is
  // about 0.5 ± 0.049.
  auto users_on = [](Context& ctx) {
    std::vector<UserScores> mine;
    for (std::uint64_t u = ctx.rank(); u < 400; u += ctx.size()) {
      UserRankingScores s;
      s.ndcg = u % 2 ? 1.0 : 0.0;
      mine.push_back({u, s});
    }
    return mine;
  };
  RankingReport serial;
  comm::run_on_threads(1, [&](comm::Communicator& comm) {
    Context ctx(comm);
    serial = summarize_rankings(ctx, users_on(ctx), 10, BootstrapOptions{1000, 42, 0.95});
  });
  EXPECT_NEAR(serial.ndcg.low, 0.451, 0.015);
  EXPECT_NEAR(serial.ndcg.high, 0.549, 0.015);
  run_distributed([&](Context& ctx) {
    auto report = summarize_rankings(ctx, users_on(ctx), 10, BootstrapOptions{1000, 42, 0.95});
    EXPECT_EQ(report.users, 400u);
    EXPECT_DOUBLE_EQ(report.ndcg.mean, 0.5);
    EXPECT_EQ(report.ndcg.low, serial.ndcg.low);
    EXPECT_EQ(report.ndcg.high, serial.ndcg.high);
  });
}

TEST(RankingMetrics, NoUsersGiveAnEmptyReport) {
  run_distributed([](Context& ctx) {
    auto report = summarize_rankings(ctx, {}, 10, BootstrapOptions{});
    EXPECT_EQ(report.users, 0u);
    EXPECT_EQ(report.ndcg.mean, 0.0);
  });
}

TEST(RankingMetrics, CatalogCoverageCountsDistinctItemsOverRanks) {
  run_distributed([](Context& ctx) {
    std::vector<ItemIndex> mine;
    if (ctx.rank() == 0) mine = {0, 1, 1, 3, 77};  // 77 lies outside the catalog
    if (ctx.rank() == ctx.size() - 1) mine.insert(mine.end(), {3, 9});
    EXPECT_DOUBLE_EQ(catalog_coverage(ctx, mine, 10), 0.4);
  });
}

TEST(RankingMetrics, PredictionErrorOverRanks) {
  run_distributed([](Context& ctx) {
    // Errors 1, -1, 3, -3 spread over the ranks: RMSE = sqrt(20 / 4), MAE = 2.
    std::vector<float> predicted, actual;
    const float errors[] = {1, -1, 3, -3};
    for (int i = ctx.rank(); i < 4; i += ctx.size()) {
      predicted.push_back(4.0f + errors[i]);
      actual.push_back(4.0f);
    }
    auto error = prediction_error(ctx, predicted, actual);
    EXPECT_EQ(error.count, 4u);
    EXPECT_DOUBLE_EQ(error.rmse, std::sqrt(5.0));
    EXPECT_DOUBLE_EQ(error.mae, 2.0);
  });
}

}  // namespace
}  // namespace tailflow::ops::metrics
