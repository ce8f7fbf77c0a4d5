// The items each query user has already seen, gathered from interactions that may lie on any rank.
#pragma once

#include <cstdint>
#include <span>

#include "engine/context.hpp"
#include "operators/data/interaction.hpp"
#include "operators/knn/ranked_lists.hpp"

namespace tailflow::ops::knn {

// Collective. Every rank holds the users [users_first, users_first + users_count) (the slice of the user
// factors it scores) and asks for the seen items of `query_users` (global user indices inside its slice, any
// order). Interactions are routed to the rank holding their user; those of users no rank holds are dropped.
// Returns one list per query user, sorted, without duplicates.
ExclusionLists seen_items(Context& ctx, std::span<const Interaction> interactions, std::uint64_t users_first,
                          std::uint64_t users_count, std::span<const std::uint64_t> query_users);

}  // namespace tailflow::ops::knn
