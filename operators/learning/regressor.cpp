#include "operators/learning/regressor.hpp"

#include <fmt/format.h>

#include <algorithm>
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
  ContentModel model{nullptr};
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
  return impl_->model->outputs();
}
std::int64_t TrainedRegressor::parameter_count() const {
  std::int64_t count = 0;
  for (const torch::Tensor& parameter : impl_->model->parameters()) count += parameter.numel();
  return count;
}
std::vector<float> TrainedRegressor::flat_parameters() const {
  return flatten_parameters(*impl_->model);
}

namespace {

constexpr std::uint64_t kValidationStream = 0x5a11d;
constexpr const char* kFormat = "tailflow-regressor 1";

void check_targets(Context& ctx, const ItemFeatures& items, const HeadTargets& targets) {
  std::string failure;
  if (targets.dims <= 0)
    failure = fmt::format("head targets: {} dimensions; the ALS vectors need at least one", targets.dims);
  else if (targets.vectors.size() != targets.rows.size() * static_cast<std::size_t>(targets.dims))
    failure = fmt::format("head targets: {} values for {} items of {} dimensions", targets.vectors.size(),
                          targets.rows.size(), targets.dims);
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
  head = ItemFeatures{};

  auto impl = std::make_shared<TrainedRegressor::Impl>();
  impl->schema = schema;
  impl->options = options;
  impl->scaler = TargetScaler::fit(train_targets, dims, options.targets);
  impl->scaler.transform(train_targets);
  impl->scaler.transform(validation_targets);
  impl->model = ContentModel(schema, options, dims);
  ctx.log().info("regressor: {} training and {} held-out head items; features: {}", train_items.size(),
                 validation_items.size(), describe(schema));

  const std::string fingerprint = fmt::format(
      "{}|{}|{} train {} validation {} dims|ids {:x}", training_fingerprint(options), describe(schema),
      train_items.size(), validation_items.size(), dims, item_ids_hash(train_items));
  DataParallelTrainer trainer(ctx, impl->model, schema, options);
  impl->report =
      trainer.train({train_items, train_targets}, {validation_items, validation_targets}, fingerprint);
  return TrainedRegressor(impl);
}

std::vector<float> predict(const TrainedRegressor& model, const ItemFeatures& items) {
  const TrainedRegressor::Impl& impl = *model.impl();
  validate(items, impl.schema);
  const std::int64_t k = impl.model->outputs();
  const auto n = static_cast<std::int64_t>(items.size());
  std::vector<float> predictions(static_cast<std::size_t>(n * k));
  torch::NoGradGuard no_grad;
  ContentModel network = impl.model;
  network->eval();
  std::vector<std::int64_t> rows;
  for (std::int64_t start = 0; start < n; start += impl.options.predict_batch_size) {
    const std::int64_t end = std::min(n, start + impl.options.predict_batch_size);
    rows.resize(static_cast<std::size_t>(end - start));
    std::iota(rows.begin(), rows.end(), start);
    torch::Tensor output = network->forward(make_batch(items, impl.schema, rows)).contiguous();
    std::copy_n(output.data_ptr<float>(), output.numel(), predictions.data() + start * k);
  }
  impl.scaler.inverse(predictions);
  return predictions;
}

void save_regressor(const TrainedRegressor& model, const std::string& directory) {
  const TrainedRegressor::Impl& impl = *model.impl();
  std::filesystem::create_directories(directory);
  const std::string weights_path = (std::filesystem::path(directory) / "model.pt").string();
  io::AtomicOutput weights(weights_path);
  torch_call(weights_path, [&] {
    torch::serialize::OutputArchive archive;
    impl.model->save(archive);
    archive.save_to(weights.temporary_path().string());
  });
  weights.commit();

  KeyValues values = to_key_values(impl.options);
  values.merge(to_key_values(impl.schema));
  values.merge(impl.scaler.to_key_values());
  values["format"] = kFormat;
  values["model.outputs"] = std::to_string(impl.model->outputs());
  write_key_value_file((std::filesystem::path(directory) / "regressor.ini").string(), values);
}

TrainedRegressor load_regressor(const std::string& directory) {
  const std::string settings_path = (std::filesystem::path(directory) / "regressor.ini").string();
  const std::string weights_path = (std::filesystem::path(directory) / "model.pt").string();
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
  impl->model = ContentModel(impl->schema, impl->options, outputs);
  torch_call(weights_path, [&] {
    torch::serialize::InputArchive archive;
    archive.load_from(weights_path);
    impl->model->load(archive);
  });
  impl->model->eval();
  return TrainedRegressor(impl);
}

}  // namespace tailflow::ops::learning
