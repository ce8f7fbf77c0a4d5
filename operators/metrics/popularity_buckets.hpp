// Head, tail and cold items by their number of training interactions (../shared/design/EVALUATION.md).
//
//   head: at least head_min training interactions (the items a content model can learn ALS vectors from)
//   tail: 1 .. head_min − 1
//   cold: none
// The default head_min makes the head the most popular items that together hold 80% of all training
// interactions: the count of the least popular item in that set.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "engine/context.hpp"
#include "operators/data/interaction.hpp"

namespace tailflow::ops::metrics {

enum class Bucket : std::uint8_t { kHead, kTail, kCold };

std::string_view bucket_name(Bucket bucket);  // "head", "tail", "cold"

// Collective: the number of training interactions of every item 0 .. catalog_size-1, on every rank.
// Interactions with items outside the catalog are an error.
std::vector<std::uint64_t> item_interaction_counts(Context& ctx, std::span<const Interaction> interactions,
                                                   std::uint64_t catalog_size);

// Collective: the number of DISTINCT training users of every item 0 .. catalog_size-1, on every rank. With
// implicit data one user may interact with an item many times (views, carts, purchases); popularity means
// how many people chose the item, so repeats count once. A user's interactions may lie on any ranks.
std::vector<std::uint64_t> item_user_counts(Context& ctx, std::span<const Interaction> interactions,
                                            std::uint64_t catalog_size);

// The largest count h such that the items with at least h interactions hold `head_share` of all interactions
// (1 when there are none).
std::uint64_t default_head_min(std::span<const std::uint64_t> counts, double head_share = 0.8);

class PopularityBuckets {
 public:
  // head_min 0 means "choose by default_head_min".
  explicit PopularityBuckets(std::vector<std::uint64_t> counts, std::uint64_t head_min = 0);

  Bucket of(ItemIndex item) const;
  std::uint64_t head_min() const { return head_min_; }
  std::uint64_t count(ItemIndex item) const { return counts_[item]; }
  std::uint64_t catalog_size() const { return counts_.size(); }

  // Items of one bucket, ascending.
  std::vector<ItemIndex> items_in(Bucket bucket) const;
  // Training interactions held by one bucket's items.
  std::uint64_t interactions_in(Bucket bucket) const;

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t head_min_;
};

}  // namespace tailflow::ops::metrics
