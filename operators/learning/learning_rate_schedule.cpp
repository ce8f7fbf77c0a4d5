#include "operators/learning/learning_rate_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tailflow::ops::learning {

LearningRateSchedule::LearningRateSchedule(const RegressorOptions& options, std::int64_t steps_per_epoch)
    : kind_(options.schedule),
      base_(options.learning_rate),
      min_ratio_(options.min_lr_ratio),
      gamma_(options.step_gamma),
      steps_per_epoch_(std::max<std::int64_t>(1, steps_per_epoch)),
      step_epochs_(options.step_epochs),
      warmup_steps_(static_cast<std::int64_t>(std::llround(options.warmup_epochs * steps_per_epoch_))),
      total_steps_(options.epochs * steps_per_epoch_) {}

double LearningRateSchedule::at(std::int64_t step) const {
  if (step < warmup_steps_) return base_ * static_cast<double>(step + 1) / static_cast<double>(warmup_steps_);
  switch (kind_) {
    case ScheduleKind::kCosine: {
      double span = static_cast<double>(std::max<std::int64_t>(1, total_steps_ - warmup_steps_));
      double progress = std::clamp(static_cast<double>(step - warmup_steps_) / span, 0.0, 1.0);
      return base_ * (min_ratio_ + (1 - min_ratio_) * 0.5 * (1 + std::cos(std::numbers::pi * progress)));
    }
    case ScheduleKind::kStep: {
      std::int64_t epoch = step / steps_per_epoch_;
      return base_ * std::pow(gamma_, static_cast<double>(epoch / step_epochs_));
    }
    case ScheduleKind::kConstant:
      return base_;
  }
  return base_;
}

}  // namespace tailflow::ops::learning
