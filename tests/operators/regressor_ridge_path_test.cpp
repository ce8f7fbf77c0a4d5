// The closed-form ridge path (ridge_path.hpp) and the regressor that carries it (--ridge-path mix|residual).
#include <gtest/gtest.h>
#include <unistd.h>

#include <Eigen/Dense>
#include <cmath>
#include <filesystem>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "operators/learning/regressor.hpp"
#include "operators/learning/ridge_path.hpp"
#include "operators/learning/synthetic_content.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::ops::learning {
namespace {

constexpr SyntheticContentShape kShape{.dims = 3,
                                       .text_vocabulary = 30,
                                       .text_per_item = 4,
                                       .brands = 4,
                                       .numeric = 2,
                                       .dense = 2,
                                       .noise = 0.3};

// The design matrix of `items` as ridge_path.hpp lays it out: bags, one-hot categorical columns, numeric,
// dense.
Eigen::MatrixXd dense_design(const ItemFeatures& items, const FeatureSchema& schema) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(items.size()), ridge_columns(schema));
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto row = static_cast<Eigen::Index>(i);
    Eigen::Index offset = 0;
    for (std::size_t b = 0; b < schema.bags.size(); ++b) {
      const SparseBags& bag = items.bags[b];
      for (std::int64_t e = bag.offsets[i]; e < bag.offsets[i + 1]; ++e)
        x(row, offset + bag.ids[e]) += bag.weights[e];
      offset += schema.bags[b].vocabulary_size;
    }
    for (std::size_t c = 0; c < schema.categorical.size(); ++c) {
      x(row, offset + items.categorical[i * schema.categorical.size() + c]) = 1;
      offset += schema.categorical[c].vocabulary_size;
    }
    for (std::size_t c = 0; c < schema.numeric.size(); ++c)
      x(row, offset++) = items.numeric[i * schema.numeric.size() + c];
    for (std::int64_t c = 0; c < schema.dense_dims; ++c)
      x(row, offset++) = items.dense[i * schema.dense_dims + c];
  }
  return x;
}

TEST(RidgePath, SolvesTheCentredNormalEquations) {
  const FeatureSchema schema = synthetic_schema(kShape);
  const ItemFeatures items = synthetic_items(kShape, 0, 80);
  const std::vector<float> targets = synthetic_targets(kShape, items);
  const double alpha = 2.5;
  const RidgePath path = RidgePath::fit(items, schema, targets, kShape.dims, alpha, {.tolerance = 1e-10});
  EXPECT_GT(path.iterations(), 1);

  // The reference: dense centred normal equations, solved directly.
  const Eigen::MatrixXd x = dense_design(items, schema);
  Eigen::MatrixXd y(x.rows(), kShape.dims);
  for (Eigen::Index i = 0; i < y.rows(); ++i)
    for (Eigen::Index d = 0; d < y.cols(); ++d) y(i, d) = targets[i * kShape.dims + d];
  const Eigen::RowVectorXd mu = x.colwise().mean(), y_mean = y.colwise().mean();
  const Eigen::MatrixXd xc = x.rowwise() - mu, yc = y.rowwise() - y_mean;
  const Eigen::MatrixXd normal = xc.transpose() * xc + alpha * Eigen::MatrixXd::Identity(x.cols(), x.cols());
  const Eigen::MatrixXd w = normal.ldlt().solve(xc.transpose() * yc);
  const Eigen::RowVectorXd b = y_mean - mu * w;
  for (Eigen::Index c = 0; c < w.rows(); ++c)
    for (Eigen::Index d = 0; d < w.cols(); ++d)
      EXPECT_NEAR(path.weights()[c * kShape.dims + d], w(c, d), 1e-5) << "column " << c << ", output " << d;
  for (Eigen::Index d = 0; d < w.cols(); ++d) EXPECT_NEAR(path.intercept()[d], b(d), 1e-5);

  // Predictions are X W + b, for new items too, and for chosen rows.
  const ItemFeatures unseen = synthetic_items(kShape, 500, 520);
  const Eigen::MatrixXd expected = (dense_design(unseen, schema) * w).rowwise() + b;
  const std::vector<float> predicted = path.predict(unseen);
  for (Eigen::Index i = 0; i < expected.rows(); ++i)
    for (Eigen::Index d = 0; d < expected.cols(); ++d)
      EXPECT_NEAR(predicted[i * kShape.dims + d], expected(i, d), 1e-4);
  const std::vector<std::int64_t> rows = {7, 2};
  const std::vector<float> two = path.predict(unseen, rows);
  for (std::int64_t d = 0; d < kShape.dims; ++d)
    EXPECT_FLOAT_EQ(two[kShape.dims + d], predicted[2 * kShape.dims + d]);

  EXPECT_THROW(RidgePath::fit(items, schema, targets, kShape.dims, 0.0), Error);
  EXPECT_THROW(RidgePath(schema, kShape.dims, alpha, {1.0f}, path.intercept()), Error);
}

