// The users' Gram matrix UᵀU of an ALS embeddings file: the metric of score-space error.
//
// An item vector's error e changes user u's score by u·e, so Σ_u (u·e)² = eᵀ (UᵀU) e is what every user's
// ranking sees of it. `tailflow train --target-normalization gram` trains the content model in this metric
// (operators/learning/target_scaler.hpp).
#pragma once

#include <vector>

#include "engine/context.hpp"
#include "engine/io/sharded_reader.hpp"

namespace tailflow::ops::tail {

// Collective: each rank sums u uᵀ over its balanced share of users/vectors (in double), then the ranks
// allreduce. Returns dims × dims, row-major, the same on every rank. Throws Error naming the file when it has
// no users/vectors.
std::vector<double> read_users_gram(Context& ctx, const io::ShardedReader& embeddings);

}  // namespace tailflow::ops::tail
