#include "operators/als/factor_matrix.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include <sys/mman.h>

namespace tailflow::ops::als {

void FactorMatrix::Free::operator()(float* p) const {
  if (owned) std::free(p);
}

FactorMatrix FactorMatrix::view(float* rows, std::size_t count, int dims) {
  FactorMatrix matrix;
  matrix.rows_ = count;
  matrix.dims_ = dims;
  matrix.stride_ = stride_for(dims);
  matrix.data_ = std::unique_ptr<float[], Free>(rows, Free{false});
  return matrix;
}

FactorMatrix::FactorMatrix(std::size_t rows, int dims) : rows_(rows), dims_(dims), stride_(stride_for(dims)) {
  // Large matrices go on 2 MiB pages where the kernel allows it: the solver reads rows of the fixed side
  // all over the matrix, and with 4 KiB pages nearly every such read would also miss the TLB.
  constexpr std::size_t kHugePage = std::size_t{2} << 20;
  const bool huge = bytes() >= kHugePage;
  const std::size_t alignment = huge ? kHugePage : kAlignment;
  // aligned_alloc wants a size that is a multiple of the alignment.
  const std::size_t size = (std::max<std::size_t>(bytes(), 1) + alignment - 1) / alignment * alignment;
  void* memory = std::aligned_alloc(alignment, size);
  if (!memory) throw std::bad_alloc();
  if (huge) madvise(memory, size, MADV_HUGEPAGE);  // a hint: without transparent huge pages nothing changes
  std::memset(memory, 0, size);
  data_.reset(static_cast<float*>(memory));
}

RowMajorMatrix FactorMatrix::to_eigen(int columns) const {
  RowMajorMatrix matrix(rows_, columns);
  for (std::size_t i = 0; i < rows_; ++i)
    for (int j = 0; j < columns; ++j) matrix(i, j) = row(i)[j];
  return matrix;
}

}  // namespace tailflow::ops::als
