// The content → embedding regressor and its data-parallel trainer, through the LibTorch-free facade.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <numeric>

#include "engine/comm/collectives.hpp"
#include "engine/comm/thread_communicator.hpp"
#include "engine/error.hpp"
#include "engine/stop_request.hpp"
#include "operators/learning/distributed_sampler.hpp"
#include "operators/learning/learning_rate_schedule.hpp"
#include "operators/learning/regressor.hpp"
#include "operators/learning/synthetic_content.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::ops::learning {
namespace {

using testing::run_distributed;

// Rank r of N holds the items whose id is r modulo N: interleaved, so that gathering in rank order does
// not give id order by accident.
struct LocalData {
  ItemFeatures items;
  HeadTargets targets;
};

LocalData local_data(const SyntheticContentShape& shape, std::uint64_t items, int rank, int ranks,
                     std::uint64_t head_every = 1) {
  ItemFeatures all = synthetic_items(shape, 0, items);
  std::vector<std::int64_t> mine;
  for (std::uint64_t id = 0; id < items; ++id)
    if (static_cast<int>(id % static_cast<std::uint64_t>(ranks)) == rank)
      mine.push_back(static_cast<std::int64_t>(id));
  LocalData data;
  const FeatureSchema schema = synthetic_schema(shape);
  data.items = select_rows(all, schema, mine);
  std::vector<float> vectors = synthetic_targets(shape, data.items);
  data.targets.dims = shape.dims;
  for (std::size_t row = 0; row < data.items.size(); ++row) {
    if (data.items.item_ids[row] % head_every != 0) continue;  // a "tail" item: no target
    data.targets.rows.push_back(static_cast<std::int64_t>(row));
    data.targets.vectors.insert(data.targets.vectors.end(), vectors.begin() + row * shape.dims,
                                vectors.begin() + (row + 1) * shape.dims);
  }
  return data;
}

RegressorOptions small_options() {
  RegressorOptions options;
  options.bag_dims = 16;
  options.categorical_dims = 4;
  options.numeric_dims = 4;
  options.image_channels = 4;
  options.image_dims = 8;
  options.dense_dims = 8;
  options.hidden = {32};
  options.dropout = 0;
  options.threads_per_rank = 1;
  options.predict_batch_size = 64;
  return options;
}

// The shapes most tests train on: a small text bag, a brand and two numeric columns; and the same with every
// tower (image CNN and a dense block) in use.
constexpr SyntheticContentShape kSmallShape{
    .dims = 3, .text_vocabulary = 40, .text_per_item = 4, .brands = 4, .numeric = 2};
constexpr SyntheticContentShape kEveryTowerShape{.dims = 3,
                                                 .text_vocabulary = 40,
                                                 .text_per_item = 4,
                                                 .brands = 4,
                                                 .numeric = 2,
                                                 .image_channels = 1,
                                                 .image_side = 8,
                                                 .dense = 3};

// small_options() for a short run in batches of 16 that never stops early.
RegressorOptions short_run(std::int64_t epochs, double validation_fraction = 0, double dropout = 0) {
  RegressorOptions options = small_options();
  options.epochs = epochs;
  options.batch_size = 16;
  options.validation_fraction = validation_fraction;
  options.patience = 0;
  options.dropout = dropout;
  return options;
}

// This rank's share of `items` synthetic items, trained on collectively.
TrainedRegressor train_share(Context& ctx, const SyntheticContentShape& shape, std::uint64_t items,
                             const RegressorOptions& options) {
  LocalData data = local_data(shape, items, ctx.rank(), ctx.size());
  return train_content_regressor(ctx, data.items, synthetic_schema(shape), data.targets, options);
}

// A fresh directory, the same name on every rank.
std::string shared_temp_dir(Context& ctx, const std::string& purpose) {
  std::string name = (std::filesystem::temp_directory_path() /
                      ("tailflow_regressor_" + purpose + "_" + std::to_string(::getpid()) + "_" +
                       std::to_string(ctx.size())))
                         .string();
  name = comm::broadcast_string(ctx.comm(), name, 0);
  if (ctx.is_root()) std::filesystem::remove_all(name);
  ctx.comm().barrier();
  return name;
}

// Trains on a one-rank communicator of its own (a serial reference, inside any distributed test).
TrainedRegressor train_alone(const SyntheticContentShape& shape, std::uint64_t items,
                             const RegressorOptions& options) {
  std::unique_ptr<TrainedRegressor> model;
  comm::run_on_threads(1, [&](comm::Communicator& comm) {
    Context ctx(comm);
    model = std::make_unique<TrainedRegressor>(train_share(ctx, shape, items, options));
  });
  return *model;
}

double max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double{a[i]} - b[i]));
  return worst;
}

