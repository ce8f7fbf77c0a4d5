// Seeded hashes for decisions that must not depend on the rank count or the input order.
//
// A split that sends an interaction to "test", or a tie between two equal scores, is decided by a hash of the
// seed and the entities involved, never by where the data happens to lie. SplitMix64's finaliser mixes every
// input bit into every output bit, so nearby ids give unrelated values.
#pragma once

#include <cstdint>

#include "engine/stable_hash.hpp"

namespace tailflow::ops {

using tailflow::mix64;

// Chained mixing: the hash of (seed, a, b, ...) in that order.
constexpr std::uint64_t seeded_hash(std::uint64_t seed, std::uint64_t a) {
  return mix64(mix64(seed) ^ a);
}
constexpr std::uint64_t seeded_hash(std::uint64_t seed, std::uint64_t a, std::uint64_t b) {
  return mix64(seeded_hash(seed, a) ^ b);
}
constexpr std::uint64_t seeded_hash(std::uint64_t seed, std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  return mix64(seeded_hash(seed, a, b) ^ c);
}

// A uniform double in [0, 1) from a hash (its top 53 bits).
constexpr double unit_interval(std::uint64_t hash) {
  return static_cast<double>(hash >> 11) * 0x1.0p-53;
}

}  // namespace tailflow::ops
