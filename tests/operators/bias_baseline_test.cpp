// The damped mean-plus-biases baseline: equal to a serial reference on any rank count; damping shrinks the
// biases of rows with few ratings; rows without ratings get bias 0.
#include "operators/metrics/bias_baseline.hpp"

#include <gtest/gtest.h>

#include <random>

#include "tests/support/distributed_test.hpp"

namespace tailflow::ops::metrics {
namespace {

using testing::run_distributed;

std::vector<Interaction> random_ratings(std::size_t count, std::uint32_t users, std::uint32_t items) {
  std::mt19937 random(11);
  std::vector<Interaction> ratings;
  for (std::size_t i = 0; i < count; ++i) {
    const auto user = static_cast<UserIndex>(random() % users);
    const auto item = static_cast<ItemIndex>(random() % items);
    ratings.push_back({user, item, static_cast<float>(1 + (user + 2 * item + random() % 3) % 5), 0});
  }
  return ratings;
}

// The formulas of bias_baseline.hpp, written out serially.
BiasBaseline serial_reference(const std::vector<Interaction>& ratings, std::uint32_t users,
                              std::uint32_t items, double damping) {
  BiasBaseline model;
  for (const auto& r : ratings) model.global_mean += r.value;
  model.global_mean /= static_cast<double>(ratings.size());
  std::vector<double> item_sum(items), item_n(items), user_sum(users), user_n(users);
  for (const auto& r : ratings) {
    item_sum[r.item] += r.value - model.global_mean;
    item_n[r.item] += 1;
  }
  for (std::uint32_t i = 0; i < items; ++i) model.item_bias.push_back(item_sum[i] / (damping + item_n[i]));
  for (const auto& r : ratings) {
    user_sum[r.user] += r.value - model.global_mean - model.item_bias[r.item];
    user_n[r.user] += 1;
  }
  for (std::uint32_t u = 0; u < users; ++u) model.user_bias.push_back(user_sum[u] / (damping + user_n[u]));
  return model;
}

TEST(BiasBaseline, MatchesSerialReferenceOnAnyRankCount) {
  const std::uint32_t users = 37, items = 23;
  const auto ratings = random_ratings(500, users, items);
  const BiasBaseline expected = serial_reference(ratings, users, items, 5.0);
  run_distributed([&](Context& ctx) {
    // Rank r holds every size-th rating starting at r; ranks beyond the data hold none.
    std::vector<Interaction> mine;
    for (std::size_t i = static_cast<std::size_t>(ctx.rank()); i < ratings.size(); i += ctx.size())
      mine.push_back(ratings[i]);
    const BiasBaseline model = fit_bias_baseline(ctx, mine, users + 3, items, 5.0);
    EXPECT_NEAR(model.global_mean, expected.global_mean, 1e-12);
    ASSERT_EQ(model.user_bias.size(), users + 3u);
    for (std::uint32_t u = 0; u < users; ++u) EXPECT_NEAR(model.user_bias[u], expected.user_bias[u], 1e-9);
    for (std::uint32_t u = users; u < users + 3; ++u) EXPECT_EQ(model.user_bias[u], 0.0);  // no ratings
    for (std::uint32_t i = 0; i < items; ++i) EXPECT_NEAR(model.item_bias[i], expected.item_bias[i], 1e-9);
    EXPECT_NEAR(model.predict(1, 2), expected.global_mean + expected.user_bias[1] + expected.item_bias[2],
                1e-9);
  });
}

TEST(BiasBaseline, DampingShrinksRareRowsTowardTheMean) {
  // Item 0: one rating of 5; item 1: ten ratings of 5; the rest 1s. Undamped both biases are equal; damped,
  // the rarely rated item's bias is smaller.
  std::vector<Interaction> ratings = {{0, 0, 5.0f, 0}};
  for (UserIndex u = 0; u < 10; ++u) ratings.push_back({u, 1, 5.0f, 0});
  for (UserIndex u = 0; u < 10; ++u) ratings.push_back({u, 2, 1.0f, 0});
  run_distributed({1, 2}, [&](Context& ctx) {
    const auto mine = ctx.rank() == 0 ? ratings : std::vector<Interaction>{};
    const auto undamped = fit_bias_baseline(ctx, mine, 10, 3, 0.0);
    EXPECT_NEAR(undamped.item_bias[0], undamped.item_bias[1], 1e-12);
    const auto damped = fit_bias_baseline(ctx, mine, 10, 3, 10.0);
    EXPECT_GT(damped.item_bias[0], 0.0);
    EXPECT_LT(damped.item_bias[0], damped.item_bias[1] / 2);
  });
}

TEST(BiasBaseline, NoRatingsAtAll) {
  run_distributed([](Context& ctx) {
    const auto model = fit_bias_baseline(ctx, {}, 2, 2, 10.0);
    EXPECT_EQ(model.global_mean, 0.0);
    EXPECT_EQ(model.predict(1, 1), 0.0);
  });
}

}  // namespace
}  // namespace tailflow::ops::metrics