TEST(RegressorOptions, RoundTripThroughKeyValues) {
  RegressorOptions options = small_options();
  options.hidden = {128, 64};
  options.targets = TargetNormalisation::kL2;
  options.loss = LossKind::kCosine;
  options.schedule = ScheduleKind::kStep;
  options.learning_rate = 3.3e-4;
  options.seed = 1234567890123ULL;
  options.ensemble = 4;
  options.wide = true;
  options.count_shrinkage = 2.5;
  options.ridge_path = RidgePathKind::kResidual;
  options.ridge_alphas = {0.5, 30};
  RegressorOptions back = regressor_options_from(to_key_values(options));
  EXPECT_EQ(to_key_values(back), to_key_values(options));
  EXPECT_EQ(back.hidden, options.hidden);
  EXPECT_EQ(back.learning_rate, options.learning_rate);
  EXPECT_EQ(back.seed, options.seed);
  EXPECT_EQ(back.ensemble, 4);
  EXPECT_EQ(back.ridge_path, RidgePathKind::kResidual);
  EXPECT_EQ(back.ridge_alphas, options.ridge_alphas);

  FeatureSchema schema = synthetic_schema({.image_channels = 1, .image_side = 8, .dense = 5});
  EXPECT_EQ(feature_schema_from(to_key_values(schema)), schema);
}

TEST(RegressorOptions, RejectsBadSettings) {
  RegressorOptions options;
  options.dropout = 1.0;
  EXPECT_THROW(validate(options), Error);
  options = RegressorOptions{};
  options.batch_size = 0;
  EXPECT_THROW(validate(options), Error);
  options = RegressorOptions{};
  options.ensemble = 0;
  EXPECT_THROW(validate(options), Error);
  EXPECT_THROW(parse_target_normalisation("zscore"), Error);
  EXPECT_THROW(parse_ridge_path_kind("lasso"), Error);
  options = RegressorOptions{};
  options.ridge_alphas = {3, 0};
  EXPECT_THROW(validate(options), Error);
}

TEST(TargetScaler, StandardiseRoundTrip) {
  const std::int64_t k = 3;
  std::vector<float> targets;
  for (int i = 0; i < 50; ++i) {
    targets.push_back(static_cast<float>(10 + i));        // mean 34.5
    targets.push_back(static_cast<float>(0.01 * i * i));  // skewed
    targets.push_back(7.0f);                              // constant: scale stays 1
  }
  TargetScaler scaler = TargetScaler::fit(targets, k, TargetNormalisation::kStandardise);
  std::vector<float> scaled = targets;
  scaler.transform(scaled);
  for (int d = 0; d < 2; ++d) {
    double sum = 0, squares = 0;
    for (int i = 0; i < 50; ++i) {
      sum += scaled[i * k + d];
      squares += scaled[i * k + d] * scaled[i * k + d];
    }
    EXPECT_NEAR(sum / 50, 0.0, 1e-5);
    EXPECT_NEAR(squares / 50, 1.0, 1e-4);
  }
  EXPECT_FLOAT_EQ(scaled[2], 0.0f);
  scaler.inverse(scaled);
  for (std::size_t i = 0; i < targets.size(); ++i) EXPECT_NEAR(scaled[i], targets[i], 1e-4);

  TargetScaler back = TargetScaler::from_key_values(scaler.to_key_values());
  EXPECT_EQ(back.mean(), scaler.mean());
  EXPECT_EQ(back.scale(), scaler.scale());
}

TEST(TargetScaler, L2GivesUnitVectorsAndMeanNormBack) {
  std::vector<float> targets = {3, 4, 0, 6, 8, 0};  // norms 5 and 10
  TargetScaler scaler = TargetScaler::fit(targets, 3, TargetNormalisation::kL2);
  EXPECT_DOUBLE_EQ(scaler.mean_norm(), 7.5);
  std::vector<float> scaled = targets;
  scaler.transform(scaled);
  EXPECT_FLOAT_EQ(scaled[0], 0.6f);
  EXPECT_FLOAT_EQ(scaled[4], 0.8f);
  scaler.inverse(scaled);  // directions kept, lengths = the mean norm
  EXPECT_FLOAT_EQ(scaled[0], 4.5f);
  EXPECT_FLOAT_EQ(scaled[3], 4.5f);
  EXPECT_FLOAT_EQ(scaled[4], 6.0f);
}

