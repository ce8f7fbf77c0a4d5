// Distributed exact top-K against a serial brute force, on 1, 2, 3 and 5 ranks.
//
// Factors are small integers (and cosine inputs have power-of-two norms), so every score is exact in float:
// the distributed result must equal the reference exactly, ties included.
#include "operators/knn/distributed_scorer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "engine/error.hpp"
#include "operators/knn/exclusion_lists.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::ops::knn {
namespace {

using testing::run_distributed;

// An uneven contiguous split: rank r gets a share that grows with r (rank 0 may get nothing).
std::pair<std::uint64_t, std::uint64_t> slice_of(std::uint64_t rows, int rank, int ranks) {
  std::uint64_t weight_total = static_cast<std::uint64_t>(ranks) * (ranks + 1) / 2;
  auto begin = [&](int r) { return rows * (static_cast<std::uint64_t>(r) * (r + 1) / 2) / weight_total; };
  return {begin(rank), begin(rank + 1) - begin(rank)};
}

RowMatrix small_integer_matrix(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> value(-2, 2);
  RowMatrix m(rows, cols);
  for (Eigen::Index r = 0; r < rows; ++r)
    for (Eigen::Index c = 0; c < cols; ++c) m(r, c) = static_cast<float>(value(random));
  return m;
}

std::vector<ScoredItem> reference_top_k(const RowMatrix& items, const Eigen::VectorXf& query,
                                        std::uint64_t id, const std::vector<ItemIndex>& excluded,
                                        std::size_t k, std::uint64_t seed) {
  std::vector<ScoredItem> all;
  for (Eigen::Index i = 0; i < items.rows(); ++i) {
    if (std::find(excluded.begin(), excluded.end(), static_cast<ItemIndex>(i)) != excluded.end()) continue;
    float score = 0;
    for (Eigen::Index c = 0; c < items.cols(); ++c) score += items(i, c) * query(c);
    all.push_back({static_cast<ItemIndex>(i), score});
  }
  std::sort(all.begin(), all.end(),
            [&](const ScoredItem& a, const ScoredItem& b) { return ranks_before(a, b, seed, id); });
  all.resize(std::min(k, all.size()));
  return all;
}

struct Problem {
  RowMatrix users;
  RowMatrix items;
  std::vector<Interaction> seen;  // every rank knows all; each rank passes a strided share
};

Problem make_problem(Eigen::Index users, Eigen::Index items, Eigen::Index dims, std::size_t seen_per_user) {
  Problem p{small_integer_matrix(users, dims, 1), small_integer_matrix(items, dims, 2), {}};
  std::mt19937 random(3);
  for (Eigen::Index u = 0; u < users; ++u)
    for (std::size_t s = 0; s < seen_per_user && items > 0; ++s)
      p.seen.push_back({static_cast<UserIndex>(u), static_cast<ItemIndex>(random() % items), 1.0f, 0});
  return p;
}

void expect_matches_reference(Context& ctx, const Problem& p, const ScoringOptions& options) {
  auto [user_first, user_count] = slice_of(p.users.rows(), ctx.rank(), ctx.size());
  // Items split in the opposite direction, so user and item slices of one rank differ.
  auto [item_first, item_count] = slice_of(p.items.rows(), ctx.size() - 1 - ctx.rank(), ctx.size());
  RowMatrix local_users = p.users.middleRows(user_first, user_count);
  RowMatrix local_items = p.items.middleRows(item_first, item_count);
  std::vector<std::uint64_t> ids(user_count);
  for (std::uint64_t u = 0; u < user_count; ++u) ids[u] = user_first + u;
  std::vector<Interaction> my_seen;
  for (std::size_t i = ctx.rank(); i < p.seen.size(); i += ctx.size()) my_seen.push_back(p.seen[i]);

  ExclusionLists exclusions = seen_items(ctx, my_seen, user_first, user_count, ids);
  RankedLists lists = top_k_by_dot_product(ctx, QuerySet{local_users, ids},
                                           FactorSlice{local_items, item_first}, &exclusions, options);
  ASSERT_EQ(lists.size(), user_count);
  for (std::uint64_t u = 0; u < user_count; ++u) {
    std::vector<ItemIndex> excluded;
    for (const auto& s : p.seen)
      if (s.user == user_first + u) excluded.push_back(s.item);
    auto expected = reference_top_k(p.items, p.users.row(user_first + u).transpose(), user_first + u,
                                    excluded, options.k, options.seed);
    auto got = lists[u];
    EXPECT_EQ(std::vector<ScoredItem>(got.begin(), got.end()), expected) << "user " << user_first + u;
  }
}

TEST(DistributedScorer, MatchesSerialReferenceWithExclusionsAndTies) {
  Problem p = make_problem(23, 37, 4, 5);
  run_distributed([&](Context& ctx) {
    ScoringOptions options;
    options.k = 6;
    options.seed = 17;
    options.query_block = 7;  // several rounds, not aligned with rank slices
    options.item_block = 5;
    expect_matches_reference(ctx, p, options);
  });
}

TEST(DistributedScorer, DefaultBlocksGiveTheSameLists) {
  Problem p = make_problem(50, 300, 8, 20);
  run_distributed([&](Context& ctx) {
    ScoringOptions options;
    options.k = 10;
    expect_matches_reference(ctx, p, options);
  });
}

TEST(DistributedScorer, MoreRanksThanRowsAndKBeyondTheCatalog) {
  Problem p = make_problem(2, 3, 3, 1);
  run_distributed([&](Context& ctx) {
    ScoringOptions options;
    options.k = 10;  // only 3 items exist, minus the excluded one
    expect_matches_reference(ctx, p, options);
  });
}

TEST(DistributedScorer, NoItemsAnywhereGivesEmptyLists) {
  Problem p = make_problem(4, 0, 3, 0);
  run_distributed([&](Context& ctx) {
    ScoringOptions options;
    expect_matches_reference(ctx, p, options);
  });
}

TEST(DistributedScorer, MismatchedDimensionsFailOnEveryRank) {
  run_distributed([](Context& ctx) {
    RowMatrix users = RowMatrix::Ones(1, 4);
    RowMatrix items = RowMatrix::Ones(1, ctx.rank() == 0 ? 3 : 4);
    std::vector<std::uint64_t> ids = {static_cast<std::uint64_t>(ctx.rank())};
    EXPECT_THROW(
        top_k_by_dot_product(ctx, QuerySet{users, ids}, FactorSlice{items, std::uint64_t(ctx.rank())},
                             nullptr, ScoringOptions{}),
        CollectiveError);
  });
}

// Rows whose normalised form is exact in float: scaled axis vectors and scaled (±1, ±1, ±1, ±1).
RowMatrix exactly_normalisable(Eigen::Index rows, unsigned seed) {
  std::mt19937 random(seed);
  RowMatrix m = RowMatrix::Zero(rows, 4);
  for (Eigen::Index r = 0; r < rows; ++r) {
    float scale = static_cast<float>(1 << (random() % 4));
    if (random() % 2) {
      m(r, random() % 4) = (random() % 2 ? 1.0f : -1.0f) * scale;
    } else {
      for (int c = 0; c < 4; ++c) m(r, c) = (random() % 2 ? 1.0f : -1.0f) * scale;
    }
  }
  return m;
}

TEST(DistributedScorer, SimilarItemsByCosineExcludeTheItemItself) {
  RowMatrix all_items = exactly_normalisable(29, 5);
  RowMatrix unit = normalized_rows(all_items);
  run_distributed([&](Context& ctx) {
    auto [first, count] = slice_of(all_items.rows(), ctx.rank(), ctx.size());
    RowMatrix local = all_items.middleRows(first, count);
    std::vector<ItemIndex> queries;
    for (std::uint64_t i = first; i < first + count; i += 2) queries.push_back(static_cast<ItemIndex>(i));
    ScoringOptions options;
    options.k = 5;
    options.seed = 3;
    options.query_block = 4;
    RankedLists lists = similar_items(ctx, FactorSlice{local, first}, queries, options);
    ASSERT_EQ(lists.size(), queries.size());
    for (std::size_t q = 0; q < queries.size(); ++q) {
      auto expected = reference_top_k(unit, unit.row(queries[q]).transpose(), queries[q], {queries[q]}, 5, 3);
      auto got = lists[q];
      EXPECT_EQ(std::vector<ScoredItem>(got.begin(), got.end()), expected) << "item " << queries[q];
      for (const auto& entry : got) EXPECT_NE(entry.item, queries[q]);
    }
  });
}

TEST(DistributedScorer, SimilarItemsRejectsItemsOfAnotherRank) {
  run_distributed([](Context& ctx) {
    RowMatrix items = RowMatrix::Ones(1, 2);
    std::vector<ItemIndex> query = {static_cast<ItemIndex>(ctx.rank() + 1)};  // the next rank's item
    EXPECT_THROW(similar_items(ctx, FactorSlice{items, std::uint64_t(ctx.rank())}, query, ScoringOptions{}),
                 CollectiveError);
  });
}

TEST(ExclusionLists, SeenItemsAreGatheredAtTheUsersRank) {
  run_distributed([](Context& ctx) {
    // 7 users; user u saw items u and u + 1 (twice); interactions lie on rank (u + 3) % size.
    auto [first, count] = slice_of(7, ctx.rank(), ctx.size());
    std::vector<Interaction> mine;
    for (UserIndex u = 0; u < 7; ++u)
      if (static_cast<int>((u + 3) % ctx.size()) == ctx.rank())
        for (ItemIndex item : {u + 1, u, u + 1}) mine.push_back({u, item, 1.0f, 0});
    std::vector<std::uint64_t> queries;
    for (std::uint64_t u = first + count; u-- > first;) queries.push_back(u);  // reverse order
    ExclusionLists lists = seen_items(ctx, mine, first, count, queries);
    ASSERT_EQ(lists.size(), queries.size());
    for (std::size_t q = 0; q < queries.size(); ++q) {
      auto got = lists[q];
      EXPECT_EQ(std::vector<ItemIndex>(got.begin(), got.end()),
                (std::vector<ItemIndex>{static_cast<ItemIndex>(queries[q]),
                                        static_cast<ItemIndex>(queries[q] + 1)}));
    }
  });
}

}  // namespace
}  // namespace tailflow::ops::knn
