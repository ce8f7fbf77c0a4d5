// The communicator backends against what a serial computation says.
#include <gtest/gtest.h>

#include <numeric>

#include "engine/comm/collectives.hpp"
#include "engine/comm/thread_communicator.hpp"
#include "engine/error.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow {
namespace {

using testing::run_distributed;

TEST(Communicator, RankAndSizeAreConsistent) {
  run_distributed([](Context& ctx) {
    auto ranks = comm::allgather_value(ctx.comm(), ctx.rank());
    ASSERT_EQ(static_cast<int>(ranks.size()), ctx.size());
    for (int r = 0; r < ctx.size(); ++r) EXPECT_EQ(ranks[r], r);
  });
}

TEST(Communicator, BroadcastFromEveryRoot) {
  run_distributed([](Context& ctx) {
    for (int root = 0; root < ctx.size(); ++root) {
      std::vector<double> data(3, ctx.rank() == root ? root + 0.5 : -1.0);
      comm::broadcast(ctx.comm(), std::span<double>(data), root);
      EXPECT_EQ(data, std::vector<double>(3, root + 0.5));
      std::string text = comm::broadcast_string(ctx.comm(), ctx.rank() == root ? "from root" : "", root);
      EXPECT_EQ(text, "from root");
    }
  });
}

TEST(Communicator, AllreduceSumMinMax) {
  run_distributed([](Context& ctx) {
    int n = ctx.size();
    EXPECT_EQ(comm::allreduce_sum(ctx.comm(), std::int64_t{ctx.rank() + 1}), std::int64_t{n} * (n + 1) / 2);
    EXPECT_EQ(comm::allreduce_min(ctx.comm(), 10.0 + ctx.rank()), 10.0);
    EXPECT_EQ(comm::allreduce_max(ctx.comm(), std::uint64_t(ctx.rank())), std::uint64_t(n - 1));
    std::vector<float> v = {1.0f, float(ctx.rank())};
    comm::allreduce(ctx.comm(), std::span<float>(v), comm::ReduceOp::kSum);
    EXPECT_FLOAT_EQ(v[0], float(n));
    EXPECT_FLOAT_EQ(v[1], float(n * (n - 1) / 2));
  });
}

TEST(Communicator, AllgathervConcatenatesInRankOrder) {
  run_distributed([](Context& ctx) {
    // Rank r contributes r copies of r: rank 0 contributes nothing.
    std::vector<int> mine(ctx.rank(), ctx.rank());
    std::vector<std::size_t> counts;
    auto all = comm::allgatherv(ctx.comm(), std::span<const int>(mine), &counts);
    std::vector<int> expected;
    for (int r = 0; r < ctx.size(); ++r) expected.insert(expected.end(), r, r);
    EXPECT_EQ(all, expected);
    for (int r = 0; r < ctx.size(); ++r) EXPECT_EQ(counts[r], std::size_t(r));
  });
}

TEST(Communicator, AlltoallvDeliversEveryBlock) {
  run_distributed([](Context& ctx) {
    int n = ctx.size(), me = ctx.rank();
    // Rank s sends (s + d) % 3 copies of the value 100*s + d to rank d.
    std::vector<std::int64_t> send;
    std::vector<std::size_t> counts(n);
    for (int d = 0; d < n; ++d) {
      counts[d] = (me + d) % 3;
      send.insert(send.end(), counts[d], 100 * me + d);
    }
    std::vector<std::size_t> recv_counts;
    auto got = comm::alltoallv(ctx.comm(), std::span<const std::int64_t>(send), counts, &recv_counts);
    std::vector<std::int64_t> expected;
    for (int s = 0; s < n; ++s) {
      expected.insert(expected.end(), (s + me) % 3, 100 * s + me);
      EXPECT_EQ(recv_counts[s], std::size_t((s + me) % 3));
    }
    EXPECT_EQ(got, expected);
  });
}

TEST(Communicator, GatherAndScatterThroughRoot) {
  run_distributed([](Context& ctx) {
    int n = ctx.size();
    int root = n - 1;
    std::vector<int> mine = {ctx.rank(), ctx.rank()};
    auto gathered = comm::gatherv(ctx.comm(), std::span<const int>(mine), root);
    if (ctx.rank() == root) {
      ASSERT_EQ(gathered.size(), std::size_t(2 * n));
      for (int r = 0; r < n; ++r) EXPECT_EQ(gathered[2 * r], r);
    } else {
      EXPECT_TRUE(gathered.empty());
    }
    std::vector<std::size_t> counts(n, 1);
    std::vector<int> values(n);
    std::iota(values.begin(), values.end(), 7);
    auto part = comm::scatterv(ctx.comm(), std::span<const int>(values), counts, root);
    ASSERT_EQ(part.size(), 1u);
    EXPECT_EQ(part[0], 7 + ctx.rank());
  });
}

TEST(Communicator, ExclusivePrefixSum) {
  run_distributed([](Context& ctx) {
    EXPECT_EQ(comm::exclusive_prefix_sum(ctx.comm(), std::uint64_t(10)), std::uint64_t(10 * ctx.rank()));
  });
}

TEST(Communicator, CheckCollectivelyReportsTheLowestFailingRank) {
  run_distributed([](Context& ctx) {
    std::string mine = ctx.rank() >= 1 ? "bad row on rank " + std::to_string(ctx.rank()) : "";
    if (ctx.size() == 1) {
      EXPECT_NO_THROW(ctx.check_collectively(mine));
      return;
    }
    try {
      ctx.check_collectively(mine);
      ADD_FAILURE() << "expected an Error";
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "bad row on rank 1");
    }
  });
}

TEST(ThreadBackend, ExceptionOnOneRankReleasesTheOthers) {
  // Rank 2 throws before a barrier that the others are already waiting in: no hang, its message comes out.
  try {
    comm::run_on_threads(4, [](comm::Communicator& comm) {
      if (comm.rank() == 2) throw std::runtime_error("rank two broke");
      comm.barrier();
      comm.barrier();
    });
    FAIL() << "expected the exception of rank 2";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "rank two broke");
  }
}

}  // namespace
}  // namespace tailflow
