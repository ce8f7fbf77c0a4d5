#include "operators/datagen/shop_generator.hpp"

#include <algorithm>
#include <functional>

#include "engine/comm/collectives.hpp"
#include "engine/stage_metrics.hpp"

namespace tailflow::ops::datagen {

std::pair<std::uint64_t, std::uint64_t> block_range(std::uint64_t n, int rank, int size) {
  auto r = static_cast<std::uint64_t>(rank);
  auto s = static_cast<std::uint64_t>(size);
  std::uint64_t base = n / s, extra = n % s;
  std::uint64_t begin = r * base + std::min(r, extra);
  return {begin, begin + base + (r < extra ? 1 : 0)};
}

namespace {

Catalogue share_catalogue(Context& ctx, const std::vector<ShopItem>& items, int factors) {
  std::vector<float> local_truth;
  std::vector<double> local_popularity;
  local_truth.reserve(items.size() * factors);
  for (const ShopItem& item : items) {
    local_truth.insert(local_truth.end(), item.truth.begin(), item.truth.end());
    local_popularity.push_back(item.popularity);
  }
  auto truth = comm::allgatherv(ctx.comm(), std::span<const float>(local_truth));
  auto popularity = comm::allgatherv(ctx.comm(), std::span<const double>(local_popularity));
  return Catalogue(factors, std::move(truth), popularity);
}

}  // namespace

ShopPartition generate_shop(Context& ctx, const FashionShop& shop) {
  const ShopConfig& config = shop.config();
  Stopwatch watch;
  auto [item_begin, item_end] = block_range(config.items, ctx.rank(), ctx.size());
  std::vector<ShopItem> items;
  items.reserve(item_end - item_begin);
  for (std::uint64_t i = item_begin; i < item_end; ++i) items.push_back(shop.make_item(i));
  ctx.metrics().record({"generate items", 0, items.size(), 0, watch.seconds()});

  watch.restart();
  Catalogue catalogue = share_catalogue(ctx, items, config.factors);
  std::uint64_t shared_bytes = items.size() * (config.factors * sizeof(float) + sizeof(double)) *
                               static_cast<std::uint64_t>(ctx.size() - 1);
  ctx.metrics().record({"share catalogue", items.size(), catalogue.size(), shared_bytes, watch.seconds()});

  watch.restart();
  auto [user_begin, user_end] = block_range(config.users, ctx.rank(), ctx.size());
  std::vector<ShopUser> users;
  users.reserve(user_end - user_begin);
  std::uint64_t events = 0;
  for (std::uint64_t u = user_begin; u < user_end; ++u) {
    users.push_back(shop.make_user(u, catalogue));
    events += users.back().events.size();
  }
  ctx.metrics().record({"generate users", users.size(), events, 0, watch.seconds()});

  return ShopPartition{item_begin, std::move(items), user_begin, std::move(users), std::move(catalogue)};
}

ShopSummary summarise_shop(Context& ctx, const ShopPartition& partition) {
  ShopSummary summary;
  summary.items = partition.catalogue.size();
  std::vector<std::uint64_t> per_item(summary.items, 0);
  std::uint64_t views = 0, carts = 0, purchases = 0, max_user = 0;
  for (const ShopUser& user : partition.users) {
    max_user = std::max<std::uint64_t>(max_user, user.events.size());
    for (const ShopEvent& event : user.events) {
      ++per_item[event.item];
      views += event.type == EventType::kView;
      carts += event.type == EventType::kCart;
      purchases += event.type == EventType::kPurchase;
    }
  }
  comm::allreduce(ctx.comm(), std::span<std::uint64_t>(per_item), comm::ReduceOp::kSum);
  summary.users = comm::allreduce_sum(ctx.comm(), std::uint64_t{partition.users.size()});
  summary.views = comm::allreduce_sum(ctx.comm(), views);
  summary.carts = comm::allreduce_sum(ctx.comm(), carts);
  summary.purchases = comm::allreduce_sum(ctx.comm(), purchases);
  summary.max_user_interactions = comm::allreduce_max(ctx.comm(), max_user);
  summary.interactions = summary.views + summary.carts + summary.purchases;

  for (std::uint64_t count : per_item) {
    summary.cold_items += (count == 0);
    summary.items_below_5 += (count < 5);
  }
  std::sort(per_item.begin(), per_item.end(), std::greater<>());
  if (!per_item.empty()) {
    summary.max_item_interactions = per_item.front();
    std::size_t n = per_item.size();
    summary.median_item_interactions = n % 2
                                           ? static_cast<double>(per_item[n / 2])
                                           : 0.5 * static_cast<double>(per_item[n / 2 - 1] + per_item[n / 2]);
    std::size_t head = std::max<std::size_t>(1, n / 100);
    std::uint64_t head_sum = 0;
    for (std::size_t i = 0; i < head; ++i) head_sum += per_item[i];
    summary.top_1_percent_share =
        summary.interactions ? static_cast<double>(head_sum) / static_cast<double>(summary.interactions) : 0;
  }
  return summary;
}

}  // namespace tailflow::ops::datagen
