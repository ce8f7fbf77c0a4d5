// TopKSelector against a full sort, and the properties of its tie-breaking.
#include "operators/knn/top_k.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

namespace tailflow::ops::knn {
namespace {

std::vector<ScoredItem> by_full_sort(const std::vector<float>& scores, std::size_t k, std::uint64_t seed,
                                     std::uint64_t query) {
  std::vector<ScoredItem> all;
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (!std::isnan(scores[i])) all.push_back({static_cast<ItemIndex>(i), scores[i]});
  std::sort(all.begin(), all.end(),
            [&](const ScoredItem& a, const ScoredItem& b) { return ranks_before(a, b, seed, query); });
  all.resize(std::min(k, all.size()));
  return all;
}

TEST(TopK, MatchesFullSortWithManyTies) {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> few_values(0, 5);  // 1000 items share 6 scores
  for (std::size_t k : {0, 1, 3, 10, 100, 999, 1000, 1500}) {
    std::vector<float> scores(1000);
    for (float& s : scores) s = static_cast<float>(few_values(random));
    for (std::uint64_t query : {0, 1, 42})
      EXPECT_EQ(select_top_k(scores, k, 11, query), by_full_sort(scores, k, 11, query)) << "k=" << k;
  }
}

TEST(TopK, MatchesFullSortOnDistinctScores) {
  std::mt19937 random(3);
  std::normal_distribution<float> normal;
  std::vector<float> scores(10007);  // not a multiple of the scan chunk
  for (float& s : scores) s = normal(random);
  EXPECT_EQ(select_top_k(scores, 10, 0, 5), by_full_sort(scores, 10, 0, 5));
}

TEST(TopK, ResultDoesNotDependOnOfferOrder) {
  std::vector<float> scores(200, 1.0f);
  for (std::size_t i = 0; i < scores.size(); i += 3) scores[i] = 2.0f;
  auto expected = select_top_k(scores, 20, 9, 77);
  std::vector<ItemIndex> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(1));
  TopKSelector selector(20, 9);
  selector.reset(77);
  for (ItemIndex item : order) selector.offer(item, scores[item]);
  std::vector<ScoredItem> offered;
  selector.take_sorted(offered);
  EXPECT_EQ(offered, expected);
}

TEST(TopK, TiesAreNotBrokenByItemId) {
  // All 1000 items score the same: the top 10 must be a seeded random choice, not items 0..9, and differ by
  // seed and by query.
  std::vector<float> scores(1000, 0.5f);
  auto items_of = [](const std::vector<ScoredItem>& list) {
    std::vector<ItemIndex> items;
    for (const auto& entry : list) items.push_back(entry.item);
    return items;
  };
  auto first = items_of(select_top_k(scores, 10, 1, 0));
  std::vector<ItemIndex> lowest_ids(10);
  std::iota(lowest_ids.begin(), lowest_ids.end(), 0);
  EXPECT_NE(first, lowest_ids);
  EXPECT_LT(std::count_if(first.begin(), first.end(), [](ItemIndex i) { return i < 100; }), 5);
  EXPECT_NE(first, items_of(select_top_k(scores, 10, 2, 0)));
  EXPECT_NE(first, items_of(select_top_k(scores, 10, 1, 1)));
  EXPECT_EQ(first, items_of(select_top_k(scores, 10, 1, 0)));  // and the same seed repeats
}

TEST(TopK, NanScoresAreNeverSelected) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> scores = {nan, 1.0f, nan, 3.0f, 2.0f, nan};
  auto top = select_top_k(scores, 5, 0, 0);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0], (ScoredItem{3, 3.0f}));
  EXPECT_EQ(top[1], (ScoredItem{4, 2.0f}));
  EXPECT_EQ(top[2], (ScoredItem{1, 1.0f}));
}

TEST(TopK, InfiniteScoresRankAtTheEnds) {
  float inf = std::numeric_limits<float>::infinity();
  std::vector<float> scores = {-inf, 0.0f, inf, -1.0f};
  auto top = select_top_k(scores, 4, 0, 0);
  ASSERT_EQ(top.size(), 4u);
  EXPECT_EQ(top.front().item, 2u);
  EXPECT_EQ(top.back().item, 0u);
}

TEST(TopK, SelectorIsReusableAcrossQueries) {
  std::vector<float> scores = {3, 1, 4, 1, 5, 9, 2, 6};
  TopKSelector selector(3, 0);
  for (std::uint64_t query = 0; query < 3; ++query) {
    selector.reset(query);
    selector.offer_range(scores, 100);
    std::vector<ScoredItem> top;
    selector.take_sorted(top);
    EXPECT_EQ(top, (std::vector<ScoredItem>{{105, 9}, {107, 6}, {104, 5}}));
    EXPECT_EQ(selector.size(), 0u);
  }
}

}  // namespace
}  // namespace tailflow::ops::knn
