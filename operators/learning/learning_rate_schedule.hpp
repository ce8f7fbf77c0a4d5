// The learning rate at each optimiser step: a linear warm-up (large early steps of Adam on freshly
// initialised embeddings are what make training unstable), then cosine decay or step decay.
#pragma once

#include <cstdint>

#include "operators/learning/regressor_options.hpp"

namespace tailflow::ops::learning {

class LearningRateSchedule {
 public:
  LearningRateSchedule(const RegressorOptions& options, std::int64_t steps_per_epoch);

  // The rate for optimiser step `step` (0-based, counted over the whole training).
  double at(std::int64_t step) const;

  std::int64_t warmup_steps() const { return warmup_steps_; }
  std::int64_t total_steps() const { return total_steps_; }

 private:
  ScheduleKind kind_;
  double base_;
  double min_ratio_;
  double gamma_;
  std::int64_t steps_per_epoch_;
  std::int64_t step_epochs_;
  std::int64_t warmup_steps_;
  std::int64_t total_steps_;
};

}  // namespace tailflow::ops::learning