TEST(DistributedSampler, RanksSplitTheSameGlobalBatches) {
  const std::int64_t items = 23, batch = 8;
  for (int ranks : {1, 2, 3, 5}) {
    DistributedSampler alone(items, batch, 9, 0, 1);
    for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
      std::vector<std::int64_t> seen;
      for (std::int64_t b = 0; b < alone.batches_per_epoch(); ++b) {
        std::vector<std::int64_t> joined;
        for (int rank = 0; rank < ranks; ++rank) {
          auto part = DistributedSampler(items, batch, 9, rank, ranks).local_batch(epoch, b);
          joined.insert(joined.end(), part.begin(), part.end());
        }
        EXPECT_EQ(joined, alone.local_batch(epoch, b)) << ranks << " ranks, batch " << b;
        EXPECT_EQ(static_cast<std::int64_t>(joined.size()), alone.global_batch_size(b));
        seen.insert(seen.end(), joined.begin(), joined.end());
      }
      std::sort(seen.begin(), seen.end());
      std::vector<std::int64_t> all(items);
      std::iota(all.begin(), all.end(), 0);
      EXPECT_EQ(seen, all) << "every item exactly once per epoch";
    }
  }
  DistributedSampler sampler(items, items, 9, 0, 1);
  EXPECT_NE(sampler.local_batch(0, 0), sampler.local_batch(1, 0)) << "reshuffled each epoch";
  EXPECT_EQ(DistributedSampler(0, 4, 1, 0, 2).batches_per_epoch(), 0);
}

TEST(LearningRateSchedule, WarmsUpThenDecays) {
  RegressorOptions options;
  options.learning_rate = 1.0;
  options.warmup_epochs = 1;
  options.epochs = 5;
  options.min_lr_ratio = 0.1;
  LearningRateSchedule cosine(options, 10);
  EXPECT_DOUBLE_EQ(cosine.at(0), 0.1);
  EXPECT_DOUBLE_EQ(cosine.at(9), 1.0);
  EXPECT_GT(cosine.at(20), cosine.at(30));
  EXPECT_NEAR(cosine.at(49), 0.1, 0.01);
  options.schedule = ScheduleKind::kStep;
  options.step_epochs = 2;
  options.step_gamma = 0.5;
  LearningRateSchedule step(options, 10);
  EXPECT_DOUBLE_EQ(step.at(15), 1.0);
  EXPECT_DOUBLE_EQ(step.at(25), 0.5);
  EXPECT_DOUBLE_EQ(step.at(45), 0.25);
}

TEST(ItemFeatures, ValidationNamesTheProblem) {
  SyntheticContentShape shape;
  FeatureSchema schema = synthetic_schema(shape);
  ItemFeatures items = synthetic_items(shape, 0, 4);
  EXPECT_NO_THROW(validate(items, schema));
  ItemFeatures bad = items;
  bad.bags[0].ids[3] = shape.text_vocabulary;
  EXPECT_THROW(validate(bad, schema), Error);
  bad = items;
  bad.categorical[1] = shape.brands + 1;
  try {
    validate(bad, schema);
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("brand"), std::string::npos) << error.what();
  }
  bad = items;
  bad.numeric.pop_back();
  EXPECT_THROW(validate(bad, schema), Error);
}

TEST(ItemFeatures, AllgatherConcatenatesInRankOrder) {
  SyntheticContentShape shape{.image_channels = 1, .image_side = 4, .dense = 2};
  FeatureSchema schema = synthetic_schema(shape);
  run_distributed({1, 2, 3}, [&](Context& ctx) {
    std::uint64_t first = static_cast<std::uint64_t>(ctx.rank()) * 3;
    // Rank 1 holds no items: empty partitions must work.
    std::uint64_t last = ctx.rank() == 1 ? first : first + 3;
    ItemFeatures all = allgather_items(ctx, synthetic_items(shape, first, last), schema);
    ItemFeatures expected = empty_item_features(schema);
    for (int r = 0; r < ctx.size(); ++r) {
      std::uint64_t f = static_cast<std::uint64_t>(r) * 3;
      append(expected, synthetic_items(shape, f, r == 1 ? f : f + 3), schema);
    }
    EXPECT_NO_THROW(validate(all, schema));
    EXPECT_EQ(all.item_ids, expected.item_ids);
    EXPECT_EQ(all.bags[0].ids, expected.bags[0].ids);
    EXPECT_EQ(all.bags[0].offsets, expected.bags[0].offsets);
    EXPECT_EQ(all.images, expected.images);
    EXPECT_EQ(all.dense, expected.dense);
  });
}

