#include "operators/als/synthetic_interactions.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/error.hpp"
#include "operators/common/seeded_hash.hpp"

namespace tailflow::ops::als {
namespace {

// A seeded bijection of 0..n-1: x -> (a·x + b) mod n with a coprime to n.
class AffinePermutation {
 public:
  AffinePermutation(std::uint64_t n, std::uint64_t seed) : n_(std::max<std::uint64_t>(n, 1)) {
    a_ = seeded_hash(seed, 1) % n_;
    while (std::gcd(a_, n_) != 1) a_ = (a_ + 1) % n_;
    b_ = seeded_hash(seed, 2) % n_;
  }
  std::uint64_t operator()(std::uint64_t x) const {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(a_) * x + b_) % n_);
  }

 private:
  std::uint64_t n_, a_ = 1, b_ = 0;
};

enum Stream : std::uint64_t { kUserPermutation = 11, kItemPermutation = 12, kDegree = 13, kDraw = 14 };

}  // namespace

std::vector<Interaction> generate_synthetic_interactions(const SyntheticShape& shape, int rank, int ranks) {
  if (shape.users == 0 || shape.items == 0)
    throw Error("synthetic interactions need at least one user and item");
  if (!(shape.item_exponent >= 0 && shape.item_exponent < 1))
    throw Error("the item popularity exponent must lie in [0, 1)");
  const AffinePermutation activity_rank(shape.users, seeded_hash(shape.seed, kUserPermutation));
  const AffinePermutation item_of_rank(shape.items, seeded_hash(shape.seed, kItemPermutation));
  double total_weight = 0;
  for (std::uint32_t a = 0; a < shape.users; ++a) total_weight += std::pow(a + 1.0, -shape.user_exponent);
  const std::uint32_t max_degree = std::max<std::uint32_t>(1, shape.items / 2);

  // Degree of a user: its expected share, rounded up or down at random so that the total is right on average.
  auto degree_of = [&](std::uint32_t user) {
    double expected = static_cast<double>(shape.nnz) *
                      std::pow(activity_rank(user) + 1.0, -shape.user_exponent) / total_weight;
    double whole = std::floor(expected);
    bool round_up = unit_interval(seeded_hash(shape.seed, kDegree, user)) < expected - whole;
    return std::min<std::uint32_t>(max_degree, static_cast<std::uint32_t>(whole) + (round_up ? 1 : 0));
  };

  const std::uint32_t first =
      static_cast<std::uint32_t>(static_cast<std::uint64_t>(shape.users) * rank / ranks);
  const std::uint32_t last =
      static_cast<std::uint32_t>(static_cast<std::uint64_t>(shape.users) * (rank + 1) / ranks);
  std::uint64_t count = 0;
  for (std::uint32_t user = first; user < last; ++user) count += degree_of(user);
  std::vector<Interaction> interactions;
  interactions.reserve(count);  // exact: no reallocation peaks

  const double inverse_tail = 1.0 / (1.0 - shape.item_exponent);
  std::vector<bool> taken(shape.items, false);
  for (std::uint32_t user = first; user < last; ++user) {
    const std::uint32_t degree = degree_of(user);
    const std::size_t user_begin = interactions.size();
    for (std::uint64_t draw = 0; interactions.size() - user_begin < degree; ++draw) {
      std::uint64_t h = seeded_hash(shape.seed, kDraw, user, draw);
      auto popularity_rank =
          static_cast<std::uint64_t>(shape.items * std::pow(unit_interval(h), inverse_tail));
      auto item =
          static_cast<std::uint32_t>(item_of_rank(std::min<std::uint64_t>(popularity_rank, shape.items - 1)));
      if (taken[item]) continue;
      taken[item] = true;
      interactions.push_back({user, item, static_cast<float>(1 + mix64(h) % 5), 0});
    }
    for (std::size_t i = user_begin; i < interactions.size(); ++i) taken[interactions[i].item] = false;
  }
  return interactions;
}

}  // namespace tailflow::ops::als
