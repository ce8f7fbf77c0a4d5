// The ALS block layout and the synthetic data: cost-balanced ranges, both blocks holding every interaction
// exactly once, duplicates merged, bad indices reported, and a generator independent of the rank count.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "engine/error.hpp"
#include "operators/als/synthetic_interactions.hpp"
#include "tests/operators/als_test_support.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::testing {
namespace {

using namespace ops::als;
using ops::Interaction;

TEST(AlsLayoutTest, RangesBalanceEstimatedCostNotRowCount) {
  std::vector<std::uint32_t> degrees = {1000, 10, 10, 10, 10, 10, 10, 10, 10, 10};
  const RowCost cost = RowCost::for_solver(SolverKind::kConjugateGradient, 8);
  RowRanges ranges = RowRanges::balanced_by_cost(degrees, 2, cost);
  EXPECT_EQ(ranges.starts, (std::vector<std::uint32_t>{0, 1, 10})) << "the heavy row alone is half the cost";
  RowRanges more_parts_than_rows = RowRanges::balanced_by_cost(std::vector<std::uint32_t>{3, 3}, 4, cost);
  EXPECT_EQ(more_parts_than_rows.total(), 2u);
  EXPECT_EQ(more_parts_than_rows.parts(), 4);
  std::uint32_t covered = 0;
  for (int r = 0; r < 4; ++r) covered += more_parts_than_rows.count(r);
  EXPECT_EQ(covered, 2u);
  EXPECT_EQ(more_parts_than_rows.owner(0), 0);
  // A solver with a dearer fixed part per row gives the rank of the heavy row more light rows. k = 8: the
  // row of 16 costs 64 + 512 (CG) or 128 + 512 (Cholesky), each empty row 64 or 128.
  const std::vector<std::uint32_t> one_heavy_row = {16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(RowRanges::balanced_by_cost(one_heavy_row, 2, cost).end(0), 3u);
  EXPECT_EQ(
      RowRanges::balanced_by_cost(one_heavy_row, 2, RowCost::for_solver(SolverKind::kCholesky, 8)).end(0),
      5u);
}

TEST(AlsLayoutTest, RelabellingPutsBusiestRowsFirst) {
  std::vector<std::uint32_t> degrees = {1, 5, 0, 5, 3};
  auto labels = DegreeRelabeling::by_descending_degree(degrees);
  EXPECT_EQ(labels.to_external, (std::vector<std::uint32_t>{1, 3, 4, 0, 2}));
  for (std::uint32_t i = 0; i < 5; ++i) EXPECT_EQ(labels.to_internal[labels.to_external[i]], i);
}

TEST(AlsLayoutTest, BothBlocksHoldEveryInteractionOnceWithDuplicatesMerged) {
  SyntheticShape shape;
  shape.users = 200;
  shape.items = 90;
  shape.nnz = 3000;
  std::vector<Interaction> data = generate_synthetic_interactions(shape, 0, 1);
  data.push_back(data[0]);  // a repeated (user, item): summed for implicit feedback
  std::map<std::pair<std::uint32_t, std::uint32_t>, float> expected;
  for (const auto& x : data) expected[{x.user, x.item}] += x.value;

  run_distributed({1, 2, 3, 5}, [&](Context& ctx) {
    LayoutOptions options;
    options.row_cost = RowCost::for_solver(SolverKind::kConjugateGradient, 8);
    options.rows_per_round = 100;
    BlockLayout layout = build_block_layout(ctx, shape.users, shape.items, share_of(ctx, data), options);
    EXPECT_EQ(layout.total_nnz, expected.size());
    // Collect (external user, external item, value) from both blocks of every rank.
    auto collect = [&](const CsrBlock& block, bool rows_are_users) {
      std::vector<float> triples;
      for (std::size_t r = 0; r < block.rows(); ++r) {
        for (std::uint64_t j = block.row_ptr[r]; j < block.row_ptr[r + 1]; ++j) {
          if (j > block.row_ptr[r]) {
            EXPECT_LT(block.cols[j - 1], block.cols[j]) << "rows sorted, no repeats";
          }
          std::uint32_t row = block.first_row + static_cast<std::uint32_t>(r);
          std::uint32_t user = rows_are_users ? layout.user_labels.to_external[row]
                                              : layout.user_labels.to_external[block.cols[j]];
          std::uint32_t item = rows_are_users ? layout.item_labels.to_external[block.cols[j]]
                                              : layout.item_labels.to_external[row];
          triples.insert(triples.end(),
                         {static_cast<float>(user), static_cast<float>(item), block.values[j]});
        }
      }
      return comm::allgatherv(ctx.comm(), std::span<const float>(triples));
    };
    for (bool users_side : {true, false}) {
      auto all = collect(users_side ? layout.user_block : layout.item_block, users_side);
      std::map<std::pair<std::uint32_t, std::uint32_t>, float> got;
      for (std::size_t i = 0; i < all.size(); i += 3)
        got[{static_cast<std::uint32_t>(all[i]), static_cast<std::uint32_t>(all[i + 1])}] += all[i + 2];
      EXPECT_EQ(got, expected) << (users_side ? "user blocks" : "item blocks");
    }
    // Rows are owned by exactly the rank whose range holds them.
    EXPECT_EQ(layout.user_block.rows(), layout.user_ranges.count(ctx.rank()));
    EXPECT_EQ(layout.item_block.rows(), layout.item_ranges.count(ctx.rank()));
  });
}

TEST(AlsLayoutTest, ExplicitFeedbackKeepsRepeatedRatings) {
  std::vector<Interaction> data = {{0, 1, 4}, {0, 1, 2}, {1, 0, 3}};
  run_distributed({1, 2}, [&](Context& ctx) {
    LayoutOptions options;
    options.merge_duplicates = false;
    BlockLayout layout = build_block_layout(ctx, 2, 2, share_of(ctx, data), options);
    EXPECT_EQ(layout.total_nnz, 3u);
  });
}

TEST(AlsLayoutTest, IndexOutsideTheDeclaredShapeIsAnError) {
  run_distributed({1, 2}, [&](Context& ctx) {
    std::vector<Interaction> data;
    if (ctx.rank() == ctx.size() - 1) data.push_back({0, 7, 1});
    EXPECT_THROW(build_block_layout(ctx, 3, 3, data, LayoutOptions{}), CollectiveError);
  });
}

TEST(AlsLayoutTest, SyntheticDataDoesNotDependOnTheRankCount) {
  SyntheticShape shape;
  shape.users = 500;
  shape.items = 300;
  shape.nnz = 20'000;
  std::vector<Interaction> one = generate_synthetic_interactions(shape, 0, 1);
  std::vector<Interaction> three;
  for (int r = 0; r < 3; ++r) {
    auto part = generate_synthetic_interactions(shape, r, 3);
    three.insert(three.end(), part.begin(), part.end());
  }
  EXPECT_EQ(one, three);
  EXPECT_NEAR(static_cast<double>(one.size()), 20'000.0, 1'000.0);
  std::set<std::pair<std::uint32_t, std::uint32_t>> pairs;
  std::vector<std::uint32_t> item_degree(shape.items, 0);
  for (const auto& x : one) {
    EXPECT_TRUE(pairs.insert({x.user, x.item}).second) << "each user's items are distinct";
    ++item_degree[x.item];
  }
  std::sort(item_degree.rbegin(), item_degree.rend());
  EXPECT_GT(item_degree[0], 5 * std::max(1u, item_degree[150])) << "popularity is heavy-tailed";
}

}  // namespace
}  // namespace tailflow::testing