TEST(Regressor, LearnsAKnownLinearMap) {
  SyntheticContentShape shape{
      .dims = 4, .text_vocabulary = 60, .text_per_item = 6, .brands = 5, .numeric = 2};
  RegressorOptions options = small_options();
  options.epochs = 25;
  options.batch_size = 32;
  options.learning_rate = 1e-2;
  options.warmup_epochs = 0.5;
  options.validation_fraction = 0.2;
  options.patience = 0;
  run_distributed({1, 2}, [&](Context& ctx) {
    LocalData data = local_data(shape, 600, ctx.rank(), ctx.size(), /*head_every=*/2);
    TrainedRegressor model =
        train_content_regressor(ctx, data.items, synthetic_schema(shape), data.targets, options);
    const TrainingReport& report = model.report();
    ASSERT_EQ(report.train_items + report.validation_items, 300);
    ASSERT_EQ(static_cast<std::int64_t>(report.epochs.size()), options.epochs);
    // Standardised targets have variance 1 per dimension: the loss must fall well below it.
    EXPECT_LT(report.epochs.back().train_loss, 0.05);
    EXPECT_LT(report.best_validation_loss, 0.15);
    EXPECT_LT(report.epochs.back().train_loss, report.epochs.front().train_loss / 5);

    // Tail items (never seen): predictions in the ALS scale against the true vectors.
    std::vector<float> predicted = predict(model, data.items);
    std::vector<float> truth = synthetic_targets(shape, data.items);
    double error = 0, variance = 0, mean = 0;
    std::int64_t count = 0;
    for (std::size_t row = 0; row < data.items.size(); ++row) {
      if (data.items.item_ids[row] % 2 == 0) continue;
      for (std::int64_t d = 0; d < shape.dims; ++d, ++count) {
        double t = truth[row * shape.dims + d];
        error += std::pow(predicted[row * shape.dims + d] - t, 2);
        mean += t;
        variance += t * t;
      }
    }
    error = comm::allreduce_sum(ctx.comm(), error);
    variance = comm::allreduce_sum(ctx.comm(), variance);
    mean = comm::allreduce_sum(ctx.comm(), mean);
    count = comm::allreduce_sum(ctx.comm(), count);
    variance = variance / count - std::pow(mean / count, 2);
    EXPECT_LT(error / count, 0.2 * variance) << "mean squared error on unseen items vs their variance";
  });
}

// The acceptance test of data parallelism: one rank with global batch B and N ranks with B/N each take the
// same steps. Every tower is used (text, categorical, numeric, image CNN, dense); 70 items in batches of 16
// leave a last batch of 6, so with 4 ranks some parts are tiny. With dropout too: masks are keyed by the
// sample, not by the rank that processes it.
TEST(DataParallelTrainer, OneRankEqualsManyRanks) {
  const SyntheticContentShape shape = kEveryTowerShape;
  RegressorOptions options = short_run(3);
  options.bucket_bytes = 4096;  // several buckets, some holding several parameters
  const std::uint64_t items = 70;
  const std::vector<float> without_dropout = train_alone(shape, items, options).flat_parameters();
  for (double dropout : {0.0, 0.3}) {
    options.dropout = dropout;
    const std::vector<float> reference = train_alone(shape, items, options).flat_parameters();
    if (dropout > 0) {  // dropout must really act, or this case would prove nothing
      EXPECT_GT(max_abs_difference(reference, without_dropout), 1e-3);
    }
    run_distributed({1, 2, 4}, [&](Context& ctx) {
      TrainedRegressor model = train_share(ctx, shape, items, options);
      EXPECT_EQ(model.report().steps, 3 * 5);
      EXPECT_GT(model.report().gradient_buckets, 2);
      std::vector<float> weights = model.flat_parameters();
      ASSERT_EQ(weights.size(), reference.size());
      EXPECT_LT(max_abs_difference(weights, reference), 1e-5)
          << "rank " << ctx.rank() << ", dropout " << dropout;
      // The replicas agree with each other, too.
      std::vector<float> root_weights = weights;
      comm::broadcast(ctx.comm(), std::span<float>(root_weights), 0);
      EXPECT_EQ(max_abs_difference(weights, root_weights), 0.0);
    });
  }
}

