#include "operators/split/splitter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "operators/common/seeded_hash.hpp"

namespace tailflow::ops::split {
namespace {

// A (user, item) pair: the interactions [begin, end) of the rank's user-grouped, sorted interactions.
struct Unit {
  std::size_t begin;
  std::size_t end;
  UserIndex user;
  ItemIndex item;
  std::int64_t first_time;
  std::uint64_t hash;  // the pair's seeded random key
  bool test = false;
};

// Sends every interaction to its user's owner (a hash of the user, so that owners get similar loads) and
// sorts them there, so that each user's interactions lie together in one canonical order.
std::vector<Interaction> group_by_user(comm::Communicator& comm, std::vector<Interaction> interactions) {
  const auto ranks = static_cast<std::uint64_t>(comm.size());
  auto owner = [&](const Interaction& x) { return static_cast<int>(mix64(x.user) % ranks); };
  std::vector<std::size_t> counts(comm.size(), 0);
  for (const Interaction& x : interactions) ++counts[owner(x)];
  std::vector<std::size_t> next(comm.size(), 0);
  std::exclusive_scan(counts.begin(), counts.end(), next.begin(), std::size_t{0});
  std::vector<Interaction> send(interactions.size());
  for (const Interaction& x : interactions) send[next[owner(x)]++] = x;
  interactions = {};
  auto grouped =
      comm::alltoallv(comm, std::span<const Interaction>(send), std::span<const std::size_t>(counts));
  std::sort(grouped.begin(), grouped.end(), [](const Interaction& a, const Interaction& b) {
    if (a.user != b.user) return a.user < b.user;
    if (a.item != b.item) return a.item < b.item;
    if (a.time != b.time) return a.time < b.time;
    return a.value < b.value;
  });
  return grouped;
}

std::vector<Unit> units_of(const std::vector<Interaction>& sorted, std::uint64_t seed) {
  std::vector<Unit> units;
  for (std::size_t begin = 0; begin < sorted.size();) {
    std::size_t end = begin + 1;
    while (end < sorted.size() && sorted[end].user == sorted[begin].user &&
           sorted[end].item == sorted[begin].item)
      ++end;
    const Interaction& first = sorted[begin];  // sorted by time within the pair
    units.push_back(
        {begin, end, first.user, first.item, first.time, seeded_hash(seed, first.user, first.item)});
    begin = end;
  }
  return units;
}

// Calls mark(first, last) for each user's run of units [first, last).
template <class MarkUser>
void for_each_user(std::vector<Unit>& units, MarkUser mark) {
  for (std::size_t first = 0; first < units.size();) {
    std::size_t last = first + 1;
    while (last < units.size() && units[last].user == units[first].user) ++last;
    mark(units.begin() + static_cast<std::ptrdiff_t>(first),
         units.begin() + static_cast<std::ptrdiff_t>(last));
    first = last;
  }
}

std::size_t test_count_for(double fraction, std::size_t pairs) {
  if (pairs <= 1) return 0;  // a user keeps at least one training pair
  auto count = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(pairs)));
  return std::min(count, pairs - 1);
}

// Moves `count` units of the user's run to test: the first `count` in the order `before`.
template <class Iterator, class Before>
void mark_first(Iterator first, Iterator last, std::size_t count, Before before) {
  std::sort(first, last, before);
  for (auto it = first; it != first + static_cast<std::ptrdiff_t>(count); ++it) it->test = true;
}

bool by_hash(const Unit& a, const Unit& b) {
  return a.hash < b.hash;
}
// Latest first; equal times in seeded random order.
bool latest_first(const Unit& a, const Unit& b) {
  return a.first_time != b.first_time ? a.first_time > b.first_time : a.hash < b.hash;
}

