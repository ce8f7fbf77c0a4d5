// Predicted bytes that ALS moves between ranks per iteration, from the shape of the data alone: to check the
// counts the trainer reports at a few ranks, and to project them to many ranks (docs/scaling.md).
//
// The interaction matrix is modelled as Poissonised draws: user u draws item j Poisson(t_u · p_j) times and
// holds it when it drew it at least once, so P(u holds j) = 1 − exp(−t_u · p_j), independently for every
// pair. p_j is the item's popularity (Σ p = 1); the draw count t_u is set so that the user's expected number
// of distinct items is its degree. This is how the synthetic generator works (distinct items per user drawn
// from a popularity law), and a fair first model of real logs, which have a similar power-law shape.
//
// build_block_layout orders each side by realized degree and cuts it into cost-balanced ranges
// (RowRanges::balanced_by_cost), so the model orders rows the same way: a user's realized degree is its
// expected one rounded down or up at random, an item's is Poisson around its expected one. (Ordering by
// expected degree instead puts up to 7 % error into the exchange of sparse data, where light items with a
// lucky count move into the heavy ranks.)
//
// In the user half-step an item with k holders is referenced by a rank's block of users when one of them is
// in the block; in the item half-step a user with k items references a block when one of them lies in the
// block's item range. Either is 1 − P(none), P(none) the independent-pairs chance conditioned on the
// row's k partners (communication_model.cpp: roughly (1 − π)^k, π the block's share of the row's expected
// partners). The targeted exchange moves the referenced rows that another rank owns; the broadcast moves
// every row to every rank that does not own it.
#pragma once

#include <cstdint>
#include <vector>

#include "operators/als/als_options.hpp"
#include "operators/als/synthetic_interactions.hpp"

namespace tailflow::ops::als {

// Consecutive rows (by descending expected degree) that share one draw rate and expected degree.
struct RateRun {
  std::uint64_t rows = 0;
  double rate = 0;    // t_u (users) or p_j (items)
  double degree = 0;  // expected interactions of each row
};

// The expected number of rows of run `run` whose realized degree is `degree`.
struct DegreeClass {
  std::size_t run = 0;
  double degree = 0;
  double rows = 0;
};

struct SideModel {
  std::vector<RateRun> runs;
  std::vector<DegreeClass> classes;  // by realized degree, descending: the order of the layout's rows

  std::uint64_t rows() const;
  double interactions() const;  // Σ rows × expected degree
};

struct InteractionGraphModel {
  SideModel users;
  SideModel items;

  // The expected graph of generate_synthetic_interactions(shape, …), its degree laws and cap included.
  static InteractionGraphModel synthetic(const SyntheticShape& shape);
};

// One factor exchange (one half-step) as FactorExchange counts it: bytes summed over all ranks, and the
// most that any one rank receives (the slowest rank sets the pace of the collective).
struct ExchangeTraffic {
  double broadcast_bytes = 0;
  double targeted_bytes = 0;
  double broadcast_max_rank_bytes = 0;
  double targeted_max_rank_bytes = 0;

  // As FactorExchange decides: auto takes targeted only when it moves strictly fewer bytes. Shared moves
  // nothing (the trainer picks it on one node, which the model does not know about).
  double bytes(ExchangeMode mode) const;
  double max_rank_bytes(ExchangeMode mode) const;
};

struct IterationTraffic {
  ExchangeTraffic user_step;  // users solved: item factors travel
  ExchangeTraffic item_step;  // items solved: user factors travel
  // Two allreduces of a k × k double Gram matrix (implicit feedback), as a ring moves them: 2 (P−1)/P of the
  // buffer sent and received by each rank per allreduce.
  double gram_bytes_per_rank = 0;

  // What `bench als` reports as bytes_moved_per_iteration (factor exchanges only, summed over ranks).
  double exchange_bytes(ExchangeMode mode) const { return user_step.bytes(mode) + item_step.bytes(mode); }
};

// `ranks` ≥ 1; `factors` as --factors; `biases` adds the bias column to each factor row; `implicit` whether
// the Gram allreduces happen; `solver` as --solver (it sets the row costs that cut the ranges). On one rank
// nothing moves.
IterationTraffic predict_iteration_traffic(const InteractionGraphModel& graph, int ranks, int factors,
                                           bool biases, bool implicit = true,
                                           SolverKind solver = SolverKind::kConjugateGradient);

}  // namespace tailflow::ops::als
