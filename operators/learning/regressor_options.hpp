// Settings of the content → embedding regressor: model shape, targets, loss, optimiser, schedule, early
// stopping, checkpoints. Plain data, no LibTorch; saved next to a trained model as "key = value" lines so
// that `tailflow embed` can rebuild the same network.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "operators/learning/key_value_file.hpp"

namespace tailflow::ops::learning {

// How ALS vectors become training targets (predictions are mapped back the same way in reverse).
enum class TargetNormalisation {
  kNone,
  kStandardise,  // per dimension: (x − mean) / std over the training items
  kL2,  // each vector scaled to unit length; predictions come back with the training items' mean norm
  // The score-space metric: (x − mean) mapped by Rᵀ, where R Rᵀ = UᵀU is the users' Gram matrix, so that the
  // squared error of a target is Σ_u (u·x̂ − u·x)², the error of every user's score (gram_metric.hpp).
  kGram,
};

enum class LossKind { kMse, kCosine };

// The closed-form ridge path (ridge_path.hpp) and how it joins the network's output.
enum class RidgePathKind {
  kOff,
  kMix,       // (1 − w)·network + w·ridge, w fitted on the held-out head items (½ without any)
  kResidual,  // ridge + network, the network trained on what the ridge path leaves over
};

enum class ScheduleKind {
  kCosine,  // linear warm-up, then cosine decay to min_lr_ratio × learning_rate
  kStep,    // linear warm-up, then × step_gamma every step_epochs epochs
  kConstant,
};

struct RegressorOptions {
  // Towers.
  std::int64_t bag_dims = 64;          // EmbeddingBag width per sparse bag
  std::int64_t categorical_dims = 16;  // embedding width per categorical column
  std::int64_t numeric_dims = 16;      // linear layer over the numeric columns
  std::int64_t image_channels = 16;    // first conv layer's channels (then ×2, ×2)
  std::int64_t image_dims = 64;        // image tower output
  std::int64_t dense_dims = 64;        // MLP over a precomputed dense vector
  // Head: concatenation → hidden layers → outputs (the ALS factor count).
  std::vector<std::int64_t> hidden = {256};
  double dropout = 0.1;
  bool layer_norm = true;
  // Independently trained members (seeds seed, seed + 1, …; the same held-out items) whose predictions are
  // averaged: the model is small next to its seed-to-seed variance on a few thousand head items.
  std::int64_t ensemble = 1;
  // Wide & deep: a linear path from every input (sparse bags, categorical ids, numeric columns) straight to
  // the outputs, added to the MLP's output. It starts at zero, so it learns what a linear model would.
  bool wide = false;
  // A ridge regression on the same inputs, solved in closed form, inside the model (ridge_path.hpp); its
  // penalty is the one of ridge_alphas with the lowest held-out MSE (the first without held-out items).
  RidgePathKind ridge_path = RidgePathKind::kOff;
  std::vector<double> ridge_alphas = {3, 10};

  TargetNormalisation targets = TargetNormalisation::kStandardise;
  LossKind loss = LossKind::kMse;
  // > 0: each head item's loss weighs n / (n + count_shrinkage), n = its training interactions, so that the
  // noisy ALS vectors of items with few interactions pull less (0: every item weighs 1).
  double count_shrinkage = 0;

  // AdamW.
  double learning_rate = 2e-3;
  double weight_decay = 1e-4;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_epsilon = 1e-8;

  ScheduleKind schedule = ScheduleKind::kCosine;
  double warmup_epochs = 1.0;  // fractions allowed; the warm-up is counted in optimiser steps
  double min_lr_ratio = 0.05;
  std::int64_t step_epochs = 10;
  double step_gamma = 0.5;

  std::int64_t epochs = 30;
  std::int64_t batch_size = 256;  // GLOBAL batch: each of N ranks takes batch_size / N items of each batch
  std::uint64_t seed = 42;

  // Early stopping on held-out head items (chosen by a seeded hash of the item id).
  double validation_fraction = 0.1;
  std::int64_t patience = 5;  // epochs without improvement before stopping; 0 = never stop early
  bool restore_best = true;   // end with the weights of the best validation epoch

  // Data-parallel gradient allreduce: parameters' gradients are packed into buckets of about this size.
  std::int64_t bucket_bytes = 2 << 20;
  // Allreduce only the embedding-table rows the global batch touched (the other rows' gradients are zero);
  // false sends whole tables in the buckets. Same result either way.
  bool sparse_embedding_gradients = true;
  // AdamW's step fused into one pass per parameter (fused_adamw.hpp) instead of LibTorch's ten; the same
  // arithmetic up to rounding, and the same checkpoint format.
  bool fused_optimizer = true;
  // LibTorch intra-op threads per rank; 0 leaves LibTorch's default. 1 per rank compares N ranks on N cores
  // fairly with one rank on one core.
  int threads_per_rank = 0;

  // Checkpoints: written by rank 0 every `checkpoint_every` epochs into checkpoint_dir (empty = none).
  std::string checkpoint_dir;
  std::int64_t checkpoint_every = 1;
  bool resume =
      true;  // continue from checkpoint_dir/regressor.ckpt when it exists and matches these settings
  // Stop after this many epochs in this run (0 = no limit), e.g. to fit a batch-system time slot; a later
  // run with the same settings resumes from the checkpoint and ends exactly as one uninterrupted run would.
  std::int64_t max_epochs_this_run = 0;

  std::int64_t predict_batch_size = 1024;
};

std::string to_string(TargetNormalisation value);  // "none", "standardise", "l2"
std::string to_string(LossKind value);             // "mse", "cosine"
std::string to_string(ScheduleKind value);         // "cosine", "step", "constant"
std::string to_string(RidgePathKind value);        // "off", "mix", "residual"
// Throw Error naming the accepted spellings.
TargetNormalisation parse_target_normalisation(const std::string& text);
LossKind parse_loss_kind(const std::string& text);
ScheduleKind parse_schedule_kind(const std::string& text);
RidgePathKind parse_ridge_path_kind(const std::string& text);

// Throws Error if a setting is out of range (e.g. batch_size < 1, dropout ≥ 1).
void validate(const RegressorOptions& options);

// Every field, so that a saved model can be rebuilt exactly.
KeyValues to_key_values(const RegressorOptions& options);
// Unknown keys are ignored (newer files), missing keys keep their defaults.
RegressorOptions regressor_options_from(const KeyValues& values);

// The settings that change the trained weights, as one string: a resumed run refuses a checkpoint whose
// fingerprint differs (threads, bucket size, the sparse exchange and fused optimiser switches, checkpoint
// paths and the per-run epoch limit are left out: they change the weights by rounding at most).
std::string training_fingerprint(const RegressorOptions& options);

}  // namespace tailflow::ops::learning
