// A random permutation of [0, n) that can be evaluated at any single point.
//
// Items draw their product photo "without replacement" from the catalogue of photos, but no rank holds the
// whole shuffle: item i asks permutation(i) directly. A balanced Feistel network on the smallest even number
// of bits that covers n is a bijection of [0, 2^bits); values that land outside [0, n) are fed through again
// ("cycle walking") until they land inside, which keeps it a bijection of [0, n). Since 2^bits < 4n, that
// takes fewer than four rounds on average.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <stdexcept>

#include "operators/datagen/counter_rng.hpp"

namespace tailflow::ops::datagen {

class KeyedPermutation {
 public:
  KeyedPermutation(std::uint64_t n, std::uint64_t key) : n_(n), key_(key) {
    if (n == 0) throw std::invalid_argument("KeyedPermutation: empty domain");
    int bits = std::max(2, static_cast<int>(std::bit_width(n - 1)));
    half_bits_ = (bits + 1) / 2;
    half_mask_ = (std::uint64_t{1} << half_bits_) - 1;
  }

  std::uint64_t size() const { return n_; }

  // The image of x (x < size()).
  std::uint64_t operator()(std::uint64_t x) const {
    do {
      x = encrypt(x);
    } while (x >= n_);
    return x;
  }

 private:
  static constexpr int kRounds = 4;

  std::uint64_t encrypt(std::uint64_t x) const {
    std::uint64_t left = x >> half_bits_;
    std::uint64_t right = x & half_mask_;
    for (int round = 0; round < kRounds; ++round) {
      std::uint64_t mixed = left ^ (mix_key(key_ + round, right) & half_mask_);
      left = right;
      right = mixed;
    }
    return (left << half_bits_) | right;
  }

  std::uint64_t n_;
  std::uint64_t key_;
  int half_bits_ = 1;
  std::uint64_t half_mask_ = 1;
};

}  // namespace tailflow::ops::datagen