// Embedding tables' gradients go over the wire by touched rows only: far fewer bytes per step, the same
// weights as sending whole tables (and as one rank).
TEST(DataParallelTrainer, SparseEmbeddingExchangeEqualsDenseAndMovesLess) {
  // 2000 text buckets and a brand table; a batch of 16 items with 4 n-grams touches at most 64 text rows.
  SyntheticContentShape shape{
      .dims = 3, .text_vocabulary = 2000, .text_per_item = 4, .brands = 30, .numeric = 2};
  RegressorOptions options = short_run(2, 0, 0.2);
  const std::uint64_t items = 70;
  const std::vector<float> reference = train_alone(shape, items, options).flat_parameters();
  run_distributed({2, 4}, [&](Context& ctx) {
    if (ctx.size() < 2) return;  // under mpiexec -n 1: no gradient crosses ranks
    LocalData data = local_data(shape, items, ctx.rank(), ctx.size());
    const FeatureSchema schema = synthetic_schema(shape);
    RegressorOptions dense_options = options;
    dense_options.sparse_embedding_gradients = false;
    TrainedRegressor dense = train_content_regressor(ctx, data.items, schema, data.targets, dense_options);
    TrainedRegressor sparse = train_content_regressor(ctx, data.items, schema, data.targets, options);

    const std::int64_t parameters = sparse.parameter_count();
    const double dense_bytes = dense.report().epochs.front().gradient_bytes_per_step;
    const double sparse_bytes = sparse.report().epochs.front().gradient_bytes_per_step;
    EXPECT_EQ(dense_bytes, static_cast<double>(parameters * sizeof(float))) << "dense: every gradient";
    EXPECT_GT(sparse_bytes, 0.0);
    // The text table alone is 2000 × 16 of the parameters; the touched rows are a small part of it.
    EXPECT_LT(sparse_bytes, 0.4 * dense_bytes);
    EXPECT_LT(sparse_bytes,
              static_cast<double>((parameters - 2000 * options.bag_dims + 64 * options.bag_dims) *
                                  std::int64_t{sizeof(float)}));

    EXPECT_LT(max_abs_difference(sparse.flat_parameters(), dense.flat_parameters()), 1e-5);
    EXPECT_LT(max_abs_difference(sparse.flat_parameters(), reference), 1e-5);
  });
}

// The fused AdamW step does LibTorch's arithmetic (up to rounding), weight decay included.
TEST(DataParallelTrainer, FusedAdamWMatchesLibTorchAdamW) {
  SyntheticContentShape shape = kSmallShape;
  shape.text_vocabulary = 200;
  RegressorOptions options = short_run(3);
  options.weight_decay = 0.05;  // large, so that decoupled decay matters
  RegressorOptions libtorch = options;
  libtorch.fused_optimizer = false;
  RegressorOptions no_decay = options;
  no_decay.weight_decay = 0;
  const std::vector<float> fused = train_alone(shape, 64, options).flat_parameters();
  const std::vector<float> reference = train_alone(shape, 64, libtorch).flat_parameters();
  EXPECT_GT(max_abs_difference(fused, train_alone(shape, 64, no_decay).flat_parameters()), 1e-4)
      << "the decay must act";
  EXPECT_LT(max_abs_difference(fused, reference), 1e-5);
}