RegressorOptions ridge_options(RidgePathKind kind) {
  RegressorOptions options;
  options.bag_dims = 8;
  options.categorical_dims = 4;
  options.numeric_dims = 4;
  options.dense_dims = 4;
  options.hidden = {16};
  options.dropout = 0;
  options.epochs = 20;
  options.learning_rate = 1e-2;
  options.warmup_epochs = 0.5;
  options.batch_size = 16;
  options.validation_fraction = 0.25;
  options.patience = 0;
  options.threads_per_rank = 1;
  options.ridge_path = kind;
  options.ridge_alphas = {1, 4};
  return options;
}

// This rank's share of 160 synthetic items (every item a head item).
HeadTargets share_targets(Context& ctx, ItemFeatures& items) {
  const std::uint64_t per_rank = 160 / static_cast<std::uint64_t>(ctx.size());
  const std::uint64_t first = per_rank * static_cast<std::uint64_t>(ctx.rank());
  items = synthetic_items(kShape, first, first + per_rank);
  HeadTargets targets;
  targets.dims = kShape.dims;
  targets.vectors = synthetic_targets(kShape, items);
  for (std::size_t row = 0; row < items.size(); ++row) targets.rows.push_back(static_cast<std::int64_t>(row));
  return targets;
}

std::string temp_dir(Context& ctx, const std::string& purpose) {
  std::string name =
      (std::filesystem::temp_directory_path() /
       ("tailflow_ridge_" + purpose + "_" + std::to_string(::getpid()) + "_" + std::to_string(ctx.size())))
          .string();
  name = comm::broadcast_string(ctx.comm(), name, 0);
  if (ctx.is_root()) std::filesystem::remove_all(name);
  ctx.comm().barrier();
  return name;
}

