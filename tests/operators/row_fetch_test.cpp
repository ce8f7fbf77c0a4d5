// Fetching rows of a row-partitioned matrix by global index, on 1, 2, 3 and 5 ranks.
#include "operators/knn/row_fetch.hpp"

#include <gtest/gtest.h>

#include "engine/error.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::ops::knn {
namespace {

using testing::run_distributed;

// Row r of the whole matrix is (r, 10 r, 100 r).
RowMatrix rows_from(std::uint64_t first, std::uint64_t count) {
  RowMatrix m(static_cast<Eigen::Index>(count), 3);
  for (std::uint64_t i = 0; i < count; ++i)
    for (int c = 0; c < 3; ++c)
      m(static_cast<Eigen::Index>(i), c) = static_cast<float>((first + i) * std::pow(10, c));
  return m;
}

TEST(RowFetch, EveryRankGetsTheRowsItAsksForInOrder) {
  run_distributed([](Context& ctx) {
    // 17 rows; rank r holds an uneven slice, in reverse rank order (the last rank holds the first rows).
    const int slot = ctx.size() - 1 - ctx.rank();
    const std::uint64_t first = 17 * slot * slot / (ctx.size() * ctx.size());
    const std::uint64_t end = 17 * (slot + 1) * (slot + 1) / (ctx.size() * ctx.size());
    const RowMatrix mine = rows_from(first, end - first);
    // Each rank asks for a different mix, with repeats.
    std::vector<std::uint64_t> wanted;
    for (std::uint64_t i = 0; i < 9; ++i)
      wanted.push_back((i * 7 + static_cast<std::uint64_t>(ctx.rank()) * 3) % 17);
    wanted.push_back(wanted.front());
    const RowMatrix got = fetch_rows(ctx, FactorSlice{mine, first}, wanted);
    ASSERT_EQ(got.rows(), static_cast<Eigen::Index>(wanted.size()));
    ASSERT_EQ(got.cols(), 3);
    for (std::size_t i = 0; i < wanted.size(); ++i)
      EXPECT_EQ(got.row(static_cast<Eigen::Index>(i)), rows_from(wanted[i], 1).row(0)) << "row " << wanted[i];
  });
}

TEST(RowFetch, ARowNobodyHoldsFailsOnEveryRank) {
  run_distributed([](Context& ctx) {
    const RowMatrix mine = rows_from(static_cast<std::uint64_t>(ctx.rank()), 1);
    const std::vector<std::uint64_t> wanted = {static_cast<std::uint64_t>(ctx.size())};  // one past the end
    std::vector<std::uint64_t> nothing;
    EXPECT_THROW(fetch_rows(ctx, FactorSlice{mine, static_cast<std::uint64_t>(ctx.rank())},
                            ctx.rank() == 0 ? std::span<const std::uint64_t>(wanted) : nothing),
                 CollectiveError);
  });
}

}  // namespace
}  // namespace tailflow::ops::knn
