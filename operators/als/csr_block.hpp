// One rank's rows of the interaction matrix in compressed sparse row form.
//
// The user block holds the rank's users as rows and items as columns; the item block the rank's items as
// rows and users as columns: every interaction is stored twice, once on the owner of its user and once on
// the owner of its item (like Spark's in-blocks), so both half-steps read their rows locally. Columns are
// internal (relabelled) indices of the other side; within a row they are sorted, which fixes the order of
// every floating-point sum independently of the number of ranks.
#pragma once

#include <cstdint>
#include <vector>

namespace tailflow::ops::als {

struct CsrBlock {
  std::uint32_t first_row = 0;         // internal index of local row 0
  std::vector<std::uint64_t> row_ptr;  // rows() + 1 offsets into cols / values
  std::vector<std::uint32_t> cols;     // internal indices of the other side
  std::vector<float> values;

  std::size_t rows() const { return row_ptr.empty() ? 0 : row_ptr.size() - 1; }
  std::uint64_t nnz() const { return row_ptr.empty() ? 0 : row_ptr.back(); }
  std::uint32_t row_nnz(std::size_t row) const {
    return static_cast<std::uint32_t>(row_ptr[row + 1] - row_ptr[row]);
  }
  std::size_t bytes() const {
    return row_ptr.capacity() * sizeof(std::uint64_t) + cols.capacity() * sizeof(std::uint32_t) +
           values.capacity() * sizeof(float);
  }
};

}  // namespace tailflow::ops::als
