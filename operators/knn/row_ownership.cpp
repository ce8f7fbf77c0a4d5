#include "operators/knn/row_ownership.hpp"

#include <algorithm>
#include <iterator>

#include "engine/comm/collectives.hpp"

namespace tailflow::ops::knn {

RowOwnership::RowOwnership(comm::Communicator& comm, std::uint64_t first_row, std::uint64_t row_count) {
  struct Slice {
    std::uint64_t first;
    std::uint64_t count;
  };
  auto slices = comm::allgather_value(comm, Slice{first_row, row_count});
  for (int rank = 0; rank < comm.size(); ++rank)
    if (slices[rank].count > 0) ranges_.push_back({slices[rank].first, slices[rank].count, rank});
  std::sort(ranges_.begin(), ranges_.end(), [](const Range& a, const Range& b) { return a.first < b.first; });
}

std::pair<int, std::uint64_t> RowOwnership::locate(std::uint64_t row) const {
  auto after = std::upper_bound(ranges_.begin(), ranges_.end(), row,
                                [](std::uint64_t value, const Range& range) { return value < range.first; });
  if (after == ranges_.begin()) return {-1, 0};
  const Range& range = *std::prev(after);
  if (row - range.first >= range.count) return {-1, 0};
  return {range.rank, row - range.first};
}

}  // namespace tailflow::ops::knn