// The smallest time T such that at most `fraction` of all units (over all ranks) start at or after T.
std::int64_t global_cut_time(comm::Communicator& comm, const std::vector<Unit>& units, double fraction) {
  auto count_from = [&](std::int64_t t) {
    std::uint64_t local =
        std::count_if(units.begin(), units.end(), [&](const Unit& u) { return u.first_time >= t; });
    return comm::allreduce_sum(comm, local);
  };
  std::int64_t low = std::numeric_limits<std::int64_t>::max();
  std::int64_t high = std::numeric_limits<std::int64_t>::min();
  for (const Unit& u : units) {
    low = std::min(low, u.first_time);
    high = std::max(high, u.first_time);
  }
  low = comm::allreduce_min(comm, low);
  high = comm::allreduce_max(comm, high);
  const std::uint64_t total = comm::allreduce_sum(comm, static_cast<std::uint64_t>(units.size()));
  if (total == 0) return std::numeric_limits<std::int64_t>::max();
  const auto allowed = static_cast<std::uint64_t>(std::floor(fraction * static_cast<double>(total)));
  if (count_from(low) <= allowed) return low;
  // count_from(low) > allowed >= count_from(high + 1); keep that invariant while halving [low, high + 1].
  std::int64_t above = high == std::numeric_limits<std::int64_t>::max() ? high : high + 1;
  while (above - low > 1) {
    std::int64_t middle = low + (above - low) / 2;
    if (count_from(middle) <= allowed)
      above = middle;
    else
      low = middle;
  }
  return above;
}

// Few-shot: chooses the probe items and moves all but `shots` of each one's pairs to test. Returns the probe
// items, ascending.
std::vector<ItemIndex> mark_few_shot(comm::Communicator& comm, std::vector<Unit>& units,
                                     const SplitOptions& options) {
  std::uint64_t catalog = 0;
  for (const Unit& u : units) catalog = std::max<std::uint64_t>(catalog, std::uint64_t{u.item} + 1);
  catalog = comm::allreduce_max(comm, catalog);
  std::vector<std::uint64_t> users_per_item(catalog, 0);
  for (const Unit& u : units) ++users_per_item[u.item];
  comm::allreduce(comm, std::span<std::uint64_t>(users_per_item), comm::ReduceOp::kSum);

  // 1. A seeded random probe_fraction of the items with enough users.
  std::vector<ItemIndex> candidates;
  for (std::uint64_t item = 0; item < catalog; ++item)
    if (users_per_item[item] >= options.max_shots + 5) candidates.push_back(static_cast<ItemIndex>(item));
  std::sort(candidates.begin(), candidates.end(), [&](ItemIndex a, ItemIndex b) {
    return seeded_hash(options.seed, a) < seeded_hash(options.seed, b);
  });
  auto probes =
      static_cast<std::size_t>(std::llround(options.probe_fraction * static_cast<double>(candidates.size())));
  candidates.resize(std::min(probes, candidates.size()));
  std::sort(candidates.begin(), candidates.end());
  std::unordered_map<ItemIndex, std::size_t> probe_index;
  for (std::size_t p = 0; p < candidates.size(); ++p) probe_index[candidates[p]] = p;

  // 2. Each probe item keeps the `shots` pairs with the smallest hashes, wherever they lie: every rank
  //    offers its own smallest few, and all agree on the shots-th smallest overall.
  struct Offer {
    std::uint64_t probe;
    std::uint64_t hash;
  };
  std::vector<std::vector<std::uint64_t>> local_hashes(candidates.size());
  for (const Unit& u : units)
    if (auto found = probe_index.find(u.item); found != probe_index.end())
      local_hashes[found->second].push_back(u.hash);
  std::vector<Offer> offers;
  for (std::size_t p = 0; p < candidates.size(); ++p) {
    auto& hashes = local_hashes[p];
    std::sort(hashes.begin(), hashes.end());
    for (std::size_t i = 0; i < std::min(options.shots, hashes.size()); ++i) offers.push_back({p, hashes[i]});
  }
  auto all_offers = comm::allgatherv(comm, std::span<const Offer>(offers));
  std::vector<std::vector<std::uint64_t>> kept(candidates.size());
  for (const Offer& offer : all_offers) kept[offer.probe].push_back(offer.hash);
  std::vector<std::uint64_t> largest_kept(candidates.size(), 0);
  std::vector<bool> keeps_any(candidates.size(), false);
  for (std::size_t p = 0; p < candidates.size(); ++p) {
    std::sort(kept[p].begin(), kept[p].end());
    if (options.shots > 0 && !kept[p].empty()) {
      largest_kept[p] = kept[p][std::min(options.shots, kept[p].size()) - 1];
      keeps_any[p] = true;
    }
  }
  for (Unit& u : units)
    if (auto found = probe_index.find(u.item); found != probe_index.end())
      u.test = !(keeps_any[found->second] && u.hash <= largest_kept[found->second]);
  return candidates;
}

