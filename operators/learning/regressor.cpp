#include "operators/learning/regressor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/atomic_output.hpp"
#include "operators/common/seeded_hash.hpp"
#include "operators/learning/content_model.hpp"
#include "operators/learning/data_parallel_trainer.hpp"

namespace tailflow::ops::learning {

struct TrainedRegressor::Impl {
  FeatureSchema schema;
  RegressorOptions options;
  TargetScaler scaler;
  TrainingReport report;
  std::vector<ContentModel> members;  // options.ensemble networks whose outputs are averaged
  // options.ridge_path: the output is network_weight · (members' mean) + ridge_weight · ridge.
  RidgePath ridge;
  double network_weight = 1;
  double ridge_weight = 0;
};

const FeatureSchema& TrainedRegressor::schema() const {
  return impl_->schema;
}
const RegressorOptions& TrainedRegressor::options() const {
  return impl_->options;
}
const TargetScaler& TrainedRegressor::scaler() const {
  return impl_->scaler;
}
const TrainingReport& TrainedRegressor::report() const {
  return impl_->report;
}
std::int64_t TrainedRegressor::output_dims() const {
  return impl_->members.front()->outputs();
}
double TrainedRegressor::network_weight() const {
  return impl_->network_weight;
}
double TrainedRegressor::ridge_weight() const {
  return impl_->ridge_weight;
}
double TrainedRegressor::ridge_alpha() const {
  return impl_->ridge.alpha();
}
const RidgePath& TrainedRegressor::ridge_path() const {
  return impl_->ridge;
}
std::int64_t TrainedRegressor::parameter_count() const {
  std::int64_t count = 0;
  for (const ContentModel& member : impl_->members)
    for (const torch::Tensor& parameter : member->parameters()) count += parameter.numel();
  return count;
}
std::vector<float> TrainedRegressor::flat_parameters() const {
  std::vector<float> flat;
  for (const ContentModel& member : impl_->members) {
    const std::vector<float> values = flatten_parameters(*member);
    flat.insert(flat.end(), values.begin(), values.end());
  }
  return flat;
}

namespace {

constexpr std::uint64_t kValidationStream = 0x5a11d;
constexpr const char* kFormat = "tailflow-regressor 1";
constexpr const char* kRidgeFile = "ridge.pt";  // the ridge path's coefficients (options.ridge_path)

// Member 0 keeps the single model's file name, so a one-member model is laid out as before.
std::string member_file(std::int64_t member) {
  return member == 0 ? "model.pt" : fmt::format("model-{}.pt", member);
}

// The settings of ensemble member `member`: its own seed (initial weights, batch order, dropout masks) and
// checkpoint folder. The held-out items stay those of the ensemble's seed.
RegressorOptions member_options(const RegressorOptions& options, std::int64_t member) {
  RegressorOptions o = options;
  o.seed = options.seed + static_cast<std::uint64_t>(member);
  if (member > 0 && !o.checkpoint_dir.empty())
    o.checkpoint_dir = (std::filesystem::path(o.checkpoint_dir) / fmt::format("member-{}", member)).string();
  return o;
}

// The members' mean output for `rows` of `items`, in the scaled target space: [rows, outputs].
torch::Tensor ensemble_forward(const std::vector<ContentModel>& members, const ItemFeatures& items,
                               const FeatureSchema& schema, std::span<const std::int64_t> rows) {
  const FeatureBatch batch = make_batch(items, schema, rows);
  torch::Tensor sum;
  for (ContentModel member : members) {  // a holder copy shares the module; forward() is not const
    torch::Tensor output = member->forward(batch);
    sum = sum.defined() ? sum + output : output;
  }
  return sum / static_cast<double>(members.size());
}

torch::Tensor as_tensor(std::vector<float> values, std::int64_t dims) {
  const auto rows = static_cast<std::int64_t>(values.size()) / dims;
  return torch::from_blob(values.data(), {rows, dims}, torch::kFloat).clone();
}

// The model's output for `rows` of `items` in the scaled target space: the members' mean, joined with the
// ridge path when there is one.
torch::Tensor model_forward(const TrainedRegressor::Impl& impl, const ItemFeatures& items,
                            std::span<const std::int64_t> rows) {
  torch::Tensor output = ensemble_forward(impl.members, items, impl.schema, rows);
  if (impl.options.ridge_path == RidgePathKind::kOff) return output;
  const torch::Tensor ridge = as_tensor(impl.ridge.predict(items, rows), output.size(1));
  return impl.network_weight * output + impl.ridge_weight * ridge;
}

// Ridge paths for each penalty on the training items; the one with the lowest held-out MSE wins.
RidgePath fit_ridge_path(Context& ctx, const ItemFeatures& train_items,
                         const std::vector<float>& train_targets, const ItemFeatures& validation_items,
                         const std::vector<float>& validation_targets, const FeatureSchema& schema,
                         std::int64_t dims, const RegressorOptions& options) {
  RidgePath best;
  double best_mse = 0;
  for (double alpha : options.ridge_alphas) {
    RidgePath path = RidgePath::fit(train_items, schema, train_targets, dims, alpha);
    double mse = 0;
    if (!validation_targets.empty()) {
      const std::vector<float> predicted = path.predict(validation_items);
      for (std::size_t i = 0; i < predicted.size(); ++i)
        mse += std::pow(predicted[i] - validation_targets[i], 2);
      mse /= static_cast<double>(predicted.size());
    }
    ctx.log().info("regressor: ridge path, alpha {}: {} CG iterations, held-out MSE {:.5f}", alpha,
                   path.iterations(), mse);
    if (best.dims() == 0 || mse < best_mse) {
      best = std::move(path);
      best_mse = mse;
    }
    if (validation_targets.empty()) break;  // nothing to choose by: the first penalty
  }
  return best;
}

// w minimising ‖(1 − w)·network + w·ridge − target‖² over the held-out items, within [0, 1].
double mixing_weight(const torch::Tensor& network, const torch::Tensor& ridge, const torch::Tensor& target) {
  const torch::Tensor gap = ridge - network;
  const double squares = gap.pow(2).sum().item<double>();
  if (squares <= 0) return 0.5;
  return std::clamp((gap * (target - network)).sum().item<double>() / squares, 0.0, 1.0);
}

void check_targets(Context& ctx, const ItemFeatures& items, const HeadTargets& targets) {
  std::string failure;
  if (targets.dims <= 0)
    failure = fmt::format("head targets: {} dimensions; the ALS vectors need at least one", targets.dims);
  else if (targets.vectors.size() != targets.rows.size() * static_cast<std::size_t>(targets.dims))
    failure = fmt::format("head targets: {} values for {} items of {} dimensions", targets.vectors.size(),
                          targets.rows.size(), targets.dims);
  if (failure.empty() && !targets.counts.empty() && targets.counts.size() != targets.rows.size())
    failure = fmt::format("head targets: {} interaction counts for {} items", targets.counts.size(),
                          targets.rows.size());
  for (std::int64_t row : targets.rows)
    if (failure.empty() && (row < 0 || row >= static_cast<std::int64_t>(items.size())))
      failure = fmt::format("head targets: row {} is outside this rank's {} items", row, items.size());
  ctx.check_collectively(failure);
  if (comm::allreduce_min(ctx.comm(), targets.dims) != comm::allreduce_max(ctx.comm(), targets.dims))
    throw Error("head targets: the ranks disagree on the number of ALS dimensions");
}

// Selected rows of a row-major matrix.
std::vector<float> select_target_rows(const std::vector<float>& matrix, std::int64_t dims,
                                      std::span<const std::int64_t> rows) {
  std::vector<float> out;
  out.reserve(rows.size() * static_cast<std::size_t>(dims));
  for (std::int64_t row : rows)
    out.insert(out.end(), matrix.begin() + row * dims, matrix.begin() + (row + 1) * dims);
  return out;
}

// The loss weight n / (n + shrinkage) of each selected item (options.count_shrinkage).
std::vector<float> count_weights(const std::vector<std::uint64_t>& counts, std::span<const std::int64_t> rows,
                                 double shrinkage) {
  std::vector<float> weights;
  weights.reserve(rows.size());
  for (std::int64_t row : rows) {
    const auto n = static_cast<double>(counts[static_cast<std::size_t>(row)]);
    weights.push_back(static_cast<float>(n / (n + shrinkage)));
  }
  return weights;
}

std::uint64_t item_ids_hash(const ItemFeatures& items) {
  std::uint64_t hash = 0;
  for (std::uint64_t id : items.item_ids) hash = mix64(hash ^ id);
  return hash;
}

template <class Action>
auto torch_call(const std::string& file, Action action) {
  try {
    return action();
  } catch (const c10::Error& error) {
    throw Error(fmt::format("'{}': {}", file, error.what_without_backtrace()));
  }
}

}  // namespace

TrainedRegressor train_content_regressor(Context& ctx, const ItemFeatures& local_items,
                                         const FeatureSchema& schema, const HeadTargets& local_targets,
                                         const RegressorOptions& options) {
  validate(options);
  std::string failure;
  try {
    validate(local_items, schema);
  } catch (const Error& error) {
    failure = error.what();
  }
  ctx.check_collectively(failure);
  check_targets(ctx, local_items, local_targets);
  const std::int64_t dims = local_targets.dims;

  // Every rank gets every head item, in item-id order, so that neither the training order nor the split
  // depends on how items were spread over ranks.
  ItemFeatures head = allgather_items(ctx, select_rows(local_items, schema, local_targets.rows), schema);
  std::vector<float> head_targets =
      comm::allgatherv(ctx.comm(), std::span<const float>(local_targets.vectors));
  std::vector<std::uint64_t> head_counts;
  if (options.count_shrinkage > 0) {
    std::string missing;
    if (local_targets.counts.size() != local_targets.rows.size())
      missing = "count_shrinkage needs every head item's interaction count (HeadTargets::counts)";
    ctx.check_collectively(missing);
    head_counts = comm::allgatherv(ctx.comm(), std::span<const std::uint64_t>(local_targets.counts));
  }
  std::vector<std::int64_t> order(head.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return head.item_ids[a] < head.item_ids[b]; });
  for (std::size_t i = 1; i < order.size(); ++i)
    if (head.item_ids[order[i]] == head.item_ids[order[i - 1]])
      throw Error(fmt::format("head targets: item {} is given more than once", head.item_ids[order[i]]));

