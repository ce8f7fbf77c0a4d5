// Content-kNN: item vectors from features and a cosine worked out by hand, then the distributed scorer
// against a serial brute force on 1, 2, 3 and 5 ranks.
#include "operators/knn/content_knn.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "engine/error.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::ops::knn {
namespace {

using testing::run_distributed;

// Three items; text has 4 buckets, "brand" 3 values (0 = unknown), "genres" a bag over 3 values. Terms:
// text 0..3, brand 4..6, genres 7..9.
//   item 0: text {0: 0.6, 1: 0.8}, brand 1, genres {1: 0.5, 2: 0.5}  -> three groups, each scaled by 1/√3:
//           {0: 0.6/√3, 1: 0.8/√3, 5: 1/√3, 8: 1/√6, 9: 1/√6}
//   item 1: text {1: 1}, brand unknown, no genres                     -> {1: 1}
//   item 2: no text, brand 2, genres {2: 1}                           -> {6: 1/√2, 9: 1/√2}
features::ItemFeatureBlock worked_example() {
  features::ItemFeatureBlock block;
  block.total_items = 3;
  block.ids = {"a", "b", "c"};
  block.text_buckets = 4;
  block.text.append_row({{0, 0.6f}, {1, 0.8f}});
  block.text.append_row({{1, 1.0f}});
  block.text.append_row({});
  block.categorical.push_back({"brand", {"<unknown>", "x", "y"}, {1, 0, 2}});
  features::MultiValuedColumn genres{"genres", {"<unknown>", "g1", "g2"}, {}};
  genres.values.append_row({{1, 0.5f}, {2, 0.5f}});
  genres.values.append_row({});
  genres.values.append_row({{2, 1.0f}});
  block.multi_valued.push_back(genres);
  return block;
}

TEST(ContentKnn, ItemVectorsOfTheWorkedExample) {
  const ContentVectors v = content_vectors(worked_example());
  ASSERT_EQ(v.rows(), 3u);
  const double r3 = std::sqrt(3.0), r6 = std::sqrt(6.0), r2 = std::sqrt(2.0);
  const std::vector<std::vector<std::pair<std::uint32_t, double>>> expected = {
      {{0, 0.6 / r3}, {1, 0.8 / r3}, {5, 1 / r3}, {8, 1 / r6}, {9, 1 / r6}},
      {{1, 1.0}},
      {{6, 1 / r2}, {9, 1 / r2}}};
  for (std::size_t item = 0; item < 3; ++item) {
    const auto terms = v.terms_of(item);
    const auto weights = v.weights_of(item);
    ASSERT_EQ(terms.size(), expected[item].size()) << "item " << item;
    for (std::size_t e = 0; e < terms.size(); ++e) {
      EXPECT_EQ(terms[e], expected[item][e].first) << "item " << item;
      EXPECT_NEAR(weights[e], expected[item][e].second, 1e-6) << "item " << item;
    }
  }
}

TEST(ContentKnn, CosineOfTheWorkedExample) {
  const ContentIndex index(content_vectors(worked_example()));
  EXPECT_EQ(index.items_with_content(), 3u);
  // Profile of items 1 and 2: {1: 1, 6: 1/√2, 9: 1/√2}, norm √2. Item 0 shares term 1 (0.8/√3) and term 9
  // (1/√6 · 1/√2 = 1/(2√3)): cosine = (0.8/√3 + 1/(2√3)) / √2 = 0.530718...
  const std::vector<ItemIndex> history = {1, 2};
  EXPECT_NEAR(index.cosine(history, 0), (0.8 / std::sqrt(3.0) + 0.5 / std::sqrt(3.0)) / std::sqrt(2.0), 1e-6);
  // A profile of one item against itself: 1; no history: 0.
  EXPECT_NEAR(index.cosine(std::vector<ItemIndex>{0}, 0), 1.0, 1e-6);
  EXPECT_EQ(index.cosine({}, 0), 0.0);
  EXPECT_NEAR(index.profile_norms(ListsOf<ItemIndex>{{0, 2}, {1, 2}})[0], std::sqrt(2.0), 1e-6);

  // The scorer gives the same cosines: user with history {1, 2}, all items ranked, nothing excluded.
  run_distributed([&](Context& ctx) {
    ListsOf<ItemIndex> histories;
    std::vector<std::uint64_t> ids;
    if (ctx.rank() == 0) {
      histories.entries = history;
      histories.close_list();
      ids.push_back(7);
    }
    // The last rank ranks all three items.
    std::vector<ItemIndex> mine;
    if (ctx.rank() == ctx.size() - 1) mine = {0, 1, 2};
    const RankedLists lists = top_k_by_content(ctx, index, {histories, ids}, {mine, 0}, nullptr, {});
    if (ctx.rank() != 0) return;
    ASSERT_EQ(lists.size(), 1u);
    ASSERT_EQ(lists[0].size(), 3u);
    // Items 1 and 2 are in the profile: cosines 1/√2 (both), then item 0.
    EXPECT_NEAR(lists[0][0].score, 1 / std::sqrt(2.0), 1e-6);
    EXPECT_NEAR(lists[0][1].score, 1 / std::sqrt(2.0), 1e-6);
    EXPECT_EQ(lists[0][2].item, 0u);
    EXPECT_NEAR(lists[0][2].score, 0.530718, 1e-5);
  });
}

// Random content with small integer weights (exact sums in float) for a brute-force comparison.
struct Problem {
  ContentVectors vectors;  // items; every 5th item has no content
  ListsOf<ItemIndex> histories;
  ListsOf<ItemIndex> exclusions;   // catalog indices
  std::vector<ItemIndex> catalog;  // item of each catalog index
};

Problem make_problem(std::size_t items, std::size_t users, unsigned seed) {
  std::mt19937 random(seed);
  Problem p;
  for (std::size_t item = 0; item < items; ++item) {
    if (item % 5 != 3) {
      std::vector<std::uint32_t> terms;
      for (int t = 0; t < 4; ++t) terms.push_back(static_cast<std::uint32_t>(random() % 12));
      std::sort(terms.begin(), terms.end());
      terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
      for (auto term : terms) {
        p.vectors.terms.push_back(term * 97);  // sparse term numbers
        p.vectors.weights.push_back(static_cast<float>(1 + random() % 3));
      }
    }
    p.vectors.offsets.push_back(p.vectors.terms.size());
  }
  for (ItemIndex item = 0; item < items; item += 1)
    if (item % 4 != 1) p.catalog.push_back(item);  // a catalog that is not every item
  for (std::size_t user = 0; user < users; ++user) {
    std::vector<ItemIndex> history;
    for (std::size_t h = 0; h < user % 6; ++h) history.push_back(static_cast<ItemIndex>(random() % items));
    std::sort(history.begin(), history.end());
    history.erase(std::unique(history.begin(), history.end()), history.end());
    p.histories.entries.insert(p.histories.entries.end(), history.begin(), history.end());
    p.histories.close_list();
    for (std::size_t e = 0; e < user % 3; ++e)
      p.exclusions.entries.push_back(static_cast<ItemIndex>(random() % p.catalog.size()));
    p.exclusions.close_list();
  }
  return p;
}

// The expected list: every catalog item not excluded, by exact integer dot product (items without content
// last), ties in ranks_before's seeded order; scores are dot / |profile|.
std::vector<ScoredItem> brute_force(const ContentIndex& index, const Problem& p, std::size_t user,
                                    std::size_t k, std::uint64_t seed) {
  const auto history = p.histories[user];
  const auto excluded = p.exclusions[user];
  std::vector<ScoredItem> all;
  for (std::size_t c = 0; c < p.catalog.size(); ++c) {
    if (std::find(excluded.begin(), excluded.end(), c) != excluded.end()) continue;
    const float score = index.has_content(p.catalog[c])
                            ? static_cast<float>(index.cosine(history, p.catalog[c]))
                            : kMissingItemScore;
    all.push_back({static_cast<ItemIndex>(c), score});
  }
  std::sort(all.begin(), all.end(),
            [&](const ScoredItem& a, const ScoredItem& b) { return ranks_before(a, b, seed, user); });
  all.resize(std::min(k, all.size()));
  return all;
}

void expect_matches_brute_force(const Problem& p, const ContentScoringOptions& options, bool gather) {
  const ContentIndex serial(p.vectors);
  run_distributed([&](Context& ctx) {
    // Items contributed round-robin when gathering: the index must not depend on who holds what.
    std::optional<ContentIndex> gathered;
    if (gather) {
      ContentVectors mine;
      std::vector<std::uint64_t> items;
      for (std::size_t item = ctx.rank(); item < p.vectors.rows(); item += ctx.size()) {
        items.push_back(item);
        const auto terms = p.vectors.terms_of(item);
        const auto weights = p.vectors.weights_of(item);
        mine.terms.insert(mine.terms.end(), terms.begin(), terms.end());
        mine.weights.insert(mine.weights.end(), weights.begin(), weights.end());
        mine.offsets.push_back(mine.terms.size());
      }
      gathered.emplace(ContentIndex::gather(ctx, mine, items, p.vectors.rows()));
    }
    const ContentIndex& index = gather ? *gathered : serial;
    // Users: contiguous uneven slices; catalog: contiguous slices in the opposite rank order.
    const std::size_t users = p.histories.size(), size = p.catalog.size();
    const auto share = [&](std::size_t n, int r) {
      return n * static_cast<std::size_t>(r * r) / (ctx.size() * ctx.size());
    };
    const std::size_t user_first = share(users, ctx.rank()), user_end = share(users, ctx.rank() + 1);
    const int catalog_rank = ctx.size() - 1 - ctx.rank();
    const std::size_t catalog_first = size * catalog_rank / ctx.size(),
                      catalog_end = size * (catalog_rank + 1) / ctx.size();
    ListsOf<ItemIndex> histories, exclusions;
    std::vector<std::uint64_t> ids;
    for (std::size_t u = user_first; u < user_end; ++u) {
      histories.entries.insert(histories.entries.end(), p.histories[u].begin(), p.histories[u].end());
      histories.close_list();
      exclusions.entries.insert(exclusions.entries.end(), p.exclusions[u].begin(), p.exclusions[u].end());
      exclusions.close_list();
      ids.push_back(u);
    }
    const std::span<const ItemIndex> mine(p.catalog.data() + catalog_first, catalog_end - catalog_first);
    const RankedLists lists =
        top_k_by_content(ctx, index, {histories, ids}, {mine, catalog_first}, &exclusions, options);
    ASSERT_EQ(lists.size(), user_end - user_first);
    for (std::size_t u = user_first; u < user_end; ++u) {
      const auto expected = brute_force(serial, p, u, options.k, options.seed);
      const auto got = lists[u - user_first];
      ASSERT_EQ(got.size(), expected.size()) << "user " << u;
      for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].item, expected[i].item) << "user " << u << " position " << i;
        EXPECT_NEAR(got[i].score, expected[i].score, 1e-5 * std::max(1.0f, std::abs(expected[i].score)))
            << "user " << u << " position " << i;
      }
    }
  });
}

