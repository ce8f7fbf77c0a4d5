// Making the fashion shop on many ranks: the distributed driver of FashionShop.
//
// Items are made in contiguous id blocks, one per rank; then the tables users need (hidden item vectors and
// popularity) are allgathered so that every rank holds the whole Catalogue; then users are made in contiguous
// id blocks. Since every entity depends only on its own random stream and on tables that are identical on
// all ranks, the union of the partitions is the same data for any number of ranks, and writing the blocks in
// rank order gives files in global id order.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "engine/context.hpp"
#include "operators/datagen/fashion_shop.hpp"

namespace tailflow::ops::datagen {

// [begin, end) of the block of `n` entities that `rank` of `size` makes: sizes differ by at most one.
std::pair<std::uint64_t, std::uint64_t> block_range(std::uint64_t n, int rank, int size);

struct ShopPartition {
  std::uint64_t first_item = 0;
  std::vector<ShopItem> items;  // ids first_item, first_item + 1, ...
  std::uint64_t first_user = 0;
  std::vector<ShopUser> users;  // ids first_user, first_user + 1, ...
  Catalogue catalogue;          // every item, on every rank
};

// Collective. Records the stages "generate items", "share catalogue" and "generate users".
ShopPartition generate_shop(Context& ctx, const FashionShop& shop);

// What the shop looks like: the long-tail numbers a user wants to see after generating.
struct ShopSummary {
  std::uint64_t users = 0;
  std::uint64_t items = 0;
  std::uint64_t interactions = 0;
  std::uint64_t views = 0, carts = 0, purchases = 0;
  std::uint64_t cold_items = 0;     // no interaction at all
  std::uint64_t items_below_5 = 0;  // fewer than 5 interactions
  double median_item_interactions = 0;
  double top_1_percent_share = 0;  // of all interactions, held by the top 1% of items
  std::uint64_t max_item_interactions = 0;
  std::uint64_t max_user_interactions = 0;
};

// Collective: counts interactions per item across ranks (one allreduce of a vector of item counts).
ShopSummary summarise_shop(Context& ctx, const ShopPartition& partition);

}  // namespace tailflow::ops::datagen