  std::vector<std::int64_t> train_rows, validation_rows;
  for (std::int64_t row : order) {
    double draw = unit_interval(seeded_hash(options.seed, kValidationStream, head.item_ids[row]));
    (draw < options.validation_fraction ? validation_rows : train_rows).push_back(row);
  }
  if (train_rows.empty()) std::swap(train_rows, validation_rows);  // a tiny set: train on everything
  if (train_rows.empty()) throw Error("regressor: no head items with ALS vectors to train on");

  ItemFeatures train_items = select_rows(head, schema, train_rows);
  ItemFeatures validation_items = select_rows(head, schema, validation_rows);
  std::vector<float> train_targets = select_target_rows(head_targets, dims, train_rows);
  std::vector<float> validation_targets = select_target_rows(head_targets, dims, validation_rows);
  std::vector<float> train_weights, validation_weights;
  if (options.count_shrinkage > 0) {
    train_weights = count_weights(head_counts, train_rows, options.count_shrinkage);
    validation_weights = count_weights(head_counts, validation_rows, options.count_shrinkage);
  }
  const bool weighted = options.count_shrinkage > 0;
  head = ItemFeatures{};

  auto impl = std::make_shared<TrainedRegressor::Impl>();
  impl->schema = schema;
  impl->options = options;
  std::string no_gram;
  if (options.targets == TargetNormalisation::kGram &&
      local_targets.users_gram.size() != static_cast<std::size_t>(dims * dims))
    no_gram =
        fmt::format("head targets: gram normalisation needs the users' {}×{} Gram matrix, got {} values",
                    dims, dims, local_targets.users_gram.size());
  ctx.check_collectively(no_gram);
  impl->scaler = TargetScaler::fit(train_targets, dims, options.targets, local_targets.users_gram);
  impl->scaler.transform(train_targets);
  impl->scaler.transform(validation_targets);
  ctx.log().info("regressor: {} training and {} held-out head items; features: {}", train_items.size(),
                 validation_items.size(), describe(schema));
  // The members learn the targets (mix) or what the ridge path leaves of them (residual); the model's own
  // held-out loss is always taken against the targets themselves.
  const std::vector<float> validation_truth = validation_targets;
  if (options.ridge_path != RidgePathKind::kOff) {
    impl->ridge = fit_ridge_path(ctx, train_items, train_targets, validation_items, validation_targets,
                                 schema, dims, options);
    if (options.ridge_path == RidgePathKind::kResidual) {
      const std::vector<float> train_fit = impl->ridge.predict(train_items);
      for (std::size_t i = 0; i < train_fit.size(); ++i) train_targets[i] -= train_fit[i];
      const std::vector<float> validation_fit = impl->ridge.predict(validation_items);
      for (std::size_t i = 0; i < validation_fit.size(); ++i) validation_targets[i] -= validation_fit[i];
      impl->ridge_weight = 1;
    }
  }

