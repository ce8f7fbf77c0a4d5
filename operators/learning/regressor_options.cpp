#include "operators/learning/regressor_options.hpp"

#include <fmt/format.h>

#include <type_traits>

#include "engine/error.hpp"

namespace tailflow::ops::learning {

std::string to_string(TargetNormalisation value) {
  switch (value) {
    case TargetNormalisation::kNone:
      return "none";
    case TargetNormalisation::kStandardise:
      return "standardise";
    case TargetNormalisation::kL2:
      return "l2";
    case TargetNormalisation::kGram:
      return "gram";
  }
  return "?";
}

std::string to_string(LossKind value) {
  return value == LossKind::kMse ? "mse" : "cosine";
}

std::string to_string(ScheduleKind value) {
  switch (value) {
    case ScheduleKind::kCosine:
      return "cosine";
    case ScheduleKind::kStep:
      return "step";
    case ScheduleKind::kConstant:
      return "constant";
  }
  return "?";
}

std::string to_string(RidgePathKind value) {
  switch (value) {
    case RidgePathKind::kOff:
      return "off";
    case RidgePathKind::kMix:
      return "mix";
    case RidgePathKind::kResidual:
      return "residual";
  }
  return "?";
}

RidgePathKind parse_ridge_path_kind(const std::string& text) {
  if (text == "off") return RidgePathKind::kOff;
  if (text == "mix") return RidgePathKind::kMix;
  if (text == "residual") return RidgePathKind::kResidual;
  throw Error(fmt::format("ridge path '{}': expected off, mix or residual", text));
}

TargetNormalisation parse_target_normalisation(const std::string& text) {
  if (text == "none") return TargetNormalisation::kNone;
  if (text == "standardise" || text == "standardize") return TargetNormalisation::kStandardise;
  if (text == "l2") return TargetNormalisation::kL2;
  if (text == "gram") return TargetNormalisation::kGram;
  throw Error(fmt::format("target normalisation '{}': expected none, standardise, l2 or gram", text));
}

LossKind parse_loss_kind(const std::string& text) {
  if (text == "mse") return LossKind::kMse;
  if (text == "cosine") return LossKind::kCosine;
  throw Error(fmt::format("loss '{}': expected mse or cosine", text));
}

ScheduleKind parse_schedule_kind(const std::string& text) {
  if (text == "cosine") return ScheduleKind::kCosine;
  if (text == "step") return ScheduleKind::kStep;
  if (text == "constant") return ScheduleKind::kConstant;
  throw Error(fmt::format("learning-rate schedule '{}': expected cosine, step or constant", text));
}

void validate(const RegressorOptions& o) {
  auto require = [](bool ok, const std::string& message) {
    if (!ok) throw Error("regressor options: " + message);
  };
  require(o.bag_dims > 0 && o.categorical_dims > 0 && o.numeric_dims > 0 && o.image_channels > 0 &&
              o.image_dims > 0 && o.dense_dims > 0,
          "tower widths must be positive");
  for (std::int64_t width : o.hidden)
    require(width > 0, fmt::format("hidden width {} must be positive", width));
  require(o.ensemble >= 1, fmt::format("ensemble size {} must be at least 1", o.ensemble));
  require(o.dropout >= 0 && o.dropout < 1, fmt::format("dropout {} must lie in [0, 1)", o.dropout));
  require(o.learning_rate > 0, fmt::format("learning rate {} must be positive", o.learning_rate));
  require(o.weight_decay >= 0, "weight decay must not be negative");
  require(o.count_shrinkage >= 0, "count shrinkage must not be negative");
  require(o.ridge_path == RidgePathKind::kOff || !o.ridge_alphas.empty(), "the ridge path needs a penalty");
  for (double alpha : o.ridge_alphas)
    require(alpha > 0, fmt::format("ridge penalty {} must be positive", alpha));
  require(o.warmup_epochs >= 0, "warm-up epochs must not be negative");
  require(o.min_lr_ratio >= 0 && o.min_lr_ratio <= 1, "min_lr_ratio must lie in [0, 1]");
  require(o.step_epochs > 0 && o.step_gamma > 0, "step_epochs and step_gamma must be positive");
  require(o.epochs > 0, fmt::format("epochs {} must be positive", o.epochs));
  require(o.batch_size > 0, fmt::format("batch size {} must be positive", o.batch_size));
  require(o.validation_fraction >= 0 && o.validation_fraction < 1,
          fmt::format("validation fraction {} must lie in [0, 1)", o.validation_fraction));
  require(o.patience >= 0, "patience must not be negative");
  require(o.bucket_bytes > 0, "bucket size must be positive");
  require(o.threads_per_rank >= 0, "threads per rank must not be negative");
  require(o.checkpoint_every > 0, "checkpoint_every must be positive");
  require(o.max_epochs_this_run >= 0, "max_epochs_this_run must not be negative");
  require(o.predict_batch_size > 0, "predict batch size must be positive");
}

KeyValues to_key_values(const RegressorOptions& o) {
  std::vector<std::string> hidden;
  for (std::int64_t width : o.hidden) hidden.push_back(std::to_string(width));
  KeyValues v;
  v["model.bag_dims"] = std::to_string(o.bag_dims);
  v["model.categorical_dims"] = std::to_string(o.categorical_dims);
  v["model.numeric_dims"] = std::to_string(o.numeric_dims);
  v["model.image_channels"] = std::to_string(o.image_channels);
  v["model.image_dims"] = std::to_string(o.image_dims);
  v["model.dense_dims"] = std::to_string(o.dense_dims);
  v["model.hidden"] = join(hidden);
  v["model.dropout"] = format_double(o.dropout);
  v["model.layer_norm"] = o.layer_norm ? "true" : "false";
  v["model.ensemble"] = std::to_string(o.ensemble);
  v["model.wide"] = o.wide ? "true" : "false";
  v["model.ridge_path"] = to_string(o.ridge_path);
  std::vector<std::string> alphas;
  for (double alpha : o.ridge_alphas) alphas.push_back(format_double(alpha));
  v["train.ridge_alphas"] = join(alphas);
  v["train.targets"] = to_string(o.targets);
  v["train.loss"] = to_string(o.loss);
  v["train.count_shrinkage"] = format_double(o.count_shrinkage);
  v["train.learning_rate"] = format_double(o.learning_rate);
  v["train.weight_decay"] = format_double(o.weight_decay);
  v["train.adam_beta1"] = format_double(o.adam_beta1);
  v["train.adam_beta2"] = format_double(o.adam_beta2);
  v["train.adam_epsilon"] = format_double(o.adam_epsilon);
  v["train.schedule"] = to_string(o.schedule);
  v["train.warmup_epochs"] = format_double(o.warmup_epochs);
  v["train.min_lr_ratio"] = format_double(o.min_lr_ratio);
  v["train.step_epochs"] = std::to_string(o.step_epochs);
  v["train.step_gamma"] = format_double(o.step_gamma);
  v["train.epochs"] = std::to_string(o.epochs);
  v["train.batch_size"] = std::to_string(o.batch_size);
  v["train.seed"] = std::to_string(o.seed);
  v["train.validation_fraction"] = format_double(o.validation_fraction);
  v["train.patience"] = std::to_string(o.patience);
  v["train.restore_best"] = o.restore_best ? "true" : "false";
  v["train.bucket_bytes"] = std::to_string(o.bucket_bytes);
  v["train.sparse_embedding_gradients"] = o.sparse_embedding_gradients ? "true" : "false";
  v["train.fused_optimizer"] = o.fused_optimizer ? "true" : "false";
  v["train.threads_per_rank"] = std::to_string(o.threads_per_rank);
  v["train.checkpoint_every"] = std::to_string(o.checkpoint_every);
  v["predict.batch_size"] = std::to_string(o.predict_batch_size);
  return v;
}

RegressorOptions regressor_options_from(const KeyValues& values) {
  RegressorOptions o;
  auto get = [&](const std::string& key, auto& field) {
    auto found = values.find(key);
    if (found == values.end()) return;
    using Field = std::decay_t<decltype(field)>;
    if constexpr (std::is_same_v<Field, bool>)
      field = parse_bool(key, found->second);
    else if constexpr (std::is_floating_point_v<Field>)
      field = parse_double(key, found->second);
    else
      field = static_cast<Field>(parse_int(key, found->second));
  };
  get("model.bag_dims", o.bag_dims);
  get("model.categorical_dims", o.categorical_dims);
  get("model.numeric_dims", o.numeric_dims);
  get("model.image_channels", o.image_channels);
  get("model.image_dims", o.image_dims);
  get("model.dense_dims", o.dense_dims);
  if (auto found = values.find("model.hidden"); found != values.end()) {
    o.hidden.clear();
    for (const std::string& width : split(found->second))
      o.hidden.push_back(parse_int("model.hidden", width));
  }
  get("model.dropout", o.dropout);
  get("model.layer_norm", o.layer_norm);
  get("model.ensemble", o.ensemble);
  get("model.wide", o.wide);
  if (auto found = values.find("model.ridge_path"); found != values.end())
    o.ridge_path = parse_ridge_path_kind(found->second);
  if (auto found = values.find("train.ridge_alphas"); found != values.end()) {
    o.ridge_alphas.clear();
    for (const std::string& alpha : split(found->second))
      o.ridge_alphas.push_back(parse_double("train.ridge_alphas", alpha));
  }
  if (auto found = values.find("train.targets"); found != values.end())
    o.targets = parse_target_normalisation(found->second);
  if (auto found = values.find("train.loss"); found != values.end()) o.loss = parse_loss_kind(found->second);
  get("train.count_shrinkage", o.count_shrinkage);
  get("train.learning_rate", o.learning_rate);
  get("train.weight_decay", o.weight_decay);
  get("train.adam_beta1", o.adam_beta1);
  get("train.adam_beta2", o.adam_beta2);
  get("train.adam_epsilon", o.adam_epsilon);
  if (auto found = values.find("train.schedule"); found != values.end())
    o.schedule = parse_schedule_kind(found->second);
  get("train.warmup_epochs", o.warmup_epochs);
  get("train.min_lr_ratio", o.min_lr_ratio);
  get("train.step_epochs", o.step_epochs);
  get("train.step_gamma", o.step_gamma);
  get("train.epochs", o.epochs);
  get("train.batch_size", o.batch_size);
  get("train.seed", o.seed);
  get("train.validation_fraction", o.validation_fraction);
  get("train.patience", o.patience);
  get("train.restore_best", o.restore_best);
  get("train.bucket_bytes", o.bucket_bytes);
  get("train.sparse_embedding_gradients", o.sparse_embedding_gradients);
  get("train.fused_optimizer", o.fused_optimizer);
  get("train.threads_per_rank", o.threads_per_rank);
  get("train.checkpoint_every", o.checkpoint_every);
  get("predict.batch_size", o.predict_batch_size);
  validate(o);
  return o;
}

std::string training_fingerprint(const RegressorOptions& options) {
  KeyValues values = to_key_values(options);
  values.erase("train.threads_per_rank");
  values.erase("train.checkpoint_every");
  values.erase("train.bucket_bytes");
  values.erase("train.sparse_embedding_gradients");
  values.erase("train.fused_optimizer");
  values.erase("predict.batch_size");
  std::string text;
  for (const auto& [key, value] : values) text += key + "=" + value + ";";
  return text;
}

}  // namespace tailflow::ops::learning