// SIGTERM (as Slurm sends before a time limit) during training: every rank stops at the end of the current
// epoch with a checkpoint, and --resume ends with exactly the weights of an uninterrupted run.
TEST(DataParallelTrainer, StopSignalCheckpointsAndResumeFinishesTheRun) {
  const SyntheticContentShape shape = kSmallShape;
  const RegressorOptions options = short_run(4, 0.2, 0.2);
  run_distributed({1, 2}, [&](Context& ctx) {
    LocalData data = local_data(shape, 60, ctx.rank(), ctx.size());
    const FeatureSchema schema = synthetic_schema(shape);
    TrainedRegressor uninterrupted = train_content_regressor(ctx, data.items, schema, data.targets, options);

    RegressorOptions checkpointed = options;
    checkpointed.checkpoint_dir = shared_temp_dir(ctx, "stop");
    checkpointed.checkpoint_every = 3;  // the stop must write a checkpoint of its own after epoch 1
    ctx.comm().barrier();
    if (ctx.is_root()) simulate_stop_signal(SIGTERM);  // one rank's signal stops them all
    try {
      train_content_regressor(ctx, data.items, schema, data.targets, checkpointed);
      ADD_FAILURE() << "expected StopRequested";
    } catch (const StopRequested& stop) {
      const std::string message = stop.what();
      EXPECT_NE(message.find("--resume"), std::string::npos) << message;
      EXPECT_NE(message.find("continue from epoch 1"), std::string::npos) << message;
      EXPECT_NE(message.find("after 1 of 4 epochs"), std::string::npos) << message;
    }
    EXPECT_TRUE(std::filesystem::exists(checkpointed.checkpoint_dir + "/regressor.ckpt"));
    ctx.comm().barrier();  // every rank is past its stop check before the flag goes
    clear_stop_signal();
    ctx.comm().barrier();

    TrainedRegressor resumed = train_content_regressor(ctx, data.items, schema, data.targets, checkpointed);
    EXPECT_EQ(resumed.report().resumed_from_epoch, 1);
    EXPECT_TRUE(resumed.report().finished);
    EXPECT_EQ(resumed.report().epochs.size(), 4u);
    EXPECT_EQ(max_abs_difference(resumed.flat_parameters(), uninterrupted.flat_parameters()), 0.0);

    // Without checkpoints it still stops, and says that nothing can be resumed.
    ctx.comm().barrier();
    if (ctx.is_root()) simulate_stop_signal(SIGTERM);
    try {
      train_content_regressor(ctx, data.items, schema, data.targets, options);
      ADD_FAILURE() << "expected StopRequested";
    } catch (const StopRequested& stop) {
      EXPECT_NE(std::string(stop.what()).find("without a checkpoint"), std::string::npos) << stop.what();
    }
    ctx.comm().barrier();
    clear_stop_signal();
    ctx.comm().barrier();
    if (ctx.is_root()) std::filesystem::remove_all(checkpointed.checkpoint_dir);
  });
  clear_stop_signal();
}

TEST(DataParallelTrainer, ResumedRunEqualsUninterruptedRun) {
  const SyntheticContentShape shape = kSmallShape;
  // Dropout is keyed by (seed, epoch, step, item), so a resumed run draws the same masks.
  const RegressorOptions options = short_run(6, 0.2, 0.2);
  run_distributed({1, 2}, [&](Context& ctx) {
    LocalData data = local_data(shape, 80, ctx.rank(), ctx.size());
    const FeatureSchema schema = synthetic_schema(shape);
    TrainedRegressor uninterrupted = train_content_regressor(ctx, data.items, schema, data.targets, options);

    RegressorOptions interrupted = options;
    interrupted.checkpoint_dir = shared_temp_dir(ctx, "resume");
    interrupted.max_epochs_this_run = 4;
    TrainedRegressor first = train_content_regressor(ctx, data.items, schema, data.targets, interrupted);
    EXPECT_FALSE(first.report().finished);
    EXPECT_EQ(first.report().epochs.size(), 4u);
    EXPECT_TRUE(std::filesystem::exists(interrupted.checkpoint_dir + "/regressor.ckpt"));

    interrupted.max_epochs_this_run = 0;
    TrainedRegressor resumed = train_content_regressor(ctx, data.items, schema, data.targets, interrupted);
    EXPECT_EQ(resumed.report().resumed_from_epoch, 4);
    EXPECT_TRUE(resumed.report().finished);
    ASSERT_EQ(resumed.report().epochs.size(), 6u);
    EXPECT_EQ(resumed.report().best_epoch, uninterrupted.report().best_epoch);
    EXPECT_DOUBLE_EQ(resumed.report().epochs.back().validation_loss,
                     uninterrupted.report().epochs.back().validation_loss);
    EXPECT_EQ(max_abs_difference(resumed.flat_parameters(), uninterrupted.flat_parameters()), 0.0);

    // Other settings must not pick up this checkpoint.
    RegressorOptions changed = interrupted;
    changed.learning_rate *= 2;
    EXPECT_THROW(train_content_regressor(ctx, data.items, schema, data.targets, changed), Error);
    ctx.comm().barrier();
    if (ctx.is_root()) std::filesystem::remove_all(interrupted.checkpoint_dir);
  });
}

