#include "operators/als/communication_model.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "engine/error.hpp"
#include "operators/als/factor_matrix.hpp"
#include "operators/als/row_ranges.hpp"

namespace tailflow::ops::als {
namespace {

// Rows whose values differ by less than this factor share one run: the sums below then cost O(runs), not
// O(rows), which keeps a projection to 10 M users and 1024 ranks cheap, at an error far below the model's.
constexpr double kRunTolerance = 1.002;
// Above this expected degree the spread of the realized degree no longer changes the order of the rows
// that matters (a heavy row stays heavy), so a run keeps one class at its expected degree.
constexpr double kSpreadDegreeLimit = 60;

// Runs of a descending per-row value; each run stores the mean of its rows' values in `field`.
std::vector<RateRun> runs_of(std::uint64_t rows, const std::function<double(std::uint64_t)>& value,
                             double RateRun::*field) {
  std::vector<RateRun> runs;
  double first = 0;
  double sum = 0;
  for (std::uint64_t row = 0; row < rows; ++row) {
    const double v = value(row);
    if (runs.empty() || v * kRunTolerance < first) {
      if (!runs.empty()) runs.back().*field = sum / static_cast<double>(runs.back().rows);
      runs.push_back({});
      first = v;
      sum = 0;
    }
    ++runs.back().rows;
    sum += v;
  }
  if (!runs.empty()) runs.back().*field = sum / static_cast<double>(runs.back().rows);
  return runs;
}

// P(user of draw count t holds an item of popularity p).
double held(double t, double p) {
  return -std::expm1(-t * p);
}

// The draw count t with Σ_j (1 − exp(−p_j t)) = degree: concave and increasing in t, and t = degree is
// below the root (1 − e^−x ≤ x, Σ p = 1), so Newton's method climbs to it monotonically.
double draws_for_degree(double degree, const std::vector<RateRun>& items) {
  double t = degree;
  for (int step = 0; step < 100; ++step) {
    double f = -degree;
    double slope = 0;
    for (const RateRun& run : items) {
      const auto n = static_cast<double>(run.rows);
      f += n * held(t, run.rate);
      slope += n * run.rate * std::exp(-run.rate * t);
    }
    if (slope <= 0) break;
    const double next = t - f / slope;
    if (!(next > t * (1 + 1e-12))) return std::max(t, next);
    t = next;
  }
  return t;
}

// Classes of a side whose realized degree is the expected one rounded down or up at random (users).
std::vector<DegreeClass> rounded_classes(const std::vector<RateRun>& runs) {
  std::vector<DegreeClass> classes;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const double rows = static_cast<double>(runs[r].rows);
    const double whole = std::floor(runs[r].degree);
    const double up = runs[r].degree - whole;
    if (runs[r].degree > kSpreadDegreeLimit || up == 0) {
      classes.push_back({r, runs[r].degree, rows});
      continue;
    }
    classes.push_back({r, whole, rows * (1 - up)});
    classes.push_back({r, whole + 1, rows * up});
  }
  return classes;
}

// Classes of a side whose realized degree is Poisson around the expected one (items).
std::vector<DegreeClass> poisson_classes(const std::vector<RateRun>& runs) {
  std::vector<DegreeClass> classes;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const double rows = static_cast<double>(runs[r].rows);
    const double mean = runs[r].degree;
    if (mean > kSpreadDegreeLimit) {
      classes.push_back({r, mean, rows});
      continue;
    }
    const int last = static_cast<int>(mean + 10 * std::sqrt(mean) + 10);
    double probability = std::exp(-mean);
    double kept = 0;
    const std::size_t first = classes.size();
    for (int k = 0; k <= last; ++k) {
      if (k > 0) probability *= mean / k;
      if (probability > 1e-12) {
        classes.push_back({r, static_cast<double>(k), probability});
        kept += probability;
      }
    }
    for (std::size_t c = first; c < classes.size(); ++c) classes[c].rows *= rows / kept;
  }
  return classes;
}

void sort_by_degree(std::vector<DegreeClass>& classes) {
  std::stable_sort(classes.begin(), classes.end(),
                   [](const DegreeClass& a, const DegreeClass& b) { return a.degree > b.degree; });
}

// One side in layout order, cut into cost-balanced ranges as RowRanges::balanced_by_cost cuts the rows:
// rank r starts where the rows before it cost r/P of the total (here on a continuous scale: the cut may
// fall inside a class, at most one row away from the real cut). Classes of equal degree form one group,
// since the layout breaks ties by original index, which is unrelated to the runs: a cut through a group
// takes the same share of each of its classes.
class RankedSide {
 public:
  RankedSide(const SideModel& side, int ranks, const RowCost& row_cost) : side_(side), ranks_(ranks) {
    const auto& classes = side.classes;
    double cost = 0;
    for (std::size_t c = 0; c < classes.size(); ++c) {
      if (c == 0 || classes[c].degree != classes[c - 1].degree) {
        group_begin_.push_back(c);
        group_cost_start_.push_back(cost);
      }
      group_of_.push_back(group_begin_.size() - 1);
      cost += classes[c].rows * row_cost(classes[c].degree);
    }
    group_begin_.push_back(classes.size());
    group_cost_start_.push_back(cost);
    for (int r = 0; r <= ranks; ++r) cuts_.push_back(cost * r / ranks);
  }

