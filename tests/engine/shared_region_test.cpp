// Node-shared memory (Communicator::allocate_shared) on both backends: parts in rank order, zero-filled,
// aligned, and every rank's writes visible to every rank after synchronize().
#include <gtest/gtest.h>

#include <cstdint>

#include "engine/comm/shared_region.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow {
namespace {

using testing::run_distributed;

TEST(SharedRegion, EveryRankSeesEveryRanksPartInRankOrder) {
  run_distributed([](Context& ctx) {
    ASSERT_TRUE(ctx.comm().can_share_memory()) << "the tests run on one node";
    // Rank r contributes (r + 1) · 64 bytes, rank 1 none: empty parts must not break the layout.
    const int rank = ctx.rank();
    const std::size_t mine = rank == 1 ? 0 : 64 * static_cast<std::size_t>(rank + 1);
    auto region = ctx.comm().allocate_shared(mine);
    std::size_t total = 0, before = 0;
    for (int r = 0; r < ctx.size(); ++r) {
      const std::size_t part = r == 1 ? 0 : 64 * static_cast<std::size_t>(r + 1);
      if (r < rank) before += part;
      total += part;
    }
    ASSERT_EQ(region->bytes(), total);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(region->data()) % 64, 0u);
    auto* values = reinterpret_cast<std::uint32_t*>(region->data());
    for (std::size_t i = 0; i < total / 4; ++i) ASSERT_EQ(values[i], 0u) << "zero-filled";
    region->synchronize();  // every rank has checked before any writes
    for (std::size_t i = before / 4; i < (before + mine) / 4; ++i)
      values[i] = static_cast<std::uint32_t>(1000 * rank + i);
    region->synchronize();
    std::size_t offset = 0;
    for (int r = 0; r < ctx.size(); ++r) {
      const std::size_t part = r == 1 ? 0 : 64 * static_cast<std::size_t>(r + 1);
      for (std::size_t i = offset / 4; i < (offset + part) / 4; ++i)
        ASSERT_EQ(values[i], static_cast<std::uint32_t>(1000 * r + i)) << "rank " << r << ", value " << i;
      offset += part;
    }
    region->synchronize();  // nobody rewrites (or frees) the region while another rank still reads it
  });
}

TEST(SharedRegion, PartsMustKeepRowsAligned) {
  run_distributed([](Context& ctx) { EXPECT_THROW(ctx.comm().allocate_shared(10), std::logic_error); });
}

}  // namespace
}  // namespace tailflow
