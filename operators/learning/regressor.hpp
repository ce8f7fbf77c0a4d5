// The content → embedding regressor, without LibTorch types: what jobs and tests include.
//
//   HeadTargets targets{.dims = k, .rows = {...}, .vectors = {...}};   // this rank's head items
//   TrainedRegressor model = train_content_regressor(ctx, local_items, schema, targets, options);
//   std::vector<float> vectors = predict(model, local_items);         // every local item, ALS scale
//   if (ctx.is_root()) save_regressor(model, "out/model");
//   TrainedRegressor again = load_regressor("out/model");              // e.g. in `tailflow embed`
//
// Training is data-parallel over all ranks (see data_parallel_trainer.hpp): the head items of every rank
// are gathered, sorted by item id and split, by a seeded hash of the id, into training and held-out items;
// the result does not depend on the number of ranks (up to floating-point summation order).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/context.hpp"
#include "operators/learning/item_features.hpp"
#include "operators/learning/regressor_options.hpp"
#include "operators/learning/ridge_path.hpp"
#include "operators/learning/target_scaler.hpp"
#include "operators/learning/training_report.hpp"

namespace tailflow::ops::learning {

// The ALS vectors of this rank's head items: the items the regressor learns from.
struct HeadTargets {
  std::int64_t dims = 0;           // ALS factors k
  std::vector<std::int64_t> rows;  // indices into this rank's ItemFeatures
  std::vector<float> vectors;      // rows.size() × dims, row-major, in the ALS scale
  // Training interactions per head item; needed when options.count_shrinkage > 0 (the loss weights).
  std::vector<std::uint64_t> counts;
  // The users' Gram matrix UᵀU (dims × dims, row-major, the same on every rank); needed when options.targets
  // is TargetNormalisation::kGram (the score-space metric of target_scaler.hpp).
  std::vector<double> users_gram;
};

class TrainedRegressor {
 public:
  struct Impl;  // holds the LibTorch model (data_parallel_trainer / regressor.cpp)
  explicit TrainedRegressor(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

  const FeatureSchema& schema() const;
  const RegressorOptions& options() const;
  const TargetScaler& scaler() const;
  const TrainingReport& report() const;  // empty for a loaded model
  std::int64_t output_dims() const;
  std::int64_t parameter_count() const;
  // With options().ridge_path: the output is network_weight() · (members' mean) + ridge_weight() · ridge
  // path, in the scaled target space (mix: the held-out weight w and 1 − w; residual: 1 and 1).
  double network_weight() const;
  double ridge_weight() const;
  double ridge_alpha() const;           // the ridge path's chosen penalty; 0 without a ridge path
  const RidgePath& ridge_path() const;  // its coefficients, predicting in the scaled target space
  // Every parameter, in a fixed order, flattened (to compare models).
  std::vector<float> flat_parameters() const;

  const std::shared_ptr<Impl>& impl() const { return impl_; }

 private:
  std::shared_ptr<Impl> impl_;
};

// Collective. Throws Error when no rank has head items, or when features or targets are inconsistent.
TrainedRegressor train_content_regressor(Context& ctx, const ItemFeatures& local_items,
                                         const FeatureSchema& schema, const HeadTargets& local_targets,
                                         const RegressorOptions& options);

// Not collective: predictions for `items` (each rank passes its own), items × output_dims, in the ALS scale.
// Batched (options().predict_batch_size), without gradients, dropout off.
std::vector<float> predict(const TrainedRegressor& model, const ItemFeatures& items);

// Writes `directory`/model.pt (the weights, torch::save) and `directory`/regressor.ini (options, feature
// schema, target scaler), each atomically. Call on one rank.
void save_regressor(const TrainedRegressor& model, const std::string& directory);
// Rebuilds the network from regressor.ini and loads model.pt; Error names a missing or inconsistent file.
TrainedRegressor load_regressor(const std::string& directory);

}  // namespace tailflow::ops::learning