  for (std::int64_t member = 0; member < options.ensemble; ++member) {
    const RegressorOptions own = member_options(options, member);
    impl->members.push_back(ContentModel(schema, own, dims));
    const std::string fingerprint = fmt::format(
        "{}|{}|{} train {} validation {} dims|ids {:x}", training_fingerprint(own), describe(schema),
        train_items.size(), validation_items.size(), dims, item_ids_hash(train_items));
    DataParallelTrainer trainer(ctx, impl->members.back(), schema, own);
    TrainingReport report = trainer.train(
        {train_items, train_targets, weighted ? &train_weights : nullptr},
        {validation_items, validation_targets, weighted ? &validation_weights : nullptr}, fingerprint);
    impl->members.back()->eval();
    if (options.ensemble > 1)
      ctx.log().info("regressor: ensemble member {} of {}: best held-out loss {:.5f} (epoch {})", member + 1,
                     options.ensemble, report.best_validation_loss, report.best_epoch);
    report.parameters += impl->report.parameters;
    report.member_validation_losses = std::move(impl->report.member_validation_losses);
    report.member_validation_losses.push_back(report.best_validation_loss);
    impl->report = std::move(report);
    if (!impl->report.finished) return TrainedRegressor(impl);  // --max-epochs-this-run: resume later
  }
  std::vector<std::int64_t> rows(validation_items.size());
  std::iota(rows.begin(), rows.end(), 0);
  torch::NoGradGuard no_grad;
  const torch::Tensor truth = torch::from_blob(const_cast<float*>(validation_truth.data()),
                                               {static_cast<std::int64_t>(rows.size()), dims}, torch::kFloat);
  if (options.ridge_path == RidgePathKind::kMix) {
    if (rows.empty()) {
      impl->ridge_weight = 0.5;
    } else {
      impl->ridge_weight = mixing_weight(ensemble_forward(impl->members, validation_items, schema, rows),
                                         as_tensor(impl->ridge.predict(validation_items), dims), truth);
    }
    impl->network_weight = 1 - impl->ridge_weight;
    ctx.log().info("regressor: ridge path weight {:.3f} (alpha {})", impl->ridge_weight, impl->ridge.alpha());
  }
  if ((options.ensemble > 1 || options.ridge_path != RidgePathKind::kOff) && !rows.empty()) {
    // The whole model's held-out loss, comparable with one member's (the mean over items).
    const torch::Tensor predicted = model_forward(*impl, validation_items, rows);
    torch::Tensor per_item = options.loss == LossKind::kMse
                                 ? (predicted - truth).pow(2).mean(1)
                                 : 1 - torch::cosine_similarity(predicted, truth, 1);
    if (weighted)  // weighed like the members' held-out losses
      per_item = per_item * torch::from_blob(validation_weights.data(), {per_item.size(0)}, torch::kFloat);
    impl->report.best_validation_loss = per_item.mean().item<double>();
    ctx.log().info("regressor: the {}-member model{}: held-out loss {:.5f}", options.ensemble,
                   options.ridge_path == RidgePathKind::kOff ? "" : " with its ridge path",
                   impl->report.best_validation_loss);
  }
  return TrainedRegressor(impl);
}

