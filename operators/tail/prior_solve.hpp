// The `prior` mode of the final item embeddings: an ALS half-step for one item whose regulariser pulls
// towards the item's content vector instead of towards 0 (issue 4, point 5).
//
//   ALS:    x = argmin Σ_u c_u (p_u − yᵤᵀx)² + λ‖x‖²
//   prior:  x = argmin Σ_u c_u (p_u − yᵤᵀx)² + λ‖x − c‖²   ⇒   x = (YᵀCY + λI)⁻¹ (YᵀCp + λc)
//
// Implicit feedback: over ALL users, p_u = 1 and c_u = 1 + α·r for the item's users, p_u = 0 and c_u = 1 for
// the rest; with the Gram matrix YᵀY of all users this needs only the item's own users:
//   YᵀCY = YᵀY + Σ_{u ∈ item} α r yᵤyᵤᵀ,   YᵀCp = Σ_{u ∈ item} (1 + α r) yᵤ.
// Explicit feedback: the sums run over the item's users only, with c_u = 1 and p_u = the rating.
// With no interactions x = c in the explicit case and (YᵀY + λI)⁻¹λc in the implicit one (the unobserved
// zeros still pull). λ is scaled by the item's interaction count when ALS used --reg-scaling count. Item
// biases are not modelled here.
//
// Prior strength. By default the prior's λ is the ALS λ, as above. With implicit feedback YᵀY (a sum over
// all users) dwarfs a typical ALS λ, so the prior barely pulls and x stays close to the ALS vector;
// `prior_strength` sets the λ of ‖x − c‖² on its own (not scaled by count), e.g. of the order of YᵀY's
// diagonal to give content and interactions comparable say.
//
// solve_tail_items_with_prior() runs it for many items across ranks: each interaction travels to the rank
// that holds its item's feature row, which solves its items alone (all user vectors are on every rank).
#pragma once

#include <Eigen/Core>
#include <optional>
#include <span>
#include <vector>

#include "engine/context.hpp"
#include "operators/als/als_options.hpp"

namespace tailflow::ops::tail {

struct PriorSolveSettings {
  als::Feedback feedback = als::Feedback::kImplicit;
  double alpha = 1;  // implicit confidence slope
  double regularization = 0.01;
  als::RegScaling reg_scaling = als::RegScaling::kNone;
  // λ of the ‖x − c‖² term; unset: `regularization`, scaled as ALS scaled it (today's behaviour).
  std::optional<double> prior_strength;
};

// `gram`: YᵀY over all users (implicit only; may be empty for explicit). `user_vectors`: the item's users,
// one row of k values each (row-major); `values`: their interaction values; `content`: the prior centre c.
// Throws Error when the lengths disagree or the system is not positive definite.
std::vector<float> solve_with_content_prior(const Eigen::MatrixXf& gram, std::span<const float> user_vectors,
                                            std::span<const float> values, std::span<const float> content,
                                            const PriorSolveSettings& settings);

// One training interaction in ALS row numbers.
struct AlsInteraction {
  std::uint32_t item_row = 0;
  std::uint32_t user_row = 0;
  float value = 1;
};

// Collective. `interactions`: any of this rank's share of the training interactions. `local_als_rows`: the
// ALS item row of each of this rank's feature rows (kNotInAls of als_items.hpp for none); rows with
// solve[i] != 0 get their prior solution written into `out` (local rows × k), other rows are left alone.
// `users`: every user's vector (ALS rows × k, row-major), replicated. Returns the items solved on this rank.
std::uint64_t solve_tail_items_with_prior(Context& ctx, std::span<const AlsInteraction> interactions,
                                          std::span<const std::uint64_t> local_als_rows,
                                          std::span<const std::uint8_t> solve, std::span<const float> users,
                                          std::size_t dims, std::span<const float> content,
                                          const PriorSolveSettings& settings, std::span<float> out);

}  // namespace tailflow::ops::tail
