// Cholesky factorisation and solve of one small dense system in double, without allocations.
//
// The ALS Cholesky solver factors one system per row (up to k × k). Eigen's LLT runs its blocked algorithm
// for such sizes, with general-product calls and heap work buffers per system; the left-looking column loop
// here has no calls and no allocations.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tailflow::ops::als {

using Double8 = double __attribute__((vector_size(64)));

inline double dot_product(const double* x, const double* y, int length) {
  Double8 a0{}, a1{}, a2{}, a3{};
  Double8 vx, vy;
  int p = 0;
  auto step = [&](Double8& acc, int offset) {
    std::memcpy(&vx, x + offset, sizeof(vx));
    std::memcpy(&vy, y + offset, sizeof(vy));
    acc += vx * vy;
  };
  for (; p + 32 <= length; p += 32) {
    step(a0, p);
    step(a1, p + 8);
    step(a2, p + 16);
    step(a3, p + 24);
  }
  for (; p + 8 <= length; p += 8) step(a0, p);
  const Double8 sum = (a0 + a1) + (a2 + a3);
  double total = 0;
  for (int i = 0; i < 8; ++i) total += sum[i];
  for (; p < length; ++p) total += x[p] * y[p];
  return total;
}

// Rows [first, first + 8·R) of column j, minus Σ_{p<j} L_jp · (column p), with the R vectors of the column
// held in registers across all earlier columns (one load and one multiply-add per vector and column).
template <int R>
inline void subtract_earlier_columns(double* a, int ld, int j, int first) {
  Double8 sum[R];
  double* column = a + static_cast<long>(j) * ld + first;
  for (int q = 0; q < R; ++q) std::memcpy(&sum[q], column + 8 * q, sizeof(Double8));
  for (int p = 0; p < j; ++p) {
    const double* earlier = a + static_cast<long>(p) * ld;
    const double factor = earlier[j];
    for (int q = 0; q < R; ++q) {
      Double8 v;
      std::memcpy(&v, earlier + first + 8 * q, sizeof(v));
      sum[q] -= v * factor;
    }
  }
  for (int q = 0; q < R; ++q) std::memcpy(column + 8 * q, &sum[q], sizeof(Double8));
}

// `a` is n × n, column-major with column stride `ld`, a multiple of 8 that is at least n; only its lower
// triangle is read, the rest of each column is scratch. On success its lower triangle holds L with A = LLᵀ
// and `inverse_diagonal[i]` = 1 / L_ii; false if A is not positive definite.
// Left-looking by columns: column j of L is column j of A minus a combination of the earlier columns,
// computed 8 rows to a vector from the aligned row j & ~7 down to `ld` (rows above j are scratch).
inline bool cholesky_factor_lower(double* a, int n, int ld, double* inverse_diagonal) {
  for (int j = 0; j < n; ++j) {
    for (int first = j & ~7; first < ld; first += 32) {
      switch (std::min(4, (ld - first) / 8)) {
        case 4:
          subtract_earlier_columns<4>(a, ld, j, first);
          break;
        case 3:
          subtract_earlier_columns<3>(a, ld, j, first);
          break;
        case 2:
          subtract_earlier_columns<2>(a, ld, j, first);
          break;
        default:
          subtract_earlier_columns<1>(a, ld, j, first);
          break;
      }
    }
    double* column = a + static_cast<long>(j) * ld;
    const double pivot = column[j];
    if (!(pivot > 0)) return false;
    column[j] = std::sqrt(pivot);
    inverse_diagonal[j] = 1.0 / column[j];
    for (int i = j + 1; i < n; ++i) column[i] *= inverse_diagonal[j];
  }
  return true;
}

// Solves LLᵀ x = b in place (b → x) with the factor of cholesky_factor_lower.
inline void cholesky_solve_lower(const double* l, int n, int ld, const double* inverse_diagonal, double* b) {
  for (int j = 0; j < n; ++j) {  // L y = b, by columns of L
    const double* column = l + static_cast<long>(j) * ld;
    b[j] *= inverse_diagonal[j];
    for (int i = j + 1; i < n; ++i) b[i] -= b[j] * column[i];
  }
  for (int i = n - 1; i >= 0; --i) {  // Lᵀ x = y: row i of Lᵀ is column i of L
    const double* column = l + static_cast<long>(i) * ld;
    b[i] = (b[i] - dot_product(column + i + 1, b + i + 1, n - i - 1)) * inverse_diagonal[i];
  }
}

}  // namespace tailflow::ops::als
