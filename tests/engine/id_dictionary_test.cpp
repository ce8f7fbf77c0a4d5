// Distributed id dictionaries against a serial reference: the distinct ids, sorted, numbered 0..n-1.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/id_dictionary.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::io {
namespace {

using testing::run_distributed;

// Rank r's share of `all`: every size-th element starting at r (so duplicates land on different ranks).
std::vector<std::string_view> share_of(const std::vector<std::string>& all, const Context& ctx) {
  std::vector<std::string_view> mine;
  for (std::size_t i = static_cast<std::size_t>(ctx.rank()); i < all.size();
       i += static_cast<std::size_t>(ctx.size()))
    mine.push_back(all[i]);
  return mine;
}

// The reference numbering: distinct ids in `order`.
template <class Less>
std::map<std::string, DenseIndex> reference(std::vector<std::string> ids, Less less) {
  std::sort(ids.begin(), ids.end(), less);
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::map<std::string, DenseIndex> index;
  for (std::size_t i = 0; i < ids.size(); ++i) index[ids[i]] = static_cast<DenseIndex>(i);
  return index;
}

void expect_matches(Context& ctx, const std::vector<std::string>& all,
                    const std::map<std::string, DenseIndex>& expected, bool numeric) {
  auto mine = share_of(all, ctx);
  std::vector<DenseIndex> indices;
  auto dictionary = IdDictionary::build(ctx, mine, &indices);
  EXPECT_EQ(dictionary.size(), expected.size());
  EXPECT_EQ(dictionary.numeric(), numeric);
  ASSERT_EQ(indices.size(), mine.size());
  for (std::size_t i = 0; i < mine.size(); ++i)
    EXPECT_EQ(indices[i], expected.at(std::string(mine[i]))) << mine[i];
  // The reverse map, gathered and piecewise.
  auto strings = dictionary.all_strings(ctx);
  ASSERT_EQ(strings.size(), expected.size());
  for (const auto& [id, index] : expected) EXPECT_EQ(strings[index], id);
  auto fetched = dictionary.strings_of(ctx, indices);
  for (std::size_t i = 0; i < mine.size(); ++i) EXPECT_EQ(fetched[i], mine[i]);
  // Owned ranges tile [0, n) in rank order.
  auto begins = comm::allgather_value(ctx.comm(), dictionary.owned_begin());
  auto ends = comm::allgather_value(ctx.comm(), dictionary.owned_end());
  EXPECT_EQ(begins.front(), 0u);
  EXPECT_EQ(ends.back(), expected.size());
  for (int r = 1; r < ctx.size(); ++r) EXPECT_EQ(begins[r], ends[r - 1]);
  for (auto i = dictionary.owned_begin(); i < dictionary.owned_end(); ++i)
    EXPECT_EQ(dictionary.owned_string(i), strings[i]);
}

TEST(LocalIdTable, InternsDistinctStringsInFirstSeenOrder) {
  LocalIdTable table;
  std::vector<std::string> keys;
  for (int i = 0; i < 5000; ++i) keys.push_back("key" + std::to_string(i * 7919 % 3001));
  std::map<std::string, std::uint32_t> first_seen;
  for (const auto& key : keys) {
    auto expected = first_seen.emplace(key, static_cast<std::uint32_t>(first_seen.size())).first->second;
    EXPECT_EQ(table.intern(key), expected);
  }
  EXPECT_EQ(table.size(), first_seen.size());
  for (const auto& [key, local] : first_seen) EXPECT_EQ(table.key(local), key);
  EXPECT_EQ(table.intern(""), first_seen.size());
  EXPECT_EQ(table.key(static_cast<std::uint32_t>(first_seen.size())), "");
}

TEST(IdDictionary, IntegerIdsFollowNumericOrderOnEveryRankCount) {
  std::vector<std::string> all = {"100", "7", "42", "7", "3", "1000", "-5", "42", "07", "9", "100", "8"};
  auto numeric_less = [](const std::string& a, const std::string& b) {
    long long x = std::stoll(a), y = std::stoll(b);
    return x != y ? x < y : a < b;
  };
  auto expected = reference(all, numeric_less);
  EXPECT_EQ(expected.at("-5"), 0u);
  EXPECT_EQ(expected.at("07"), 2u);  // "07" and "7" are distinct ids; equal values are ordered by bytes
  EXPECT_EQ(expected.at("7"), 3u);
  run_distributed([&](Context& ctx) { expect_matches(ctx, all, expected, true); });
}

TEST(IdDictionary, CanonicalIntegersAreTheirValuesOnlySpelling) {
  std::int64_t value = 0;
  EXPECT_TRUE(parse_canonical_integer("0", value));
  EXPECT_EQ(value, 0);
  EXPECT_TRUE(parse_canonical_integer("-42", value));
  EXPECT_EQ(value, -42);
  EXPECT_TRUE(parse_canonical_integer("9223372036854775807", value));
  for (std::string_view text : {"", "07", "-0", "+5", " 5", "5 ", "1e3", "-", "9223372036854775808", "x1"})
    EXPECT_FALSE(parse_canonical_integer(text, value)) << text;
}

// Canonical integer ids take build()'s integer path; build_integers() directly must number them alike.
TEST(IdDictionary, BuildIntegersMatchesBuildOfTheSpelledIds) {
  std::mt19937 random(5);
  std::vector<std::string> all;
  for (int i = 0; i < 5000; ++i)
    all.push_back(std::to_string(random() % 4 == 0 ? -17 : static_cast<long>(random() % 3000) - 100));
  auto numeric_less = [](const std::string& a, const std::string& b) {
    return std::stoll(a) < std::stoll(b);
  };
  auto expected = reference(all, numeric_less);
  run_distributed([&](Context& ctx) {
    expect_matches(ctx, all, expected, true);
    // Each rank's distinct values, sorted.
    std::vector<std::int64_t> mine;
    for (auto id : share_of(all, ctx)) mine.push_back(std::stoll(std::string(id)));
    std::sort(mine.begin(), mine.end());
    mine.erase(std::unique(mine.begin(), mine.end()), mine.end());
    std::vector<DenseIndex> indices;
    auto dictionary = IdDictionary::build_integers(ctx, mine, &indices);
    EXPECT_TRUE(dictionary.numeric());
    EXPECT_EQ(dictionary.size(), expected.size());
    ASSERT_EQ(indices.size(), mine.size());
    for (std::size_t i = 0; i < mine.size(); ++i) EXPECT_EQ(indices[i], expected.at(std::to_string(mine[i])));
    auto strings = dictionary.all_strings(ctx);
    for (const auto& [id, index] : expected) EXPECT_EQ(strings[index], id);
    std::vector<std::string_view> query = {"2899", "07", "-17", "3000"};
    auto found = dictionary.lookup(ctx, query);
    EXPECT_EQ(found, (std::vector<DenseIndex>{expected.at("2899"), kNoIndex, expected.at("-17"), kNoIndex}));
  });
}

TEST(IdDictionary, BuildIntegersRejectsUnsortedIds) {
  run_distributed([&](Context& ctx) {
    std::vector<std::int64_t> ids = {1, 5, 5};
    if (ctx.rank() > 0) ids = {2};
    EXPECT_THROW(IdDictionary::build_integers(ctx, ids), CollectiveError);
  });
}

TEST(IdDictionary, StringIdsFollowByteOrder) {
  std::vector<std::string> all = {"b", "a10", "a9", "A", "10", "9", "b", "zz", "é", "a10"};
  auto expected = reference(all, std::less<>());
  EXPECT_EQ(expected.at("10"), 0u);
  EXPECT_EQ(expected.at("9"), 1u);
  run_distributed([&](Context& ctx) { expect_matches(ctx, all, expected, false); });
}

TEST(IdDictionary, ManyIdsWithSkewAndEmptyRanks) {
  std::mt19937 random(11);
  std::vector<std::string> all;
  for (int i = 0; i < 20000; ++i)
    all.push_back("item-" + std::to_string(random() % 3 == 0 ? 1 : random() % 5000));  // one very common id
  auto expected = reference(all, std::less<>());
  run_distributed([&](Context& ctx) { expect_matches(ctx, all, expected, false); });
  // Fewer ids than ranks: some ranks contribute nothing.
  std::vector<std::string> few = {"u2", "u1"};
  run_distributed([&](Context& ctx) { expect_matches(ctx, few, reference(few, std::less<>()), false); });
}

TEST(IdDictionary, NoIdsAtAll) {
  run_distributed([&](Context& ctx) {
    std::vector<DenseIndex> indices;
    auto dictionary = IdDictionary::build(ctx, {}, &indices);
    EXPECT_EQ(dictionary.size(), 0u);
    EXPECT_TRUE(indices.empty());
    EXPECT_TRUE(dictionary.all_strings(ctx).empty());
    std::vector<std::string_view> query = {"x"};
    EXPECT_EQ(dictionary.lookup(ctx, query), std::vector<DenseIndex>{kNoIndex});
  });
}

TEST(IdDictionary, LookupFindsKnownIdsAndFlagsUnknownOnes) {
  std::vector<std::string> all = {"30", "10", "20", "40", "50"};
  run_distributed([&](Context& ctx) {
    auto dictionary = IdDictionary::build(ctx, share_of(all, ctx));
    std::vector<std::string_view> query = {"50", "x", "10", "25", "", "30"};
    if (ctx.rank() % 2) query.clear();
    auto found = dictionary.lookup(ctx, query);
    ASSERT_EQ(found.size(), query.size());
    if (!query.empty()) {
      EXPECT_EQ(found, (std::vector<DenseIndex>{4, kNoIndex, 0, kNoIndex, kNoIndex, 2}));
    }
  });
}

TEST(IdDictionary, IndicesDoNotDependOnTheRankCount) {
  std::vector<std::string> all;
  for (int i = 0; i < 3000; ++i) all.push_back(std::to_string((i * 104729) % 1777));
  std::vector<std::vector<DenseIndex>> by_rank_count;
  for (int ranks : {1, 2, 3, 5}) {
    std::vector<DenseIndex> gathered;
    testing::run_distributed({ranks}, [&](Context& ctx) {
      std::vector<DenseIndex> indices;
      IdDictionary::build(ctx, share_of(all, ctx), &indices);
      // Back into the order of `all`: rank r held positions r, r+size, ...
      auto counts_all = comm::allgatherv(ctx.comm(), std::span<const DenseIndex>(indices));
      if (ctx.rank() == 0) {
        std::vector<DenseIndex> ordered(all.size());
        std::size_t at = 0;
        for (int r = 0; r < ctx.size(); ++r)
          for (std::size_t i = static_cast<std::size_t>(r); i < all.size();
               i += static_cast<std::size_t>(ctx.size()))
            ordered[i] = counts_all[at++];
        gathered = ordered;
      }
    });
    if (!testing::using_mpi()) by_rank_count.push_back(gathered);
  }
  for (std::size_t k = 1; k < by_rank_count.size(); ++k) EXPECT_EQ(by_rank_count[k], by_rank_count[0]);
}

}  // namespace
}  // namespace tailflow::io
