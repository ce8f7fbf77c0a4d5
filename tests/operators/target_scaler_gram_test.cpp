// The score-space target normalisation (TargetNormalisation::kGram, target_scaler.hpp): the plain squared
// error of scaled targets must be the error of every user's score, Σ_u (u·x̂ − u·x)², up to one constant.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/error.hpp"
#include "operators/learning/regressor.hpp"
#include "operators/learning/synthetic_content.hpp"
#include "operators/learning/target_scaler.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::ops::learning {
namespace {

constexpr std::int64_t kDims = 4;

// Users whose factors have very different spreads and are correlated: a metric far from the identity.
std::vector<float> random_users(std::size_t count, std::mt19937& random) {
  std::normal_distribution<float> normal;
  std::vector<float> users;
  for (std::size_t u = 0; u < count; ++u) {
    const float shared = normal(random);
    users.push_back(3.0f * normal(random));
    users.push_back(shared + 0.2f * normal(random));
    users.push_back(shared - 0.5f * normal(random));
    users.push_back(0.3f * normal(random));
  }
  return users;
}

std::vector<double> gram_of(const std::vector<float>& users) {
  std::vector<double> gram(kDims * kDims, 0.0);
  for (std::size_t start = 0; start < users.size(); start += kDims)
    for (std::int64_t i = 0; i < kDims; ++i)
      for (std::int64_t j = 0; j < kDims; ++j)
        gram[i * kDims + j] += double{users[start + i]} * users[start + j];
  return gram;
}

std::vector<float> random_vectors(std::size_t count, std::mt19937& random) {
  std::normal_distribution<float> normal(0.5f, 1.0f);
  std::vector<float> vectors(count * kDims);
  for (float& value : vectors) value = normal(random);
  return vectors;
}

// Σ_u (u·(a − b))² over the users.
double score_error(const std::vector<float>& users, const float* a, const float* b) {
  double sum = 0;
  for (std::size_t start = 0; start < users.size(); start += kDims) {
    double score = 0;
    for (std::int64_t d = 0; d < kDims; ++d) score += double{users[start + d]} * (double{a[d]} - b[d]);
    sum += score * score;
  }
  return sum;
}

double squared_distance(const float* a, const float* b) {
  double sum = 0;
  for (std::int64_t d = 0; d < kDims; ++d) sum += std::pow(double{a[d]} - b[d], 2);
  return sum;
}

// Ratios of the scaled squared error to the score-space error over pairs of rows of `predicted` and `truth`.
std::vector<double> error_ratios(const TargetScaler& scaler, const std::vector<float>& users,
                                 std::vector<float> predicted, std::vector<float> truth) {
  std::vector<double> score_errors;
  for (std::size_t r = 0; r < truth.size() / kDims; ++r)
    score_errors.push_back(score_error(users, &predicted[r * kDims], &truth[r * kDims]));
  scaler.transform(predicted);
  scaler.transform(truth);
  std::vector<double> ratios;
  for (std::size_t r = 0; r < truth.size() / kDims; ++r)
    ratios.push_back(squared_distance(&predicted[r * kDims], &truth[r * kDims]) / score_errors[r]);
  return ratios;
}

TEST(TargetScalerGram, RoundTripsAndKeepsTheMeanSquareAtOne) {
  std::mt19937 random(5);
  const std::vector<float> users = random_users(200, random);
  const std::vector<float> targets = random_vectors(80, random);
  const TargetScaler scaler = TargetScaler::fit(targets, kDims, TargetNormalisation::kGram, gram_of(users));
  std::vector<float> scaled = targets;
  scaler.transform(scaled);
  double squares = 0;
  for (float value : scaled) squares += double{value} * value;
  EXPECT_NEAR(squares / static_cast<double>(scaled.size()), 1.0, 1e-5);
  scaler.inverse(scaled);
  for (std::size_t i = 0; i < targets.size(); ++i) EXPECT_NEAR(scaled[i], targets[i], 1e-4) << i;

  const TargetScaler back = TargetScaler::from_key_values(scaler.to_key_values());
  EXPECT_EQ(back.mode(), TargetNormalisation::kGram);
  EXPECT_EQ(back.mean(), scaler.mean());
  EXPECT_EQ(back.metric_factor(), scaler.metric_factor());
  EXPECT_EQ(parse_target_normalisation("gram"), TargetNormalisation::kGram);
  EXPECT_EQ(to_string(TargetNormalisation::kGram), "gram");
}

TEST(TargetScalerGram, SquaredErrorIsTheUsersScoreError) {
  std::mt19937 random(11);
  const std::vector<float> users = random_users(150, random);
  const std::vector<float> targets = random_vectors(60, random);
  const std::vector<float> predicted = random_vectors(60, random);

  const TargetScaler gram = TargetScaler::fit(targets, kDims, TargetNormalisation::kGram, gram_of(users));
  const std::vector<double> ratios = error_ratios(gram, users, predicted, targets);
  for (double ratio : ratios)
    EXPECT_NEAR(ratio / ratios.front(), 1.0, 1e-4) << "one constant s² for every pair";

  // Standardising weighs dimensions by their spread over the items, not by the users: no constant ratio.
  const TargetScaler standard = TargetScaler::fit(targets, kDims, TargetNormalisation::kStandardise);
  const std::vector<double> standard_ratios = error_ratios(standard, users, predicted, targets);
  const auto [low, high] = std::minmax_element(standard_ratios.begin(), standard_ratios.end());
  EXPECT_GT(*high / *low, 2.0);
}

TEST(TargetScalerGram, NeedsThePositiveDefiniteGram) {
  const std::vector<float> targets = {1, 2, 3, 4, 4, 3, 2, 1};
  EXPECT_THROW(TargetScaler::fit(targets, kDims, TargetNormalisation::kGram), Error);
  std::vector<double> negative(kDims * kDims, 0.0);
  for (std::int64_t d = 0; d < kDims; ++d) negative[d * kDims + d] = -1;
  EXPECT_THROW(TargetScaler::fit(targets, kDims, TargetNormalisation::kGram, negative), Error);
}

// Training in the metric: the regressor needs the Gram matrix, and predictions come back in the ALS scale.
TEST(TargetScalerGram, RegressorTrainsInTheMetricAndPredictsInTheAlsScale) {
  const SyntheticContentShape shape{
      .dims = kDims, .text_vocabulary = 60, .text_per_item = 6, .brands = 5, .numeric = 2};
  RegressorOptions options;
  options.bag_dims = 16;
  options.hidden = {32};
  options.dropout = 0;
  options.epochs = 25;
  options.batch_size = 32;
  options.learning_rate = 1e-2;
  options.warmup_epochs = 0.5;
  options.validation_fraction = 0;
  options.threads_per_rank = 1;
  options.targets = TargetNormalisation::kGram;
  std::mt19937 random(3);
  const std::vector<float> users = random_users(100, random);
  testing::run_distributed({1, 2}, [&](Context& ctx) {
    const FeatureSchema schema = synthetic_schema(shape);
    const std::uint64_t per_rank = 300 / static_cast<std::uint64_t>(ctx.size());
    const std::uint64_t first = per_rank * static_cast<std::uint64_t>(ctx.rank());
    const ItemFeatures items = synthetic_items(shape, first, first + per_rank);
    HeadTargets targets;
    targets.dims = kDims;
    targets.vectors = synthetic_targets(shape, items);
    for (std::size_t row = 0; row < items.size(); ++row)
      targets.rows.push_back(static_cast<std::int64_t>(row));
    EXPECT_THROW(train_content_regressor(ctx, items, schema, targets, options), Error) << "no Gram matrix";
    targets.users_gram = gram_of(users);
    const TrainedRegressor model = train_content_regressor(ctx, items, schema, targets, options);
    EXPECT_LT(model.report().epochs.back().train_loss, 0.1) << "mean square 1 at the start";
    const std::vector<float> predicted = predict(model, items);
    double error = 0, spread = 0;
    for (std::size_t r = 0; r < items.size(); ++r) {
      error += score_error(users, &predicted[r * kDims], &targets.vectors[r * kDims]);
      const std::vector<float> zero(kDims, 0.0f);
      spread += score_error(users, &targets.vectors[r * kDims], zero.data());
    }
    EXPECT_LT(error, 0.1 * spread) << "score error against the scores themselves";
  });
}

}  // namespace
}  // namespace tailflow::ops::learning
