// Every Dataset operation against a serial reference, on 1, 2, 3 and 5 ranks (and under MPI), including
// empty partitions, more ranks than rows, skewed keys and string rows.
#include "engine/dataset/dataset.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "tests/support/distributed_test.hpp"

namespace tailflow {
namespace {

using testing::run_distributed;
using KeyValue = std::pair<std::int64_t, double>;

template <class T>
std::vector<T> sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Rows whose keys are skewed: key 0 takes half of all rows.
KeyValue skewed_row(std::uint64_t i) {
  return {i % 2 == 0 ? 0 : std::int64_t(i % 17), double(i % 5)};
}

// All rows on rank 0, none elsewhere: the worst partitioning.
template <class T>
Dataset<T> only_on_rank0(Context& ctx, const std::vector<T>& rows) {
  return Dataset<T>(ctx, ctx.rank() == 0 ? rows : std::vector<T>{});
}

TEST(Dataset, GenerateSpreadsRowsEvenlyInOrder) {
  run_distributed([](Context& ctx) {
    for (std::uint64_t n : {0, 1, 4, 1000}) {
      auto ds = Dataset<std::uint64_t>::generate(ctx, n, [](std::uint64_t i) { return i * 3; });
      EXPECT_EQ(ds.count(), n);
      auto all = ds.collect();
      ASSERT_EQ(all.size(), n);
      for (std::uint64_t i = 0; i < n; ++i) EXPECT_EQ(all[i], i * 3);
    }
  });
}

TEST(Dataset, NarrowOperationsMatchSerial) {
  run_distributed([](Context& ctx) {
    auto ds = Dataset<int>::generate(ctx, 100, [](std::uint64_t i) { return int(i); });
    auto squares = ds.map([](int x) { return std::int64_t(x) * x; }).collect();
    auto evens = ds.filter([](int x) { return x % 2 == 0; }).collect();
    auto repeated = ds.flat_map<int>([](int x, auto emit) {
                        for (int k = 0; k < x % 3; ++k) emit(x);
                      }).collect();
    auto sums = ds.map_partitions([](const std::vector<int>& rows) {
                    long s = 0;
                    for (int x : rows) s += x;
                    return std::vector<long>{s};
                  }).collect();
    std::vector<std::int64_t> expected_squares;
    std::vector<int> expected_evens, expected_repeated;
    for (int x = 0; x < 100; ++x) {
      expected_squares.push_back(std::int64_t(x) * x);
      if (x % 2 == 0) expected_evens.push_back(x);
      for (int k = 0; k < x % 3; ++k) expected_repeated.push_back(x);
    }
    EXPECT_EQ(squares, expected_squares);
    EXPECT_EQ(evens, expected_evens);
    EXPECT_EQ(repeated, expected_repeated);
    ASSERT_EQ(sums.size(), std::size_t(ctx.size()));
    long total = 0;
    for (long s : sums) total += s;
    EXPECT_EQ(total, 4950);
  });
}

TEST(Dataset, PartitionByHashSendsEqualKeysToOneRank) {
  run_distributed([](Context& ctx) {
    auto ds = Dataset<KeyValue>::generate(ctx, 500, skewed_row);
    auto key = [](const KeyValue& kv) { return kv.first; };
    auto parted = ds.partition_by(HashPartitioner(key, ctx.size()));
    EXPECT_EQ(parted.count(), 500u);
    for (const auto& row : parted.local()) EXPECT_EQ(int(stable_hash(row.first) % ctx.size()), ctx.rank());
    EXPECT_EQ(sorted(parted.collect()), sorted(ds.collect()));
  });
}

TEST(Dataset, PartitionByRejectsBadDestinations) {
  run_distributed([](Context& ctx) {
    auto ds = Dataset<int>::generate(ctx, 10, [](std::uint64_t i) { return int(i); });
    // Every rank has rows when there are at most 10 ranks, so every rank throws: no collective is left open.
    EXPECT_THROW(ds.partition_by([&](int) { return ctx.size(); }), std::out_of_range);
  });
}

TEST(Dataset, ReduceByKeyMatchesSerialWithSkewAndEmptyRanks) {
  run_distributed([](Context& ctx) {
    std::map<std::int64_t, double> expected;
    std::vector<KeyValue> rows;
    for (std::uint64_t i = 0; i < 2000; ++i) {
      rows.push_back(skewed_row(i));
      expected[rows.back().first] += rows.back().second;
    }
    auto key = [](const KeyValue& kv) { return kv.first; };
    auto add = [](const KeyValue& a, const KeyValue& b) { return KeyValue{a.first, a.second + b.second}; };
    for (auto ds : {Dataset<KeyValue>::generate(ctx, rows.size(), [&](std::uint64_t i) { return rows[i]; }),
                    only_on_rank0(ctx, rows)}) {
      auto reduced = sorted(ds.reduce_by_key(key, add).collect());
      ASSERT_EQ(reduced.size(), expected.size());
      for (const auto& [k, v] : reduced) EXPECT_DOUBLE_EQ(v, expected[k]) << "key " << k;
    }
  });
}

// A trivially copyable row: reduce_by_key combines such rows straight into per-destination send buckets.
struct KeyedCount {
  std::int64_t key;
  float value;
};

TEST(Dataset, ReduceByKeyOfTriviallyCopyableRowsMatchesTheGenericShuffleExactly) {
  run_distributed([](Context& ctx) {
    auto key = [](const KeyedCount& row) { return row.key; };
    auto add = [](const KeyedCount& a, const KeyedCount& b) { return KeyedCount{a.key, a.value + b.value}; };
    std::vector<KeyedCount> rows;
    for (std::uint64_t i = 0; i < 3000; ++i)
      rows.push_back({i % 3 == 0 ? 7 : std::int64_t(i * 2654435761u % 401), float(i % 7) * 0.1f});
    for (auto ds : {Dataset<KeyedCount>::generate(ctx, rows.size(), [&](std::uint64_t i) { return rows[i]; }),
                    only_on_rank0(ctx, rows)}) {
      auto reduced = ds.reduce_by_key(key, add);
      // The reference: plain combine, the generic shuffle (rank order), combine again. Same rows, same order,
      // same float sums on every rank.
      const auto ranks = static_cast<std::uint64_t>(ctx.size());
      auto partial = combine_by_key(ds.local(), key, add);
      auto received = shuffle_rows(ctx.comm(), partial,
                                   [&](const KeyedCount& row) { return int(stable_hash(row.key) % ranks); });
      auto expected = combine_by_key(received, key, add);
      ASSERT_EQ(reduced.local_size(), expected.size());
      for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(reduced.local()[i].key, expected[i].key);
        EXPECT_EQ(reduced.local()[i].value, expected[i].value) << "key " << expected[i].key;
        EXPECT_EQ(stable_hash(reduced.local()[i].key) % ranks, std::uint64_t(ctx.rank()));
      }
      EXPECT_EQ(reduced.count(), 401u);  // keys 0..400
    }
  });
}

TEST(Dataset, CombineIntoBucketsGroupsKeysByOwnerInFirstSeenOrder) {
  std::vector<KeyedCount> rows = {{5, 1}, {3, 1}, {5, 2}, {8, 1}, {3, 4}, {13, 1}, {2, 1}, {8, 1}};
  auto key = [](const KeyedCount& row) { return row.key; };
  auto add = [](const KeyedCount& a, const KeyedCount& b) { return KeyedCount{a.key, a.value + b.value}; };
  for (int ranks : {1, 2, 3}) {
    auto buckets = combine_by_key_into_buckets(rows, key, add, ranks);
    ASSERT_EQ(buckets.size(), std::size_t(ranks));
    auto plain = combine_by_key(rows, key, add);
    for (int d = 0; d < ranks; ++d) {
      std::vector<std::int64_t> expected_keys, got_keys;
      for (const auto& row : plain)
        if (stable_hash(row.key) % std::uint64_t(ranks) == std::uint64_t(d)) expected_keys.push_back(row.key);
      for (const auto& row : buckets[d]) got_keys.push_back(row.key);
      EXPECT_EQ(got_keys, expected_keys) << "bucket " << d << " of " << ranks;
    }
    std::size_t total = 0;
    for (const auto& bucket : buckets) {
      total += bucket.size();
      for (const auto& row : bucket) {
        float sum = 0;
        for (const auto& in : rows)
          if (in.key == row.key) sum += in.value;
        EXPECT_EQ(row.value, sum) << "key " << row.key;
      }
    }
    EXPECT_EQ(total, 5u);
  }
}

TEST(Dataset, ReduceByKeyOnStrings) {
  run_distributed([](Context& ctx) {
    std::vector<std::string> words = {"dress", "shoe", "bag", "dress", "coat", "dress", "bag"};
    using WordCount = std::pair<std::string, int>;
    auto ds = Dataset<WordCount>::generate(ctx, words.size(), [&](std::uint64_t i) {
      return WordCount{words[i], 1};
    });
    auto counts = sorted(ds.reduce_by_key([](const WordCount& w) { return w.first; },
                                          [](const WordCount& a, const WordCount& b) {
                                            return WordCount{a.first, a.second + b.second};
                                          })
                             .collect());
    std::vector<WordCount> expected = {{"bag", 2}, {"coat", 1}, {"dress", 3}, {"shoe", 1}};
    EXPECT_EQ(counts, expected);
  });
}

TEST(Dataset, GroupByKeyHandsOverWholeGroups) {
  run_distributed([](Context& ctx) {
    auto ds = Dataset<KeyValue>::generate(ctx, 300, skewed_row);
    using Summary = std::tuple<std::int64_t, std::size_t, double>;
    auto groups = sorted(ds.group_by_key([](const KeyValue& kv) { return kv.first; },
                                         [](std::int64_t k, std::span<const KeyValue> rows) {
                                           double s = 0;
                                           for (const auto& r : rows) s += r.second;
                                           return Summary{k, rows.size(), s};
                                         })
                             .collect());
    std::map<std::int64_t, std::pair<std::size_t, double>> expected;
    for (std::uint64_t i = 0; i < 300; ++i) {
      auto row = skewed_row(i);
      expected[row.first].first++;
      expected[row.first].second += row.second;
    }
    ASSERT_EQ(groups.size(), expected.size());
    for (const auto& [k, n, s] : groups) {
      EXPECT_EQ(n, expected[k].first);
      EXPECT_DOUBLE_EQ(s, expected[k].second);
    }
  });
}

TEST(Dataset, JoinProducesEveryMatchingPair) {
  run_distributed([](Context& ctx) {
    // Left: (user, item) pairs; right: (item, name), with a duplicate item on the right and unmatched keys.
    using Click = std::pair<int, int>;
    using Name = std::pair<int, std::string>;
    std::vector<Click> clicks = {{1, 10}, {2, 10}, {3, 11}, {4, 99}, {5, 12}};
    std::vector<Name> names = {{10, "dress"}, {11, "coat"}, {12, "bag"}, {12, "handbag"}, {13, "unused"}};
    auto left = Dataset<Click>::generate(ctx, clicks.size(), [&](std::uint64_t i) { return clicks[i]; });
    auto right = only_on_rank0(ctx, names);
    using Joined = std::pair<int, std::string>;
    auto joined =
        sorted(left.join(
                       right, [](const Click& c) { return c.second; }, [](const Name& n) { return n.first; },
                       [](const Click& c, const Name& n) {
                         return Joined{c.first, n.second};
                       })
                   .collect());
    std::vector<Joined> expected = {{1, "dress"}, {2, "dress"}, {3, "coat"}, {5, "bag"}, {5, "handbag"}};
    EXPECT_EQ(joined, expected);
  });
}

TEST(Dataset, SortByGivesAGlobalOrder) {
  run_distributed([](Context& ctx) {
    for (std::uint64_t n : {0, 3, 1000}) {
      auto ds = Dataset<KeyValue>::generate(ctx, n, [](std::uint64_t i) {
        return KeyValue{std::int64_t(mix64(i) % 50), double(i)};  // many duplicate keys
      });
      auto result = ds.sort_by([](const KeyValue& kv) { return kv.first; });
      auto all = result.collect();
      ASSERT_EQ(all.size(), n);
      EXPECT_TRUE(std::is_sorted(all.begin(), all.end(),
                                 [](const KeyValue& a, const KeyValue& b) { return a.first < b.first; }));
      EXPECT_EQ(sorted(all), sorted(ds.collect()));
    }
  });
}

TEST(Dataset, SortByStrings) {
  run_distributed([](Context& ctx) {
    std::vector<std::string> words = {"pear", "apple", "fig", "kiwi", "banana", "apple", "cherry"};
    auto ds = only_on_rank0(ctx, words);
    auto all = ds.sort_by([](const std::string& s) { return s; }).collect();
    EXPECT_EQ(all, sorted(words));
  });
}

TEST(Dataset, DistinctRemovesDuplicatesAcrossRanks) {
  run_distributed([](Context& ctx) {
    auto ds = Dataset<int>::generate(ctx, 1000, [](std::uint64_t i) { return int(i % 37); });
    auto values = sorted(ds.distinct().collect());
    std::vector<int> expected(37);
    for (int i = 0; i < 37; ++i) expected[i] = i;
    EXPECT_EQ(values, expected);
    auto strings = Dataset<std::string>(ctx, {"a", "b", "a"}).distinct().collect();
    EXPECT_EQ(sorted(strings), (std::vector<std::string>{"a", "b"}));
  });
}

TEST(Dataset, ZipWithIndexNumbersRowsInRankOrder) {
  run_distributed([](Context& ctx) {
    // Rank r holds r rows, so some ranks are empty.
    std::vector<std::string> mine(ctx.rank(), "r" + std::to_string(ctx.rank()));
    auto indexed = Dataset<std::string>(ctx, mine).zip_with_index().collect();
    std::size_t expected_total = std::size_t(ctx.size()) * (ctx.size() - 1) / 2;
    ASSERT_EQ(indexed.size(), expected_total);
    for (std::size_t i = 0; i < indexed.size(); ++i) EXPECT_EQ(indexed[i].first, i);
  });
}

TEST(Dataset, ReduceAndBroadcastObject) {
  run_distributed([](Context& ctx) {
    auto ds = Dataset<double>::generate(ctx, 101, [](std::uint64_t i) { return double(i); });
    EXPECT_DOUBLE_EQ(ds.reduce([](double a, double b) { return a + b; }, 0.0), 5050.0);
    EXPECT_DOUBLE_EQ(ds.reduce([](double a, double b) { return std::max(a, b); }, -1.0), 100.0);
    std::vector<std::string> config = {"factors=64", "seed=7"};
    auto got = broadcast_object(ctx, ctx.rank() == 0 ? config : std::vector<std::string>{}, 0);
    EXPECT_EQ(got, config);
  });
}

TEST(Dataset, WideOperationsRecordStages) {
  run_distributed([](Context& ctx) {
    auto ds = Dataset<KeyValue>::generate(ctx, 100, skewed_row);
    ds.reduce_by_key([](const KeyValue& kv) { return kv.first; },
                     [](const KeyValue& a, const KeyValue& b) {
                       return KeyValue{a.first, a.second + b.second};
                     },
                     "sum per key");
    ASSERT_EQ(ctx.metrics().stages().size(), 1u);
    const Stage& stage = ctx.metrics().stages()[0];
    EXPECT_EQ(stage.name, "sum per key");
    EXPECT_EQ(comm::allreduce_sum(ctx.comm(), stage.rows_in), 100u);
    EXPECT_EQ(comm::allreduce_sum(ctx.comm(), stage.rows_out), 17u);  // keys 0..16
    auto table = stage_table(ctx.comm(), ctx.metrics());
    if (ctx.rank() == 0) {
      EXPECT_NE(table.find("sum per key"), std::string::npos);
      EXPECT_NE(table.find("rows in"), std::string::npos);
    }
  });
}

}  // namespace
}  // namespace tailflow
