// Splits: the same seed gives the same split on any rank count, and each method keeps its promise.
#include "operators/split/splitter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "engine/comm/collectives.hpp"
#include "engine/comm/thread_communicator.hpp"
#include "engine/error.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::ops::split {
namespace {

using testing::run_distributed;

// 60 users with 1..30 interactions each (some repeated), times spread over a year; items 0..9 are popular.
std::vector<Interaction> sample_interactions() {
  std::mt19937 random(12);
  std::vector<Interaction> all;
  for (UserIndex user = 0; user < 60; ++user) {
    int n = 1 + static_cast<int>(random() % 30);
    for (int i = 0; i < n; ++i) {
      ItemIndex item = random() % 3 == 0 ? random() % 10 : random() % 80;
      std::int64_t time = 1'500'000'000 + static_cast<std::int64_t>(random() % 31'536'000);
      all.push_back({user, item, 1.0f + static_cast<float>(random() % 5), time});
      if (random() % 10 == 0) all.push_back({user, item, 1.0f, time + 60});  // a repeat view
    }
  }
  return all;
}

bool interaction_less(const Interaction& a, const Interaction& b) {
  return std::tie(a.user, a.item, a.time, a.value) < std::tie(b.user, b.item, b.time, b.value);
}

struct GatheredSplit {
  std::vector<Interaction> train, test;
  std::vector<ItemIndex> probe_items;
};

// Runs the split with this rank's strided share of `all` and gathers both sides, sorted, on every rank.
GatheredSplit split_and_gather(Context& ctx, const std::vector<Interaction>& all,
                               const SplitOptions& options) {
  std::vector<Interaction> mine;
  for (std::size_t i = (ctx.rank() * 7) % all.size(); i < all.size(); i += ctx.size()) mine.push_back(all[i]);
  if (ctx.size() > 1 && ctx.rank() == 0) mine.clear();  // ranks may start empty
  // The share above skipped some rows on some rank counts: hand the rest to the last rank.
  std::vector<Interaction> mine_all = comm::allgatherv(ctx.comm(), std::span<const Interaction>(mine));
  if (ctx.rank() == ctx.size() - 1) {
    std::multiset<std::tuple<UserIndex, ItemIndex, std::int64_t, float>> taken;
    for (const auto& x : mine_all) taken.insert({x.user, x.item, x.time, x.value});
    for (const auto& x : all) {
      auto found = taken.find({x.user, x.item, x.time, x.value});
      if (found == taken.end())
        mine.push_back(x);
      else
        taken.erase(found);
    }
  }
  Split split = split_interactions(ctx, mine, options);
  GatheredSplit gathered{comm::allgatherv(ctx.comm(), std::span<const Interaction>(split.train)),
                         comm::allgatherv(ctx.comm(), std::span<const Interaction>(split.test)),
                         split.probe_items};
  std::sort(gathered.train.begin(), gathered.train.end(), interaction_less);
  std::sort(gathered.test.begin(), gathered.test.end(), interaction_less);
  return gathered;
}

GatheredSplit serial_split(const std::vector<Interaction>& all, const SplitOptions& options) {
  GatheredSplit result;
  comm::run_on_threads(1, [&](comm::Communicator& comm) {
    Context ctx(comm);
    result = split_and_gather(ctx, all, options);
  });
  return result;
}

// Both sides together are the input, and no (user, item) pair is on both sides.
void expect_partition_of(const GatheredSplit& split, std::vector<Interaction> all) {
  std::vector<Interaction> both = split.train;
  both.insert(both.end(), split.test.begin(), split.test.end());
  std::sort(both.begin(), both.end(), interaction_less);
  std::sort(all.begin(), all.end(), interaction_less);
  EXPECT_EQ(both, all);
  std::set<std::pair<UserIndex, ItemIndex>> train_pairs;
  for (const auto& x : split.train) train_pairs.insert({x.user, x.item});
  for (const auto& x : split.test)
    EXPECT_EQ(train_pairs.count({x.user, x.item}), 0u) << x.user << "," << x.item;
}

using PairsPerUser = std::map<UserIndex, std::set<ItemIndex>>;
PairsPerUser pairs_per_user(const std::vector<Interaction>& interactions) {
  PairsPerUser pairs;
  for (const auto& x : interactions) pairs[x.user].insert(x.item);
  return pairs;
}

void expect_same_on_every_rank_count(const SplitOptions& options) {
  auto all = sample_interactions();
  GatheredSplit serial = serial_split(all, options);
  expect_partition_of(serial, all);
  run_distributed([&](Context& ctx) {
    GatheredSplit split = split_and_gather(ctx, all, options);
    EXPECT_EQ(split.train, serial.train);
    EXPECT_EQ(split.test, serial.test);
    EXPECT_EQ(split.probe_items, serial.probe_items);
  });
}

TEST(Splitter, RandomTakesTheFractionOfEachUsersPairs) {
  SplitOptions options;
  options.method = SplitMethod::kRandom;
  options.test_fraction = 0.25;
  options.seed = 5;
  auto all = sample_interactions();
  GatheredSplit split = serial_split(all, options);
  auto everyone = pairs_per_user(all);
  auto tested = pairs_per_user(split.test);
  for (const auto& [user, items] : everyone) {
    std::size_t n = items.size();
    std::size_t expected = n <= 1 ? 0 : std::min<std::size_t>(std::llround(0.25 * n), n - 1);
    EXPECT_EQ(tested[user].size(), expected) << "user " << user;
  }
  expect_same_on_every_rank_count(options);
  // Another seed, another split.
  options.seed = 6;
  EXPECT_NE(serial_split(all, options).test, split.test);
}

TEST(Splitter, LeaveKOutLeavesKPairsOfUsersWithMore) {
  SplitOptions options;
  options.method = SplitMethod::kLeaveKOut;
  options.k = 2;
  auto all = sample_interactions();
  GatheredSplit split = serial_split(all, options);
  auto everyone = pairs_per_user(all);
  auto tested = pairs_per_user(split.test);
  for (const auto& [user, items] : everyone)
    EXPECT_EQ(tested[user].size(), items.size() > 2 ? 2u : 0u) << "user " << user;
  expect_same_on_every_rank_count(options);
}

// The first time of each (user, item) pair.
std::map<std::pair<UserIndex, ItemIndex>, std::int64_t> first_times(const std::vector<Interaction>& xs) {
  std::map<std::pair<UserIndex, ItemIndex>, std::int64_t> first;
  for (const auto& x : xs) {
    auto [it, inserted] = first.try_emplace({x.user, x.item}, x.time);
    if (!inserted) it->second = std::min(it->second, x.time);
  }
  return first;
}

TEST(Splitter, TemporalPerUserTestsEachUsersLatestPairs) {
  SplitOptions options;
  options.method = SplitMethod::kTemporal;
  options.test_fraction = 0.3;
  auto all = sample_interactions();
  GatheredSplit split = serial_split(all, options);
  std::map<UserIndex, std::int64_t> latest_train, earliest_test;
  for (const auto& [pair, time] : first_times(split.train))
    latest_train[pair.first] = std::max(latest_train[pair.first], time);
  for (const auto& [pair, time] : first_times(split.test)) {
    auto [it, inserted] = earliest_test.try_emplace(pair.first, time);
    if (!inserted) it->second = std::min(it->second, time);
  }
  for (const auto& [user, time] : earliest_test) EXPECT_GE(time, latest_train[user]) << "user " << user;
  EXPECT_FALSE(earliest_test.empty());
  expect_same_on_every_rank_count(options);
}

TEST(Splitter, TemporalGlobalCutsAtOneTime) {
  SplitOptions options;
  options.method = SplitMethod::kTemporal;
  options.global_time = true;
  options.test_fraction = 0.2;
  auto all = sample_interactions();
  GatheredSplit split = serial_split(all, options);
  auto train_times = first_times(split.train);
  auto test_times = first_times(split.test);
  std::int64_t latest_train = 0, earliest_test = INT64_MAX;
  for (const auto& [pair, time] : train_times) latest_train = std::max(latest_train, time);
  for (const auto& [pair, time] : test_times) earliest_test = std::min(earliest_test, time);
  EXPECT_LT(latest_train, earliest_test);
  double pairs = static_cast<double>(train_times.size() + test_times.size());
  EXPECT_LE(static_cast<double>(test_times.size()), 0.2 * pairs);
  EXPECT_GE(static_cast<double>(test_times.size()), 0.2 * pairs - 2);  // distinct times: nearly exact
  expect_same_on_every_rank_count(options);
}

TEST(Splitter, FewShotKeepsShotsOfEachProbeItem) {
  SplitOptions options;
  options.method = SplitMethod::kFewShot;
  options.shots = 3;
  options.max_shots = 5;
  options.probe_fraction = 0.5;
  options.seed = 8;
  auto all = sample_interactions();
  GatheredSplit split = serial_split(all, options);
  std::map<ItemIndex, std::set<UserIndex>> users_of;
  for (const auto& x : all) users_of[x.item].insert(x.user);
  std::size_t eligible = 0;
  for (const auto& [item, users] : users_of) eligible += users.size() >= 10;
  ASSERT_GE(eligible, 4u);
  EXPECT_EQ(split.probe_items.size(), static_cast<std::size_t>(std::llround(0.5 * eligible)));
  std::map<ItemIndex, std::set<UserIndex>> train_users, test_users;
  for (const auto& x : split.train) train_users[x.item].insert(x.user);
  for (const auto& x : split.test) test_users[x.item].insert(x.user);
  std::set<ItemIndex> probes(split.probe_items.begin(), split.probe_items.end());
  for (ItemIndex item : probes) {
    EXPECT_GE(users_of[item].size(), 10u);
    EXPECT_EQ(train_users[item].size(), 3u) << "probe item " << item;
    EXPECT_EQ(test_users[item].size(), users_of[item].size() - 3);
  }
  for (const auto& x : split.test) EXPECT_EQ(probes.count(x.item), 1u);  // only probe items are tested
  expect_same_on_every_rank_count(options);

  options.shots = 0;  // probe items become cold
  GatheredSplit cold = serial_split(all, options);
  for (const auto& x : cold.train) EXPECT_EQ(probes.count(x.item), 0u);
}

TEST(Splitter, RejectsBadOptions) {
  run_distributed([](Context& ctx) {
    SplitOptions options;
    options.test_fraction = 1.0;
    EXPECT_THROW(split_interactions(ctx, {}, options), Error);
    options = {};
    options.method = SplitMethod::kFewShot;
    options.shots = 11;
    EXPECT_THROW(split_interactions(ctx, {}, options), Error);
  });
  EXPECT_THROW(parse_split_method("sideways"), Error);
  EXPECT_EQ(parse_split_method("leave-k-out"), SplitMethod::kLeaveKOut);
}

}  // namespace
}  // namespace tailflow::ops::split
