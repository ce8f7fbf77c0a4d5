// Train/test splits of interactions for offline evaluation (../shared/design/EVALUATION.md).
//
// The unit of a split is a (user, item) pair with all its interactions: repeated views of one item never land
// on both sides, so a test item is never "already seen in training". Interactions are first grouped by user
// (one alltoallv to the user's owner rank), then every decision is made from the user's sorted interactions
// and seeded hashes of (seed, user, item) — so the same seed gives the same split on any number of ranks.
//
// Methods:
//   random       per user, round(test_fraction · n) of its n pairs, chosen at random (at least one pair stays
//                in training)
//   leave-k-out  per user with more than k pairs, k pairs chosen at random
//   temporal     per user, the latest round(test_fraction · n) pairs by first interaction time (at least one
//                stays); with global_time, every pair first seen at or after one global cut time, chosen so
//                that at most test_fraction of all pairs are in test
//   few-shot     protocol A, steps 1–2: a seeded probe_fraction of the items with at least max_shots + 5
//                users become probe items; each keeps `shots` random users' pairs in training and sends the
//                rest to test; every other pair stays in training
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/context.hpp"
#include "operators/data/interaction.hpp"

namespace tailflow::ops::split {

enum class SplitMethod { kRandom, kLeaveKOut, kTemporal, kFewShot };

// "random", "leave-k-out", "temporal", "few-shot"; parse_split_method throws Error on anything else.
SplitMethod parse_split_method(const std::string& name);
std::string split_method_name(SplitMethod method);

struct SplitOptions {
  SplitMethod method = SplitMethod::kRandom;
  std::uint64_t seed = 0;
  double test_fraction = 0.2;   // random, temporal
  std::size_t k = 1;            // leave-k-out
  bool global_time = false;     // temporal: one cut time for everybody instead of per user
  double probe_fraction = 0.2;  // few-shot
  std::size_t shots = 3;        // few-shot: m, training pairs each probe item keeps
  std::size_t max_shots = 10;   // few-shot: m_max, probe items need at least m_max + 5 users
};

struct Split {
  // This rank's share (grouped by user; the same users' pairs on the same rank).
  std::vector<Interaction> train;
  std::vector<Interaction> test;
  // few-shot: the probe items, ascending, on every rank (empty for other methods).
  std::vector<ItemIndex> probe_items;
};

// Collective. `interactions` is this rank's share, in any order and distribution.
Split split_interactions(Context& ctx, std::vector<Interaction> interactions, const SplitOptions& options);

}  // namespace tailflow::ops::split
