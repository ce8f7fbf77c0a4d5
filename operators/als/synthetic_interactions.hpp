// Synthetic power-law interactions for the ALS benchmark: a users × items matrix with about `nnz` cells.
//
// User activity and item popularity both follow Zipf-like laws, as in real logs: user of activity rank a
// gets a share ∝ (a + 1)^(−user_exponent) of the interactions; items are drawn with P(popularity rank < q)
// = (q / items)^(1 − item_exponent), so a few items are in almost every user's history and most items are
// rare. Activity and popularity ranks are scattered over the ids by seeded permutations, so the id order
// carries no hint. Each user's items are distinct.
//
// Everything is a pure function of (shape, seed, user): rank r generates the users of its id range, so the
// data set does not depend on the number of ranks, and ranks generate in parallel.
#pragma once

#include <cstdint>
#include <vector>

#include "operators/data/interaction.hpp"

namespace tailflow::ops::als {

struct SyntheticShape {
  std::uint32_t users = 100'000;
  std::uint32_t items = 50'000;
  std::uint64_t nnz = 5'000'000;  // expected total; the realised count differs by rounding only
  std::uint64_t seed = 1;
  double user_exponent = 0.5;
  double item_exponent = 0.8;  // in [0, 1)
};

// The interactions of users [rank·users/ranks, (rank+1)·users/ranks). Values are counts 1..5.
std::vector<Interaction> generate_synthetic_interactions(const SyntheticShape& shape, int rank, int ranks);

}  // namespace tailflow::ops::als
