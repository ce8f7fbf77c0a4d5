// Data-parallel training of the content model over tailflow's communicator (no torch.distributed).
//
// Every rank holds a full replica of the model and the whole training set (head items only; small next to
// the catalog). Each step:
//   1. every rank takes its part of the same global batch (DistributedSampler),
//   2. computes the SUM of its items' losses and back-propagates it,
//   3. gradients are summed over ranks (GradientExchange: dense parameters in buckets, embedding tables by
//      the rows the global batch touched), then divided by the global batch size,
//   4. every rank takes the same AdamW step.
// Starting from identical weights (seeded initialisation, then a broadcast from rank 0 in case anything
// differed), the replicas stay identical, and N ranks × B/N items compute what 1 rank × B items computes,
// up to the order of floating-point summation. Dropout masks are keyed by (seed, epoch, step, item), not
// by rank, so this holds with dropout too.
//
// Checkpoints (rank 0 writes, every rank reads by broadcast): model, optimiser state, epoch, step, early-
// stopping state and loss history, in one torch::save archive written under a temporary name and renamed.
// At each epoch boundary the ranks agree whether a stop signal arrived (stop_request.hpp); if so they
// write the checkpoint (when a checkpoint directory is set) and throw StopRequested.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "engine/context.hpp"
#include "operators/learning/content_model.hpp"
#include "operators/learning/gradient_exchange.hpp"
#include "operators/learning/training_report.hpp"

namespace tailflow::ops::learning {

// Items with their targets (rows × outputs, in the scaled target space), the same on every rank.
struct LabelledItems {
  const ItemFeatures& items;
  const std::vector<float>& targets;
  const std::vector<float>* weights = nullptr;  // per item, multiplies its loss; null: every item weighs 1
};

class DataParallelTrainer {
 public:
  // Collective: initialises `model` from options.seed and broadcasts rank 0's parameters.
  DataParallelTrainer(Context& ctx, ContentModel model, const FeatureSchema& schema,
                      const RegressorOptions& options);

  // Collective. `fingerprint` identifies the data and settings; a checkpoint with another is refused.
  // Throws StopRequested at an epoch boundary after a stop signal (having written the checkpoint, if any).
  TrainingReport train(LabelledItems train, LabelledItems validation, const std::string& fingerprint);

  // Mean loss per item over `data`, each rank evaluating its share (collective).
  double evaluate(LabelledItems data);

  ContentModel model() const { return model_; }

 private:
  void broadcast_parameters();
  void clear_gradients();
  // Sum over the batch of each item's loss, times its weight when `weights` is defined.
  torch::Tensor summed_loss(const torch::Tensor& predictions, const torch::Tensor& targets,
                            const torch::Tensor& weights) const;
  torch::Tensor target_rows(LabelledItems data, std::span<const std::int64_t> rows) const;
  static torch::Tensor weight_rows(LabelledItems data, std::span<const std::int64_t> rows);

  std::string checkpoint_path() const;
  void save_checkpoint(const TrainingReport& report, std::int64_t next_epoch, std::int64_t bad_epochs,
                       const std::vector<torch::Tensor>& best, const std::string& fingerprint);
  // True when a checkpoint was restored into the model, optimiser and the other arguments.
  bool restore_checkpoint(TrainingReport& report, std::int64_t& next_epoch, std::int64_t& bad_epochs,
                          std::vector<torch::Tensor>& best, const std::string& fingerprint);

  Context& ctx_;
  ContentModel model_;
  FeatureSchema schema_;
  RegressorOptions options_;
  torch::optim::AdamW optimizer_;
  GradientExchange exchange_;
};

}  // namespace tailflow::ops::learning
