// Renumbering the rows of one side by descending number of interactions.
//
// The solver keeps the factors of the other side in one array indexed by row number. Numbering the
// busiest rows first packs the factors that almost every row reads into a small, cache-resident prefix of
// that array, and the cost-balanced ranges (row_ranges.hpp) stay contiguous. The numbering depends only on
// the global degrees (ties broken by the original index), so it is the same on any number of ranks.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace tailflow::ops::als {

struct DegreeRelabeling {
  std::vector<std::uint32_t> to_external;  // internal row -> original index
  std::vector<std::uint32_t> to_internal;  // original index -> internal row

  static DegreeRelabeling by_descending_degree(std::span<const std::uint32_t> external_degrees);
};

}  // namespace tailflow::ops::als