std::vector<float> predict(const TrainedRegressor& model, const ItemFeatures& items) {
  const TrainedRegressor::Impl& impl = *model.impl();
  validate(items, impl.schema);
  const std::int64_t k = impl.members.front()->outputs();
  const auto n = static_cast<std::int64_t>(items.size());
  std::vector<float> predictions(static_cast<std::size_t>(n * k));
  torch::NoGradGuard no_grad;
  for (ContentModel member : impl.members) member->eval();
  std::vector<std::int64_t> rows;
  for (std::int64_t start = 0; start < n; start += impl.options.predict_batch_size) {
    const std::int64_t end = std::min(n, start + impl.options.predict_batch_size);
    rows.resize(static_cast<std::size_t>(end - start));
    std::iota(rows.begin(), rows.end(), start);
    torch::Tensor output = model_forward(impl, items, rows).contiguous();
    std::copy_n(output.data_ptr<float>(), output.numel(), predictions.data() + start * k);
  }
  impl.scaler.inverse(predictions);
  return predictions;
}

void save_regressor(const TrainedRegressor& model, const std::string& directory) {
  const TrainedRegressor::Impl& impl = *model.impl();
  std::filesystem::create_directories(directory);
  for (std::size_t member = 0; member < impl.members.size(); ++member) {
    const std::string weights_path =
        (std::filesystem::path(directory) / member_file(static_cast<std::int64_t>(member))).string();
    io::AtomicOutput weights(weights_path);
    torch_call(weights_path, [&] {
      torch::serialize::OutputArchive archive;
      impl.members[member]->save(archive);
      archive.save_to(weights.temporary_path().string());
    });
    weights.commit();
  }

  if (impl.options.ridge_path != RidgePathKind::kOff) {
    const std::string ridge_path = (std::filesystem::path(directory) / kRidgeFile).string();
    io::AtomicOutput ridge(ridge_path);
    torch_call(ridge_path, [&] {
      torch::serialize::OutputArchive archive;
      archive.write("weights", as_tensor(impl.ridge.weights(), impl.ridge.dims()));
      archive.write("intercept", as_tensor(impl.ridge.intercept(), impl.ridge.dims()));
      archive.save_to(ridge.temporary_path().string());
    });
    ridge.commit();
  }

  KeyValues values = to_key_values(impl.options);
  values.merge(to_key_values(impl.schema));
  if (impl.options.ridge_path != RidgePathKind::kOff) {
    values["ridge.alpha"] = format_double(impl.ridge.alpha());
    values["ridge.network_weight"] = format_double(impl.network_weight);
    values["ridge.weight"] = format_double(impl.ridge_weight);
  }
  values.merge(impl.scaler.to_key_values());
  values["format"] = kFormat;
  values["model.outputs"] = std::to_string(impl.members.front()->outputs());
  write_key_value_file((std::filesystem::path(directory) / "regressor.ini").string(), values);
}

