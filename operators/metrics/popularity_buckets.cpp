#include "operators/metrics/popularity_buckets.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <string>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"

namespace tailflow::ops::metrics {

std::string_view bucket_name(Bucket bucket) {
  switch (bucket) {
    case Bucket::kHead:
      return "head";
    case Bucket::kTail:
      return "tail";
    case Bucket::kCold:
      return "cold";
  }
  return "?";
}

namespace {

// "" when every interaction names an item of the catalog, else what is wrong with the first that does not.
std::string item_outside_catalog(std::span<const Interaction> interactions, std::uint64_t catalog_size) {
  for (const Interaction& interaction : interactions)
    if (interaction.item >= catalog_size)
      return fmt::format("interaction of user {} names item {}, outside the catalog of {} items",
                         interaction.user, interaction.item, catalog_size);
  return "";
}

}  // namespace

std::vector<std::uint64_t> item_interaction_counts(Context& ctx, std::span<const Interaction> interactions,
                                                   std::uint64_t catalog_size) {
  ctx.check_collectively(item_outside_catalog(interactions, catalog_size));
  std::vector<std::uint64_t> counts(catalog_size, 0);
  for (const Interaction& interaction : interactions) ++counts[interaction.item];
  comm::allreduce(ctx.comm(), std::span<std::uint64_t>(counts), comm::ReduceOp::kSum);
  return counts;
}

std::vector<std::uint64_t> item_user_counts(Context& ctx, std::span<const Interaction> interactions,
                                            std::uint64_t catalog_size) {
  // Each (user, item) pair, packed as user << 32 | item, goes to the rank that owns the user (user % ranks),
  // so that repeats of a pair lying on different ranks meet and count once.
  const auto ranks = static_cast<std::size_t>(ctx.size());
  std::vector<std::vector<std::uint64_t>> outgoing(ranks);
  ctx.check_collectively(item_outside_catalog(interactions, catalog_size));
  for (const Interaction& interaction : interactions)
    outgoing[interaction.user % ranks].push_back(static_cast<std::uint64_t>(interaction.user) << 32 |
                                                 interaction.item);
  std::vector<std::uint64_t> send;
  std::vector<std::size_t> send_counts;
  for (auto& part : outgoing) {
    std::sort(part.begin(), part.end());
    part.erase(std::unique(part.begin(), part.end()), part.end());
    send.insert(send.end(), part.begin(), part.end());
    send_counts.push_back(part.size());
  }
  auto mine = comm::alltoallv(ctx.comm(), std::span<const std::uint64_t>(send), send_counts);
  std::sort(mine.begin(), mine.end());
  mine.erase(std::unique(mine.begin(), mine.end()), mine.end());
  std::vector<std::uint64_t> counts(catalog_size, 0);
  for (std::uint64_t pair : mine) ++counts[pair & 0xffffffffu];
  comm::allreduce(ctx.comm(), std::span<std::uint64_t>(counts), comm::ReduceOp::kSum);
  return counts;
}

std::uint64_t default_head_min(std::span<const std::uint64_t> counts, double head_share) {
  if (head_share <= 0 || head_share > 1)
    throw Error(fmt::format("the head's share of interactions must lie in (0, 1], not {}", head_share));
  std::vector<std::uint64_t> descending(counts.begin(), counts.end());
  std::sort(descending.begin(), descending.end(), std::greater<>());
  std::uint64_t total = 0;
  for (std::uint64_t c : descending) total += c;
  if (total == 0) return 1;
  // Take items from the most popular down until they hold the share; the last one taken sets head_min
  // (items tied with it are in the head too).
  // A relative slack keeps 0.8 × 10 from missing 8 by one rounding step.
  const double needed = head_share * static_cast<double>(total) * (1.0 - 1e-12);
  std::uint64_t held = 0;
  for (std::uint64_t c : descending) {
    held += c;
    if (static_cast<double>(held) >= needed) return std::max<std::uint64_t>(c, 1);
  }
  return 1;
}

PopularityBuckets::PopularityBuckets(std::vector<std::uint64_t> counts, std::uint64_t head_min)
    : counts_(std::move(counts)), head_min_(head_min == 0 ? default_head_min(counts_) : head_min) {}

Bucket PopularityBuckets::of(ItemIndex item) const {
  std::uint64_t c = counts_.at(item);
  if (c == 0) return Bucket::kCold;
  return c >= head_min_ ? Bucket::kHead : Bucket::kTail;
}

std::vector<ItemIndex> PopularityBuckets::items_in(Bucket bucket) const {
  std::vector<ItemIndex> items;
  for (std::size_t i = 0; i < counts_.size(); ++i)
    if (of(static_cast<ItemIndex>(i)) == bucket) items.push_back(static_cast<ItemIndex>(i));
  return items;
}

std::uint64_t PopularityBuckets::interactions_in(Bucket bucket) const {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i)
    if (of(static_cast<ItemIndex>(i)) == bucket) sum += counts_[i];
  return sum;
}

}  // namespace tailflow::ops::metrics
