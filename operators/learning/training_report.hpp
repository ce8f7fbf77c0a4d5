// What a training run reports: per-epoch losses and timings, and how it ended. Plain data (no LibTorch).
#pragma once

#include <cstdint>
#include <vector>

namespace tailflow::ops::learning {

struct EpochReport {
  std::int64_t epoch = 0;        // 0-based
  double train_loss = 0;         // mean per training item (in the scaled target space)
  double validation_loss = -1;   // mean per held-out item; −1 when there is no validation set
  double learning_rate = 0;      // at the epoch's last step
  double seconds = 0;            // wall time of the epoch's steps (max over ranks), validation excluded
  double allreduce_seconds = 0;  // of which in gradient allreduces, waiting included (max over ranks)
  double optimizer_seconds = 0;  // of which in the optimiser step: the same work on every rank (max)
  // CPU time of the epoch's steps on the busiest rank: a check on `seconds` when other processes share the
  // cores.
  double cpu_seconds = 0;
  double compute_cpu_seconds = 0;    // this rank's thread CPU time in forward + backward (busiest rank)
  double optimizer_cpu_seconds = 0;  // this rank's thread CPU time in the optimiser step (busiest rank)
  // This rank's thread CPU time packing, scaling and unpacking gradients for the exchange (busiest rank),
  // and inside the allreduces themselves (copying, summing and busy-polling while waiting for other ranks).
  double exchange_cpu_seconds = 0;
  double allreduce_cpu_seconds = 0;
  // Gradient bytes each rank passed to allreduces per step (mean over the epoch); 0 on one rank.
  double gradient_bytes_per_step = 0;
  std::int64_t samples = 0;  // training items processed (all ranks)
};

struct TrainingReport {
  std::vector<EpochReport> epochs;  // including epochs done before a resume
  std::int64_t train_items = 0;
  std::int64_t validation_items = 0;
  std::int64_t parameters = 0;
  std::int64_t gradient_buckets = 0;
  std::int64_t steps = 0;        // optimiser steps done in total
  std::int64_t best_epoch = -1;  // by validation loss; −1 without validation
  // With an ensemble: the averaged prediction's held-out loss (best_epoch is the last member's).
  double best_validation_loss = -1;
  std::vector<double> member_validation_losses;  // each ensemble member's best held-out loss
  bool stopped_early = false;
  bool finished = false;                 // false when max_epochs_this_run ended the run first
  std::int64_t resumed_from_epoch = -1;  // the first epoch this run computed, when it resumed; −1 otherwise
};

}  // namespace tailflow::ops::learning
