// Maps ALS item vectors to training targets and predictions back to the ALS scale.
//
// ALS factors have very different spreads per dimension; a network trained with MSE on raw factors spends
// its capacity on the widest dimensions. Standardising each dimension (or normalising each vector to unit
// length, when only directions matter) gives every dimension an equal say; inverse() undoes it so that
// predictions are comparable with ALS vectors (dot products with user vectors).
//
// `gram` goes further: what ranking needs is a small error in every user's score u·x̂, i.e. a small
// (x̂ − x)ᵀ G (x̂ − x) with G = UᵀU, the users' Gram matrix. With G = R Rᵀ (Cholesky), the targets become
// z = s·Rᵀ(x − mean), so the plain squared error of z is s² times that score-space error; s makes the mean
// squared target 1, like standardising. A linear model (ridge) fits the same predictions under any such
// invertible map of its targets; a network does not, so this choice changes what it learns.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "operators/learning/key_value_file.hpp"
#include "operators/learning/regressor_options.hpp"

namespace tailflow::ops::learning {

class TargetScaler {
 public:
  TargetScaler() = default;

  // Statistics of `targets` (rows × dims, row-major). Accumulated in double, in row order, so equal inputs
  // give bit-equal scalers. `gram` (dims × dims, row-major, symmetric positive definite) is the users'
  // Gram matrix UᵀU; required for TargetNormalisation::kGram, ignored otherwise.
  static TargetScaler fit(std::span<const float> targets, std::int64_t dims, TargetNormalisation mode,
                          std::span<const double> gram = {});

  // In place, row by row. transform: ALS scale → target scale; inverse: target scale → ALS scale.
  void transform(std::span<float> rows) const;
  void inverse(std::span<float> rows) const;

  TargetNormalisation mode() const { return mode_; }
  std::int64_t dims() const { return static_cast<std::int64_t>(mean_.size()); }
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& scale() const { return scale_; }
  double mean_norm() const { return mean_norm_; }
  // gram: s·Rᵀ, upper triangular, dims × dims row-major; empty otherwise.
  const std::vector<double>& metric_factor() const { return metric_factor_; }

  // "scaler.*" entries of a saved model.
  KeyValues to_key_values() const;
  static TargetScaler from_key_values(const KeyValues& values);

 private:
  TargetNormalisation mode_ = TargetNormalisation::kNone;
  std::vector<double> mean_;   // standardise: per-dimension mean; otherwise zeros
  std::vector<double> scale_;  // standardise: per-dimension standard deviation (1 if constant); else ones
  double mean_norm_ = 1.0;     // l2: the mean length of the training vectors
  std::vector<double> metric_factor_;  // gram: s·Rᵀ (see the file comment)
};

}  // namespace tailflow::ops::learning