TrainedRegressor load_regressor(const std::string& directory) {
  const std::string settings_path = (std::filesystem::path(directory) / "regressor.ini").string();
  if (!std::filesystem::exists(settings_path))
    throw Error(fmt::format("'{}' holds no trained regressor (regressor.ini is missing)", directory));
  KeyValues values = read_key_value_file(settings_path);
  if (values["format"] != kFormat)
    throw Error(fmt::format("'{}': format '{}', expected '{}'", settings_path, values["format"], kFormat));
  auto impl = std::make_shared<TrainedRegressor::Impl>();
  impl->options = regressor_options_from(values);
  impl->schema = feature_schema_from(values);
  impl->scaler = TargetScaler::from_key_values(values);
  const std::int64_t outputs = parse_int("model.outputs", required_value(values, "model.outputs"));
  if (impl->scaler.dims() != outputs)
    throw Error(fmt::format("'{}': the target scaler has {} dimensions, the model {}", settings_path,
                            impl->scaler.dims(), outputs));
  for (std::int64_t member = 0; member < impl->options.ensemble; ++member) {
    const std::string weights_path = (std::filesystem::path(directory) / member_file(member)).string();
    if (!std::filesystem::exists(weights_path))
      throw Error(fmt::format("'{}': ensemble member {} of {} is missing (train the model again)",
                              weights_path, member + 1, impl->options.ensemble));
    impl->members.push_back(ContentModel(impl->schema, impl->options, outputs));
    torch_call(weights_path, [&] {
      torch::serialize::InputArchive archive;
      archive.load_from(weights_path);
      impl->members.back()->load(archive);
    });
    impl->members.back()->eval();
  }
  if (impl->options.ridge_path != RidgePathKind::kOff) {
    const std::string ridge_path = (std::filesystem::path(directory) / kRidgeFile).string();
    if (!std::filesystem::exists(ridge_path))
      throw Error(
          fmt::format("'{}': the ridge path's coefficients are missing (train the model again)", ridge_path));
    torch::Tensor weights, intercept;
    torch_call(ridge_path, [&] {
      torch::serialize::InputArchive archive;
      archive.load_from(ridge_path);
      archive.read("weights", weights);
      archive.read("intercept", intercept);
    });
    weights = weights.contiguous();
    intercept = intercept.contiguous();
    impl->ridge = RidgePath(
        impl->schema, outputs, parse_double("ridge.alpha", required_value(values, "ridge.alpha")),
        std::vector<float>(weights.data_ptr<float>(), weights.data_ptr<float>() + weights.numel()),
        std::vector<float>(intercept.data_ptr<float>(), intercept.data_ptr<float>() + intercept.numel()));
    impl->network_weight =
        parse_double("ridge.network_weight", required_value(values, "ridge.network_weight"));
    impl->ridge_weight = parse_double("ridge.weight", required_value(values, "ridge.weight"));
  }
  return TrainedRegressor(impl);
}

}  // namespace tailflow::ops::learning
