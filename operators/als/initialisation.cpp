#include "operators/als/initialisation.hpp"

#include <cmath>
#include <numbers>

#include "engine/stable_hash.hpp"

namespace tailflow::ops::als {
namespace {

// SplitMix64: a strong 64-bit mixer, so nearby indices give unrelated values.
constexpr std::uint64_t mix(std::uint64_t x) { return mix64(x); }

// Uniform in (0, 1): the top 53 bits, offset by half a step so that 0 never occurs.
double unit_interval(std::uint64_t bits) {
  return (static_cast<double>(bits >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

}  // namespace

float initial_factor(std::uint64_t seed, Side side, std::uint32_t external_index, int factor, int factors) {
  std::uint64_t key = mix(mix(mix(seed) ^ static_cast<std::uint64_t>(side)) ^ external_index);
  key = mix(key ^ static_cast<std::uint64_t>(factor));
  // Box–Muller from two independent uniforms.
  double u1 = unit_interval(key);
  double u2 = unit_interval(mix(key));
  double normal = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  return static_cast<float>(normal / std::sqrt(static_cast<double>(factors)));
}

void initialise_factors(FactorMatrix& rows, std::span<const std::uint32_t> external_ids, Side side,
                        std::uint64_t seed, int factors) {
  for (std::size_t r = 0; r < rows.rows(); ++r) {
    float* row = rows.row(r);
    for (int f = 0; f < factors; ++f) row[f] = initial_factor(seed, side, external_ids[r], f, factors);
    for (int f = factors; f < rows.dims(); ++f) row[f] = 0;
  }
}

}  // namespace tailflow::ops::als
