// Which rank holds which rows, when every rank holds one contiguous slice of a row-partitioned matrix.
//
// The slices are stated by their owners (collectively, once) and may come in any order; empty slices are
// allowed, so there may be more ranks than rows.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "engine/comm/communicator.hpp"

namespace tailflow::ops::knn {

class RowOwnership {
 public:
  // Collective: every rank states its own slice [first_row, first_row + row_count).
  RowOwnership(comm::Communicator& comm, std::uint64_t first_row, std::uint64_t row_count);

  // The rank holding `row` and the row's index in that rank's slice; rank -1 when no rank holds it.
  std::pair<int, std::uint64_t> locate(std::uint64_t row) const;

 private:
  struct Range {
    std::uint64_t first;
    std::uint64_t count;
    int rank;
  };
  std::vector<Range> ranges_;  // non-empty slices, sorted by first row
};

}  // namespace tailflow::ops::knn