TEST(ContentKnn, DistributedMatchesBruteForceWithExclusionsTiesAndMissingItems) {
  const Problem p = make_problem(41, 29, 3);
  ContentScoringOptions options;
  options.k = 40;  // beyond the catalog after exclusions: items without content must come last
  options.seed = 11;
  options.round_history_entries = 9;  // several rounds
  options.item_block = 4;             // several blocks per rank
  expect_matches_brute_force(p, options, /*gather=*/false);
}

TEST(ContentKnn, GatheredIndexAndDefaultBlocksGiveTheSameLists) {
  const Problem p = make_problem(120, 50, 8);
  ContentScoringOptions options;
  options.k = 10;
  expect_matches_brute_force(p, options, /*gather=*/true);
}

TEST(ContentKnn, ItemsWithoutContentComeLastAndAnEmptyProfileScoresZero) {
  ContentVectors vectors;
  vectors.terms = {0, 1};
  vectors.weights = {1, 1};
  vectors.offsets = {0, 1, 1, 2};  // item 1 has no content
  const ContentIndex index(vectors);
  EXPECT_FALSE(index.has_content(1));
  run_distributed([&](Context& ctx) {
    ListsOf<ItemIndex> histories;
    std::vector<std::uint64_t> ids;
    if (ctx.rank() == 0) {
      histories.close_list();  // a user without history
      ids.push_back(0);
    }
    std::vector<ItemIndex> mine;
    if (ctx.rank() == 0) mine = {0, 1, 2};
    ContentScoringOptions options;
    options.k = 3;
    const RankedLists lists = top_k_by_content(ctx, index, {histories, ids}, {mine, 0}, nullptr, options);
    if (ctx.rank() != 0) return;
    ASSERT_EQ(lists[0].size(), 3u);
    EXPECT_EQ(lists[0][0].score, 0.0f);
    EXPECT_EQ(lists[0][1].score, 0.0f);
    EXPECT_EQ(lists[0][2].item, 1u);
    EXPECT_EQ(lists[0][2].score, kMissingItemScore);
  });
}

TEST(ContentKnn, GatherRejectsAnItemGivenTwice) {
  run_distributed([](Context& ctx) {
    ContentVectors mine;
    mine.terms = {0};
    mine.weights = {1};
    mine.offsets = {0, 1};
    const std::vector<std::uint64_t> items = {0};  // every rank claims item 0
    if (ctx.size() > 1)
      EXPECT_THROW(ContentIndex::gather(ctx, mine, items, 2), Error);
    else
      EXPECT_EQ(ContentIndex::gather(ctx, mine, items, 2).items_with_content(), 1u);
  });
}

}  // namespace
}  // namespace tailflow::ops::knn
