// Counter-based random streams: the key to data that does not depend on the rank count.
//
// A stream is named by (seed, kind of entity, entity id[, sub-stream]) and its n-th number is a pure function
// of that name and n: splitmix64's output function applied to key + n * golden_gamma. So what item 123 or
// user 45 gets is the same whichever rank makes it, in whatever order, on 1 rank or 100 — no generator state
// is ever shared or skipped ahead. (Streams of different keys are shifted copies of one 2^64-long sequence;
// with hashed 64-bit keys, two streams overlap within a few thousand draws with probability ~ 2^-40.)
//
// The transforms (uniform, normal, ...) use only IEEE arithmetic and libm calls on the values of that one
// stream, so the same binary gives bit-identical floating-point values on every rank.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

#include "engine/stable_hash.hpp"

namespace tailflow::ops::datagen {

// The splitmix64 output function (Steele, Lea & Flood 2014): a bijective mix with full avalanche.
constexpr std::uint64_t splitmix64(std::uint64_t x) { return mix64(x); }

// Order-sensitive combination of two 64-bit values into one well-mixed key.
constexpr std::uint64_t mix_key(std::uint64_t key, std::uint64_t value) {
  return splitmix64(key ^ splitmix64(value + 0x632be59bd9b4e019ULL));
}

// What kind of entity a stream belongs to. Each kind has its own family of streams, so adding draws to one
// kind never changes another kind's values.
enum class StreamKind : std::uint64_t {
  kBrand = 1,
  kItem = 2,
  kItemPopularity = 3,
  kUser = 4,
  kUserEvents = 5,
  kEmbedding = 6,         // fixed embeddings of categories, departments, attribute words
  kPixelProjection = 7,   // the fixed random projection of photo pixels
  kPhotoPermutation = 8,  // which photo each item gets
  kBrandNames = 9,
};

class CounterRng {
 public:
  CounterRng(std::uint64_t seed, StreamKind kind, std::uint64_t id, std::uint64_t sub_stream = 0)
      : key_(mix_key(mix_key(mix_key(seed, static_cast<std::uint64_t>(kind)), id), sub_stream)) {}

  // The n-th number of the stream, without advancing it.
  std::uint64_t at(std::uint64_t n) const { return splitmix64(key_ + n * 0x9e3779b97f4a7c15ULL); }

  std::uint64_t next_u64() { return at(counter_++); }

  // Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  // Uniform in (0, 1]: safe to take the logarithm of.
  double uniform_positive() { return static_cast<double>((next_u64() >> 11) + 1) * 0x1.0p-53; }

  // Uniform integer in [0, n) by Lemire's multiply-shift (bias below 2^-64 * n: irrelevant here).
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next_u64()) * n) >> 64);
  }

  bool bernoulli(double p) { return uniform() < p; }

  // Standard normal by Box–Muller (one value per call: no cached state, so every draw costs the same).
  double normal() {
    double radius = std::sqrt(-2.0 * std::log(uniform_positive()));
    return radius * std::cos(2.0 * std::numbers::pi * uniform());
  }

  double exponential(double mean) { return -mean * std::log(uniform_positive()); }

  std::uint64_t draws() const { return counter_; }

 private:
  std::uint64_t key_;
  std::uint64_t counter_ = 0;
};

}  // namespace tailflow::ops::datagen
