// Popularity buckets: the default head threshold and the distributed training counts.
#include "operators/metrics/popularity_buckets.hpp"

#include <gtest/gtest.h>

#include "engine/error.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::ops::metrics {
namespace {

using testing::run_distributed;

TEST(PopularityBuckets, DefaultHeadHoldsEightyPercent) {
  // 100 interactions: the two most popular items hold 50 + 30 = 80, so head_min = 30.
  std::vector<std::uint64_t> counts = {10, 50, 3, 30, 0, 5, 2};
  EXPECT_EQ(default_head_min(counts), 30u);
  PopularityBuckets buckets(counts);
  EXPECT_EQ(buckets.head_min(), 30u);
  EXPECT_EQ(buckets.items_in(Bucket::kHead), (std::vector<ItemIndex>{1, 3}));
  EXPECT_EQ(buckets.items_in(Bucket::kTail), (std::vector<ItemIndex>{0, 2, 5, 6}));
  EXPECT_EQ(buckets.items_in(Bucket::kCold), (std::vector<ItemIndex>{4}));
  EXPECT_EQ(buckets.interactions_in(Bucket::kHead), 80u);
  EXPECT_EQ(buckets.interactions_in(Bucket::kTail), 20u);
  EXPECT_EQ(bucket_name(buckets.of(4)), "cold");
}

TEST(PopularityBuckets, ThresholdsBetweenItemsAndTies) {
  // 79 of 100 is not enough: the third item (count 10) joins, and so does its tie.
  EXPECT_EQ(default_head_min(std::vector<std::uint64_t>{49, 30, 10, 10, 1}), 10u);
  EXPECT_EQ(default_head_min(std::vector<std::uint64_t>{10, 10, 10, 10}), 10u);
  EXPECT_EQ(default_head_min(std::vector<std::uint64_t>{5, 5, 1}, 0.5), 5u);
  EXPECT_EQ(default_head_min(std::vector<std::uint64_t>{0, 0}), 1u);
  EXPECT_EQ(default_head_min(std::vector<std::uint64_t>{}), 1u);
  EXPECT_THROW(default_head_min(std::vector<std::uint64_t>{1}, 1.5), Error);
}

TEST(PopularityBuckets, ExplicitHeadMin) {
  PopularityBuckets buckets({300, 299, 1, 0}, 300);
  EXPECT_EQ(buckets.of(0), Bucket::kHead);
  EXPECT_EQ(buckets.of(1), Bucket::kTail);
  EXPECT_EQ(buckets.of(2), Bucket::kTail);
  EXPECT_EQ(buckets.of(3), Bucket::kCold);
}

TEST(PopularityBuckets, CountsAddUpOverRanks) {
  run_distributed([](Context& ctx) {
    // Item i has i interactions in all; interaction j of item i lies on rank (i + j) % size.
    std::vector<Interaction> mine;
    for (ItemIndex item = 0; item < 6; ++item)
      for (UserIndex j = 0; j < item; ++j)
        if (static_cast<int>((item + j) % ctx.size()) == ctx.rank()) mine.push_back({j, item, 1.0f, 0});
    auto counts = item_interaction_counts(ctx, mine, 7);
    EXPECT_EQ(counts, (std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5, 0}));
    std::vector<Interaction> bad;
    if (ctx.rank() == ctx.size() - 1) bad.push_back({0, 7, 1.0f, 0});
    EXPECT_THROW(item_interaction_counts(ctx, bad, 7), CollectiveError);
  });
}

TEST(PopularityBuckets, UserCountsCountRepeatsOnce) {
  run_distributed([](Context& ctx) {
    // Item 0: one user who interacted 6 times; item 1: three users once each; item 2: two users, one of them
    // twice. By rows item 0 would be the most popular (6 > 3 > 3); by people it is the least (1 < 3, 2).
    // Row j lies on rank j % size, so one user's repeats are spread over the ranks.
    const std::vector<Interaction> all = {{7, 0, 1, 0}, {7, 0, 1, 0}, {7, 0, 1, 0}, {7, 0, 1, 0},
                                          {7, 0, 1, 0}, {7, 0, 1, 0}, {1, 1, 1, 0}, {2, 1, 1, 0},
                                          {3, 1, 1, 0}, {4, 2, 1, 0}, {5, 2, 1, 0}, {5, 2, 1, 0}};
    std::vector<Interaction> mine;
    for (std::size_t j = 0; j < all.size(); ++j)
      if (static_cast<int>(j % static_cast<std::size_t>(ctx.size())) == ctx.rank()) mine.push_back(all[j]);
    EXPECT_EQ(item_user_counts(ctx, mine, 4), (std::vector<std::uint64_t>{1, 3, 2, 0}));
    EXPECT_EQ(item_interaction_counts(ctx, mine, 4), (std::vector<std::uint64_t>{6, 3, 3, 0}));
    std::vector<Interaction> bad;
    if (ctx.rank() == 0) bad.push_back({0, 4, 1.0f, 0});
    EXPECT_THROW(item_user_counts(ctx, bad, 4), CollectiveError);
  });
}

}  // namespace
}  // namespace tailflow::ops::metrics