TEST(Regressor, SavedModelPredictsTheSame) {
  const SyntheticContentShape shape = kEveryTowerShape;
  RegressorOptions options = small_options();
  options.epochs = 2;
  run_distributed({1, 2}, [&](Context& ctx) {
    TrainedRegressor model = train_share(ctx, shape, 50, options);
    const std::string dir = shared_temp_dir(ctx, "save");
    if (ctx.is_root()) save_regressor(model, dir);
    ctx.comm().barrier();
    TrainedRegressor loaded = load_regressor(dir);
    EXPECT_EQ(loaded.schema(), model.schema());
    EXPECT_EQ(loaded.output_dims(), 3);
    EXPECT_EQ(loaded.flat_parameters(), model.flat_parameters());
    EXPECT_EQ(loaded.scaler().mean(), model.scaler().mean());
    ItemFeatures new_items = synthetic_items(shape, 1000, 1010);  // "brand-new" items
    EXPECT_EQ(predict(loaded, new_items), predict(model, new_items));
    ctx.comm().barrier();
    if (ctx.is_root()) {
      std::filesystem::remove_all(dir);
      EXPECT_THROW(load_regressor(dir), Error);
    }
  });
}

// An ensemble's prediction is the mean of its members', and member i is the model one run with seed + i
// would train (same held-out items: none here).
TEST(Regressor, EnsembleAveragesMembersTrainedWithSuccessiveSeeds) {
  const SyntheticContentShape shape = kSmallShape;
  RegressorOptions options = short_run(3, 0, 0.2);
  options.seed = 11;
  const ItemFeatures new_items = synthetic_items(shape, 1000, 1020);
  std::vector<float> mean;
  std::int64_t member_parameters = 0;
  for (std::uint64_t member = 0; member < 3; ++member) {
    RegressorOptions single = options;
    single.seed = options.seed + member;
    TrainedRegressor model = train_alone(shape, 60, single);
    member_parameters = model.parameter_count();
    const std::vector<float> predicted = predict(model, new_items);
    mean.resize(predicted.size(), 0.0f);
    for (std::size_t i = 0; i < predicted.size(); ++i) mean[i] += predicted[i] / 3;
  }
  options.ensemble = 3;
  run_distributed({1, 2}, [&](Context& ctx) {
    TrainedRegressor ensemble = train_share(ctx, shape, 60, options);
    EXPECT_EQ(ensemble.parameter_count(), 3 * member_parameters);
    EXPECT_EQ(ensemble.report().member_validation_losses.size(), 3u);
    const std::vector<float> predicted = predict(ensemble, new_items);
    ASSERT_EQ(predicted.size(), mean.size());
    EXPECT_LT(max_abs_difference(predicted, mean), 1e-4);

    // Saved and loaded: every member comes back; a missing member file is named.
    const std::string dir = shared_temp_dir(ctx, "ensemble");
    if (ctx.is_root()) save_regressor(ensemble, dir);
    ctx.comm().barrier();
    TrainedRegressor loaded = load_regressor(dir);
    EXPECT_EQ(loaded.options().ensemble, 3);
    EXPECT_EQ(loaded.flat_parameters(), ensemble.flat_parameters());
    EXPECT_EQ(predict(loaded, new_items), predicted);
    ctx.comm().barrier();
    if (ctx.is_root()) {
      std::filesystem::remove(std::filesystem::path(dir) / "model-2.pt");
      try {
        load_regressor(dir);
        ADD_FAILURE() << "expected an Error for the missing member";
      } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("member 3 of 3"), std::string::npos) << error.what();
      }
      std::filesystem::remove_all(dir);
    }
  });
}

