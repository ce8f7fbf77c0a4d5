// The rating-prediction baseline every explicit model must beat: global mean + user bias + item bias,
// fitted on the training ratings with damping (shrinkage toward zero for rows with few ratings):
//
//   μ   = mean of all training ratings
//   b_i = Σ_{u rated i} (r_ui − μ) / (damping + n_i)
//   b_u = Σ_{i rated by u} (r_ui − μ − b_i) / (damping + n_u)
//
// (Koren, "Factor in the neighbors", 2008, §2.1). Users and items are embedding rows; the biases are
// replicated on every rank (one allreduce each), as the test pairs may lie on any rank.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/context.hpp"
#include "operators/data/interaction.hpp"

namespace tailflow::ops::metrics {

struct BiasBaseline {
  double global_mean = 0;
  std::vector<double> user_bias;
  std::vector<double> item_bias;

  double predict(UserIndex user, ItemIndex item) const {
    return global_mean + user_bias[user] + item_bias[item];
  }
};

// Collective. `train`: this rank's training ratings, users < user_count, items < item_count.
BiasBaseline fit_bias_baseline(Context& ctx, std::span<const Interaction> train, std::uint64_t user_count,
                               std::uint64_t item_count, double damping);

}  // namespace tailflow::ops::metrics
