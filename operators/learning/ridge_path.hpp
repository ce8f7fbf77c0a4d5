// The closed-form linear path of the content model: a ridge regression from the model's own inputs to its
// (scaled) targets, solved exactly instead of by SGD.
//
// Why: on MovieLens a tuned ridge regression on the same features ties the network, and the two make
// different errors: the mean of their predictions beats both (docs/regressor.md). `--wide` adds a linear
// path that SGD trains together with the MLP, and does not get there. This path is the ridge solution
// itself, so the one saved model contains the linear model (options.ridge_path: mixed with the network's
// output, or with the network learning what it leaves over).
//
// Inputs: every sparse bag (its weights as they are, e.g. the L2-normalised TF-IDF text), each categorical
// column one-hot, the numeric columns and the dense block; not the image pixels. The intercept is not
// penalised: the columns are centred over the training items (implicitly, the matrix stays sparse) and
//   minimise ‖(X − 1μᵀ) W − (Y − 1ȳᵀ)‖² + α ‖W‖²,   intercept b = ȳ − Wᵀμ,
// which is what scikit-learn's Ridge(fit_intercept=True) solves (cluster/ridge_baseline.py). The normal
// equations (X_cᵀX_c + αI) W = X_cᵀY_c are solved by conjugate gradients, one independent run per output
// column done side by side. No LibTorch types.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "operators/learning/item_features.hpp"

namespace tailflow::ops::learning {

struct RidgeSolverSettings {
  std::int64_t max_iterations = 1000;
  double tolerance = 1e-6;  // stop when every column's residual norm is below this × its right side's
};

class RidgePath {
 public:
  RidgePath() = default;
  // From stored coefficients (a saved model): weights columns(schema) × dims, intercept dims.
  RidgePath(const FeatureSchema& schema, std::int64_t dims, double alpha, std::vector<float> weights,
            std::vector<float> intercept);

  // Fits on every item of `items`; `targets` is items × dims, row-major. Deterministic (serial, fixed order).
  static RidgePath fit(const ItemFeatures& items, const FeatureSchema& schema, std::span<const float> targets,
                       std::int64_t dims, double alpha, const RidgeSolverSettings& settings = {});

  // items × dims, row-major: X W + b for the given rows of `items` (all rows when `rows` is empty).
  std::vector<float> predict(const ItemFeatures& items, std::span<const std::int64_t> rows = {}) const;

  double alpha() const { return alpha_; }
  std::int64_t dims() const { return dims_; }
  std::int64_t iterations() const { return iterations_; }  // CG iterations of the fit; 0 for a loaded path
  const std::vector<float>& weights() const { return weights_; }
  const std::vector<float>& intercept() const { return intercept_; }

 private:
  FeatureSchema schema_;
  std::int64_t dims_ = 0;
  double alpha_ = 0;
  std::int64_t iterations_ = 0;
  std::vector<float> weights_;    // columns × dims, row-major (the column layout of ridge_columns)
  std::vector<float> intercept_;  // dims
};

// The number of linear inputs of `schema`: the bags' vocabularies, the categorical vocabularies, the numeric
// columns and the dense block, in that order.
std::int64_t ridge_columns(const FeatureSchema& schema);

}  // namespace tailflow::ops::learning
