// Factor vectors as one contiguous, row-major float array with rows padded to 64 bytes.
//
// Padding each row to a multiple of 16 floats puts every row on its own cache lines, so the solver's
// gathers of other-side rows never split a vector across lines, and fixed-size Eigen maps can assume
// 64-byte alignment. Rows may carry one more value than the factors (the bias, for explicit feedback with
// biases): `dims` is what is stored per row, `stride` what a row occupies.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace tailflow::ops::als {

using RowMajorMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class FactorMatrix {
 public:
  static constexpr std::size_t kAlignment = 64;
  static int stride_for(int dims) { return (dims + 15) / 16 * 16; }

  FactorMatrix() = default;
  // Zero-filled.
  FactorMatrix(std::size_t rows, int dims);
  // `rows` rows that live in memory owned elsewhere (a node-shared region), 64-byte aligned, with this
  // class's stride: read and written in place, never freed here.
  static FactorMatrix view(float* rows, std::size_t count, int dims);

  std::size_t rows() const { return rows_; }
  int dims() const { return dims_; }
  int stride() const { return stride_; }
  std::size_t bytes() const { return rows_ * static_cast<std::size_t>(stride_) * sizeof(float); }

  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  float* row(std::size_t i) { return data_.get() + i * static_cast<std::size_t>(stride_); }
  const float* row(std::size_t i) const { return data_.get() + i * static_cast<std::size_t>(stride_); }

  // The first `columns` values of every row, unpadded.
  RowMajorMatrix to_eigen(int columns) const;

 private:
  struct Free {
    // A constructor, not a default member initialiser: those are not usable before the enclosing class is
    // complete, and unique_ptr's default constructor needs Free default-constructible there.
    Free() : owned(true) {}
    explicit Free(bool owns) : owned(owns) {}
    bool owned;  // false for a view
    void operator()(float* p) const;
  };
  std::size_t rows_ = 0;
  int dims_ = 0;
  int stride_ = 0;
  std::unique_ptr<float[], Free> data_;
};

}  // namespace tailflow::ops::als