// The wide path: one table of width k per bag and categorical column and a k-wide linear layer over the
// numeric columns, starting at zero (so the deep part starts as without it), trained and saved with the rest.
TEST(Regressor, WidePathAddsLinearTablesThatLearn) {
  const SyntheticContentShape shape = kSmallShape;
  RegressorOptions options = short_run(3);
  RegressorOptions wide = options;
  wide.wide = true;
  RegressorOptions untrained = wide;
  untrained.learning_rate = 1e-12;
  const FeatureSchema schema = synthetic_schema(shape);
  const TrainedRegressor deep_model = train_alone(shape, 60, options);
  const TrainedRegressor wide_model = train_alone(shape, 60, wide);
  std::int64_t linear = shape.numeric * shape.dims + shape.dims;
  for (const BagSchema& bag : schema.bags) linear += bag.vocabulary_size * shape.dims;
  for (const CategoricalSchema& column : schema.categorical) linear += column.vocabulary_size * shape.dims;
  EXPECT_EQ(wide_model.parameter_count(), deep_model.parameter_count() + linear);

  // The wide parameters come last (registered after the output layer): zero at the start, trained after.
  const std::vector<float> start = train_alone(shape, 60, untrained).flat_parameters();
  const std::vector<float> trained = wide_model.flat_parameters();
  const auto first_wide = static_cast<std::ptrdiff_t>(trained.size()) - linear;
  EXPECT_LT(max_abs_difference(std::vector<float>(start.begin() + first_wide, start.end()),
                               std::vector<float>(linear, 0.0f)),
            1e-6);
  EXPECT_GT(max_abs_difference(std::vector<float>(trained.begin() + first_wide, trained.end()),
                               std::vector<float>(linear, 0.0f)),
            1e-3);

  run_distributed({1}, [&](Context& ctx) {
    const std::string dir = shared_temp_dir(ctx, "wide");
    if (ctx.is_root()) save_regressor(wide_model, dir);
    ctx.comm().barrier();
    TrainedRegressor loaded = load_regressor(dir);
    EXPECT_TRUE(loaded.options().wide);
    const ItemFeatures new_items = synthetic_items(shape, 1000, 1010);
    EXPECT_EQ(predict(loaded, new_items), predict(wide_model, new_items));
    EXPECT_NE(predict(deep_model, new_items), predict(wide_model, new_items));
    ctx.comm().barrier();
    if (ctx.is_root()) std::filesystem::remove_all(dir);
  });
}

// count_shrinkage C weighs each item's loss n/(n+C). With every n = C all weights are 1/2: the losses halve,
// and AdamW (invariant to the gradient's scale, up to its epsilon) takes the same steps.
TEST(Regressor, CountShrinkageWeighsEachItemsLoss) {
  const SyntheticContentShape shape = kSmallShape;
  const RegressorOptions options = short_run(2, 0.2);
  RegressorOptions weighted = options;
  weighted.count_shrinkage = 4;
  run_distributed({1, 2}, [&](Context& ctx) {
    LocalData data = local_data(shape, 60, ctx.rank(), ctx.size());
    const FeatureSchema schema = synthetic_schema(shape);
    EXPECT_THROW(train_content_regressor(ctx, data.items, schema, data.targets, weighted), Error)
        << "the weights need the counts";
    TrainedRegressor plain = train_content_regressor(ctx, data.items, schema, data.targets, options);
    data.targets.counts.assign(data.targets.rows.size(), 4);
    TrainedRegressor half = train_content_regressor(ctx, data.items, schema, data.targets, weighted);
    for (std::size_t epoch = 0; epoch < 2; ++epoch) {
      const double expected = plain.report().epochs[epoch].train_loss / 2;
      EXPECT_NEAR(half.report().epochs[epoch].train_loss, expected, 1e-3 * expected) << "epoch " << epoch;
    }
    EXPECT_NEAR(half.report().best_validation_loss, plain.report().best_validation_loss / 2,
                1e-3 * plain.report().best_validation_loss);
    EXPECT_LT(max_abs_difference(half.flat_parameters(), plain.flat_parameters()), 1e-3);
  });
}

TEST(Regressor, RejectsInconsistentTargets) {
  SyntheticContentShape shape;
  run_distributed({1, 2}, [&](Context& ctx) {
    LocalData data = local_data(shape, 20, ctx.rank(), ctx.size());
    HeadTargets bad = data.targets;
    if (ctx.rank() == ctx.size() - 1) bad.rows.push_back(999);  // one rank's mistake stops all
    EXPECT_THROW(train_content_regressor(ctx, data.items, synthetic_schema(shape), bad, small_options()),
                 Error);
    HeadTargets none;
    none.dims = shape.dims;
    EXPECT_THROW(train_content_regressor(ctx, data.items, synthetic_schema(shape), none, small_options()),
                 Error);
  });
}

}  // namespace
}  // namespace tailflow::ops::learning