void check_options(const SplitOptions& options) {
  auto fraction_ok = [](double f) { return f >= 0 && f < 1; };
  if ((options.method == SplitMethod::kRandom || options.method == SplitMethod::kTemporal) &&
      !fraction_ok(options.test_fraction))
    throw Error(fmt::format("--test-fraction must lie in [0, 1), not {}", options.test_fraction));
  if (options.method == SplitMethod::kLeaveKOut && options.k == 0)
    throw Error("--k must be at least 1 for leave-k-out");
  if (options.method == SplitMethod::kFewShot) {
    if (!(options.probe_fraction > 0 && options.probe_fraction <= 1))
      throw Error(fmt::format("--probe-fraction must lie in (0, 1], not {}", options.probe_fraction));
    if (options.shots > options.max_shots)
      throw Error(
          fmt::format("--shots ({}) must not exceed --max-shots ({})", options.shots, options.max_shots));
  }
}

}  // namespace

SplitMethod parse_split_method(const std::string& name) {
  if (name == "random") return SplitMethod::kRandom;
  if (name == "leave-k-out") return SplitMethod::kLeaveKOut;
  if (name == "temporal") return SplitMethod::kTemporal;
  if (name == "few-shot") return SplitMethod::kFewShot;
  throw Error(fmt::format("unknown split method '{}' (use random, leave-k-out, temporal or few-shot)", name));
}

std::string split_method_name(SplitMethod method) {
  switch (method) {
    case SplitMethod::kRandom:
      return "random";
    case SplitMethod::kLeaveKOut:
      return "leave-k-out";
    case SplitMethod::kTemporal:
      return "temporal";
    case SplitMethod::kFewShot:
      return "few-shot";
  }
  return "?";
}

Split split_interactions(Context& ctx, std::vector<Interaction> interactions, const SplitOptions& options) {
  check_options(options);
  comm::Communicator& comm = ctx.comm();
  std::vector<Interaction> grouped = group_by_user(comm, std::move(interactions));
  std::vector<Unit> units = units_of(grouped, options.seed);

  Split split;
  switch (options.method) {
    case SplitMethod::kRandom:
      for_each_user(units, [&](auto first, auto last) {
        mark_first(first, last, test_count_for(options.test_fraction, last - first), by_hash);
      });
      break;
    case SplitMethod::kLeaveKOut:
      for_each_user(units, [&](auto first, auto last) {
        std::size_t pairs = last - first;
        mark_first(first, last, pairs > options.k ? options.k : 0, by_hash);
      });
      break;
    case SplitMethod::kTemporal:
      if (options.global_time) {
        std::int64_t cut = global_cut_time(comm, units, options.test_fraction);
        for (Unit& u : units) u.test = u.first_time >= cut;
      } else {
        for_each_user(units, [&](auto first, auto last) {
          mark_first(first, last, test_count_for(options.test_fraction, last - first), latest_first);
        });
      }
      break;
    case SplitMethod::kFewShot:
      split.probe_items = mark_few_shot(comm, units, options);
      break;
  }

  // Units were reordered within users; emit them in (user, item) order again.
  std::sort(units.begin(), units.end(), [](const Unit& a, const Unit& b) { return a.begin < b.begin; });
  for (const Unit& u : units) {
    auto& side = u.test ? split.test : split.train;
    side.insert(side.end(), grouped.begin() + static_cast<std::ptrdiff_t>(u.begin),
                grouped.begin() + static_cast<std::ptrdiff_t>(u.end));
  }
  return split;
}

}  // namespace tailflow::ops::split
