// Initial factors, seeded by entity: row values are a pure function of (seed, side, original index), so a
// run starts from the same point on any number of ranks and with any order of the input.
#pragma once

#include <cstdint>
#include <span>

#include "operators/als/factor_matrix.hpp"

namespace tailflow::ops::als {

enum class Side : std::uint64_t { kUsers = 1, kItems = 2 };

// Normally distributed with variance 1/factors, so that initial predictions x·y are of order 1/√factors.
float initial_factor(std::uint64_t seed, Side side, std::uint32_t external_index, int factor, int factors);

// Fills the first `factors` values of row r from external_ids[r]; the rest of each row (a bias) is zero.
void initialise_factors(FactorMatrix& rows, std::span<const std::uint32_t> external_ids, Side side,
                        std::uint64_t seed, int factors);

}  // namespace tailflow::ops::als