// Mix: the members train exactly as without the path, and the held-out weight can only lower the held-out
// loss below the network's (w = 0) and the ridge path's (w = 1). Both kinds survive saving.
TEST(RegressorRidgePath, MixIsNoWorseThanEitherPartAndBothKindsSave) {
  testing::run_distributed({1, 2}, [&](Context& ctx) {
    const FeatureSchema schema = synthetic_schema(kShape);
    ItemFeatures items;
    const HeadTargets targets = share_targets(ctx, items);
    const TrainedRegressor plain =
        train_content_regressor(ctx, items, schema, targets, ridge_options(RidgePathKind::kOff));
    // A heavy penalty keeps the ridge path from fitting the linear synthetic map alone.
    RegressorOptions mix_options = ridge_options(RidgePathKind::kMix);
    mix_options.ridge_alphas = {20};
    const TrainedRegressor mix = train_content_regressor(ctx, items, schema, targets, mix_options);
    EXPECT_EQ(mix.flat_parameters(), plain.flat_parameters()) << "the network part is the plain network";
    EXPECT_GE(mix.ridge_weight(), 0.0);
    EXPECT_LE(mix.ridge_weight(), 1.0);
    EXPECT_DOUBLE_EQ(mix.network_weight() + mix.ridge_weight(), 1.0);
    EXPECT_LE(mix.report().best_validation_loss, plain.report().best_validation_loss + 1e-9);
    // Both parts matter, so the fitted weight lies strictly inside (0, 1).
    EXPECT_GT(mix.ridge_weight(), 0.02);
    EXPECT_LT(mix.ridge_weight(), 0.98);
    // The output is (1 − w)·network + w·ridge; the standardising scaler is affine, so this holds in the ALS
    // scale too.
    std::vector<float> ridge = mix.ridge_path().predict(items);
    mix.scaler().inverse(ridge);
    const std::vector<float> network = predict(plain, items), mixed = predict(mix, items);
    for (std::size_t i = 0; i < mixed.size(); ++i)
      EXPECT_NEAR(mixed[i], mix.network_weight() * network[i] + mix.ridge_weight() * ridge[i], 1e-4) << i;

    const TrainedRegressor residual =
        train_content_regressor(ctx, items, schema, targets, ridge_options(RidgePathKind::kResidual));
    EXPECT_DOUBLE_EQ(residual.ridge_weight(), 1.0);
    EXPECT_DOUBLE_EQ(residual.network_weight(), 1.0);
    EXPECT_NE(residual.flat_parameters(), plain.flat_parameters()) << "the network learns the residual";

    const ItemFeatures unseen = synthetic_items(kShape, 1000, 1012);
    for (const TrainedRegressor* model : {&mix, &residual}) {
      const std::string dir = temp_dir(ctx, to_string(model->options().ridge_path));
      if (ctx.is_root()) save_regressor(*model, dir);
      ctx.comm().barrier();
      const TrainedRegressor loaded = load_regressor(dir);
      EXPECT_EQ(loaded.options().ridge_path, model->options().ridge_path);
      EXPECT_DOUBLE_EQ(loaded.ridge_weight(), model->ridge_weight());
      EXPECT_EQ(predict(loaded, unseen), predict(*model, unseen));
      ctx.comm().barrier();
      if (ctx.is_root()) {
        std::filesystem::remove(std::filesystem::path(dir) / "ridge.pt");
        EXPECT_THROW(load_regressor(dir), Error) << "a missing ridge.pt is named";
        std::filesystem::remove_all(dir);
      }
    }
  });
}

// The ridge path alone (mix weight 1 forced by an untrainable network) must fit the linear synthetic map:
// with ridge_path = residual and a network that cannot move, the model is the ridge path.
TEST(RegressorRidgePath, ResidualModelStartsFromTheRidgeFit) {
  testing::run_distributed({1}, [&](Context& ctx) {
    const FeatureSchema schema = synthetic_schema(kShape);
    ItemFeatures items;
    const HeadTargets targets = share_targets(ctx, items);
    RegressorOptions frozen = ridge_options(RidgePathKind::kResidual);
    frozen.learning_rate = 1e-12;
    frozen.validation_fraction = 0;
    frozen.ridge_alphas = {1};
    const TrainedRegressor model = train_content_regressor(ctx, items, schema, targets, frozen);
    const std::vector<float> predicted = predict(model, items);
    double error = 0, spread = 0, mean = 0;
    for (float value : targets.vectors) mean += value;
    mean /= static_cast<double>(targets.vectors.size());
    for (std::size_t i = 0; i < predicted.size(); ++i) {
      error += std::pow(predicted[i] - targets.vectors[i], 2);
      spread += std::pow(targets.vectors[i] - mean, 2);
    }
    EXPECT_LT(error, 0.5 * spread) << "the untrained network adds little; the ridge fit does the work";
  });
}

}  // namespace
}  // namespace tailflow::ops::learning