  const SideModel& side() const { return side_; }
  int ranks() const { return ranks_; }

  // The share of class c's rows that rank r owns.
  double share(std::size_t c, int r) const {
    const std::size_t g = group_of_[c];
    const double begin = group_cost_start_[g];
    const double end = group_cost_start_[g + 1];
    if (end <= begin) return r == ranks_ - 1 ? 1.0 : 0.0;
    return std::clamp((std::min(end, cuts_[r + 1]) - std::max(begin, cuts_[r])) / (end - begin), 0.0, 1.0);
  }

  // The classes that rank r owns a part of: [first, last).
  std::pair<std::size_t, std::size_t> classes_of(int r) const {
    auto group_at = [&](double x) {
      return static_cast<std::size_t>(
          std::upper_bound(group_cost_start_.begin(), group_cost_start_.end(), x) -
          group_cost_start_.begin());
    };
    const std::size_t first_group = group_at(cuts_[r]) - 1;
    const std::size_t last_group = std::min(group_at(cuts_[r + 1]), group_begin_.size() - 1);
    return {group_begin_[std::min(first_group, group_begin_.size() - 1)], group_begin_[last_group]};
  }

  double owned_rows(int r) const {
    double rows = 0;
    auto [first, last] = classes_of(r);
    for (std::size_t c = first; c < last; ++c) rows += share(c, r) * side_.classes[c].rows;
    return rows;
  }

 private:
  const SideModel& side_;
  int ranks_;
  std::vector<std::size_t> group_of_;     // class -> group
  std::vector<std::size_t> group_begin_;  // group -> first class (one past the last group: size)
  std::vector<double> group_cost_start_;  // group -> cost of the rows before it
  std::vector<double> cuts_;              // rank r owns costs [cuts_[r], cuts_[r + 1])
};

// Per run of `side`: Σ over rank r's classes of share × rows × realized / expected degree, i.e. how many
// rows' worth of the run's interactions rank r holds. Only the runs that rank r touches appear.
std::map<std::size_t, double> owned_interaction_weight(const RankedSide& side, int r) {
  std::map<std::size_t, double> weight;
  auto [first, last] = side.classes_of(r);
  for (std::size_t c = first; c < last; ++c) {
    const DegreeClass& cls = side.side().classes[c];
    const double expected = side.side().runs[cls.run].degree;
    if (expected > 0) weight[cls.run] += side.share(c, r) * cls.rows * cls.degree / expected;
  }
  return weight;
}

// How one fixed-side row of a run meets one rank's block: `inside` = its expected partners in the block
// (items of the user inside the block's range, or holders of the item among the block's users), of
// `expected` in all, and log P(no partner in the block) before knowing the row's realized degree.
struct Overlap {
  double inside = 0;
  double expected = 0;
  double log_none = 0;
};

// P(a row of realized degree k has no partner in the block). With partners independent, and their counts
// nearly Poisson, knowing that the row has exactly k partners in all turns exp(log_none) into
// exp(log_none + inside) · (1 − inside / expected)^k: for many small chances this is (1 − π)^k, the share π
// drawn k times; for one near-certain partner (a heavy user in a block) it stays 1 − q.
double miss_probability(const Overlap& overlap, double k) {
  if (overlap.expected <= 0 || k <= 0) return 1.0;
  const double share = std::clamp(overlap.inside / overlap.expected, 0.0, 1.0);
  return std::clamp(std::exp(overlap.log_none + overlap.inside) * std::pow(1 - share, k), 0.0, 1.0);
}

// The fixed side's rows that rank r's block references and another rank owns.
double remote_referenced_rows(const RankedSide& fixed, int r, const std::vector<Overlap>& overlap_by_run) {
  double rows = 0;
  const auto& classes = fixed.side().classes;
  for (std::size_t c = 0; c < classes.size(); ++c) {
    const double miss = miss_probability(overlap_by_run[classes[c].run], classes[c].degree);
    rows += (1 - fixed.share(c, r)) * classes[c].rows * (1 - miss);
  }
  return rows;
}

// One half-step: `solving` holds the blocks, `fixed` the rows that travel. For every fixed-side run, the
// block's runs with their weights (owned_interaction_weight) meet it as an Overlap: a partner pair (user
// of draw count t, item of popularity p) is held with probability 1 − exp(−t p).
ExchangeTraffic exchange_traffic(const RankedSide& solving, const RankedSide& fixed, double row_bytes) {
  ExchangeTraffic traffic;
  const double fixed_rows = static_cast<double>(fixed.side().rows());
  const auto& fixed_runs = fixed.side().runs;
  const auto& solving_runs = solving.side().runs;
  std::vector<Overlap> overlap(fixed_runs.size());
  for (int r = 0; r < solving.ranks(); ++r) {
    const std::map<std::size_t, double> weight = owned_interaction_weight(solving, r);
    for (std::size_t f = 0; f < fixed_runs.size(); ++f) {
      overlap[f] = Overlap{0, fixed_runs[f].degree, 0};
      for (const auto& [run, rows] : weight) {
        overlap[f].inside += rows * held(solving_runs[run].rate, fixed_runs[f].rate);
        overlap[f].log_none -= rows * solving_runs[run].rate * fixed_runs[f].rate;  // log(1 − q) = −t p
      }
    }
    const double remote = row_bytes * remote_referenced_rows(fixed, r, overlap);
    const double not_owned = row_bytes * (fixed_rows - fixed.owned_rows(r));
    traffic.targeted_bytes += remote;
    traffic.broadcast_bytes += not_owned;
    traffic.targeted_max_rank_bytes = std::max(traffic.targeted_max_rank_bytes, remote);
    traffic.broadcast_max_rank_bytes = std::max(traffic.broadcast_max_rank_bytes, not_owned);
  }
  return traffic;
}

}  // namespace

