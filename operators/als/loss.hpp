// The training loss after a full iteration, summed over ranks.
//
// Explicit: Σ_observed (r − r̂)² + Σ_rows λ_row ‖row‖²; reported per rating (and as RMSE).
// Implicit: Σ_all cells c (p − x·y)² + Σ_rows λ_row ‖row‖², with p = 1, c = 1 + alpha·value on observed
// cells and p = 0, c = 1 elsewhere. The U × I unobserved cells are never visited: Σ_u (x_u·y)² over all
// users is yᵀ (XᵀX) y, so each item costs one k × k product plus a correction per observed cell,
// c (1 − x·y)² − (x·y)². Reported divided by Σ c over all cells, like the `implicit` library.
#pragma once

#include "engine/context.hpp"
#include "operators/als/half_step.hpp"

namespace tailflow::ops::als {

struct LossValue {
  double total = 0;       // data term + regularisation, over all ranks
  double normalised = 0;  // total per rating (explicit) or per unit of confidence (implicit)
  double rmse = 0;        // explicit only: root mean squared error over the training ratings
};

// Collective. `item_step` is the item half-step just solved: its block is this rank's item block, its
// `fixed` holds the user factors its rows reference, and (implicit) its gram is XᵀX. `items` are this
// rank's item rows after the solve; `users` and `user_block` this rank's user rows (for regularisation).
LossValue compute_loss(Context& ctx, const HalfStep& item_step, const FactorMatrix& items,
                       const FactorMatrix& users, const CsrBlock& user_block, double users_times_items);

}  // namespace tailflow::ops::als