double ExchangeTraffic::bytes(ExchangeMode mode) const {
  if (mode == ExchangeMode::kShared) return 0;  // nothing moves: the ranks read one node-shared copy
  if (mode == ExchangeMode::kAuto)
    mode = targeted_bytes < broadcast_bytes ? ExchangeMode::kTargeted : ExchangeMode::kBroadcast;
  return mode == ExchangeMode::kTargeted ? targeted_bytes : broadcast_bytes;
}

double ExchangeTraffic::max_rank_bytes(ExchangeMode mode) const {
  if (mode == ExchangeMode::kShared) return 0;
  if (mode == ExchangeMode::kAuto)
    mode = targeted_bytes < broadcast_bytes ? ExchangeMode::kTargeted : ExchangeMode::kBroadcast;
  return mode == ExchangeMode::kTargeted ? targeted_max_rank_bytes : broadcast_max_rank_bytes;
}

std::uint64_t SideModel::rows() const {
  std::uint64_t total = 0;
  for (const RateRun& run : runs) total += run.rows;
  return total;
}

double SideModel::interactions() const {
  double sum = 0;
  for (const RateRun& run : runs) sum += static_cast<double>(run.rows) * run.degree;
  return sum;
}

InteractionGraphModel InteractionGraphModel::synthetic(const SyntheticShape& shape) {
  if (shape.users == 0 || shape.items == 0) throw Error("the communication model needs users and items");
  if (!(shape.item_exponent >= 0 && shape.item_exponent < 1))
    throw Error("the item popularity exponent must lie in [0, 1)");
  // Users in activity order, with the generator's expected degrees and cap.
  double total_weight = 0;
  for (std::uint32_t a = 0; a < shape.users; ++a) total_weight += std::pow(a + 1.0, -shape.user_exponent);
  const double cap = std::max<std::uint32_t>(1, shape.items / 2);
  InteractionGraphModel graph;
  graph.users.runs = runs_of(
      shape.users,
      [&](std::uint64_t a) {
        return std::min(
            cap, static_cast<double>(shape.nnz) * std::pow(a + 1.0, -shape.user_exponent) / total_weight);
      },
      &RateRun::degree);
  // Items in popularity order: P(popularity rank < q) = (q / items)^(1 − exponent).
  const double items = shape.items;
  const double tail = 1 - shape.item_exponent;
  graph.items.runs = runs_of(
      shape.items,
      [&](std::uint64_t q) { return std::pow((q + 1.0) / items, tail) - std::pow(q / items, tail); },
      &RateRun::rate);
  for (RateRun& run : graph.users.runs)
    run.rate = draws_for_degree(std::min(run.degree, items - 0.5), graph.items.runs);
  for (RateRun& item : graph.items.runs) {
    item.degree = 0;
    for (const RateRun& user : graph.users.runs)
      item.degree += static_cast<double>(user.rows) * held(user.rate, item.rate);
  }
  graph.users.classes = rounded_classes(graph.users.runs);
  graph.items.classes = poisson_classes(graph.items.runs);
  sort_by_degree(graph.users.classes);
  sort_by_degree(graph.items.classes);
  return graph;
}

IterationTraffic predict_iteration_traffic(const InteractionGraphModel& graph, int ranks, int factors,
                                           bool biases, bool implicit, SolverKind solver) {
  if (ranks < 1) throw Error("the communication model needs at least one rank");
  IterationTraffic traffic;
  if (ranks == 1) return traffic;  // one rank reads its factors in place
  const double row_bytes = FactorMatrix::stride_for(factors + (biases ? 1 : 0)) * sizeof(float);
  const RowCost row_cost = RowCost::for_solver(solver, factors);
  const RankedSide users(graph.users, ranks, row_cost);
  const RankedSide items(graph.items, ranks, row_cost);
  traffic.user_step = exchange_traffic(users, items, row_bytes);  // users solved, item factors travel
  traffic.item_step = exchange_traffic(items, users, row_bytes);  // items solved, user factors travel
  if (implicit) {
    const double gram_bytes = static_cast<double>(factors) * factors * sizeof(double);
    traffic.gram_bytes_per_rank = 2 * 2.0 * (ranks - 1) / ranks * gram_bytes;
  }
  return traffic;
}

}  // namespace tailflow::ops::als
