// The lower triangle of A += HᵀH for a block H of gathered rows, in float, in register tiles.
//
// The Cholesky solver forms each long row's k × k matrix from blocks of up to a few hundred gathered,
// √w-scaled fixed-side rows. A general product computes both triangles of a symmetric result; this kernel
// computes only the 16 × 16 tiles on or below the diagonal (10 of the 16 tiles for k = 64) and keeps each
// tile in 16 vector registers while it runs over the block's rows: one vector load of H's row and 16
// broadcast multiply-adds per row and tile. For k a multiple of 16 only.
#pragma once

#include <cstring>

namespace tailflow::ops::als {

using Float16 = float __attribute__((vector_size(64)));

inline Float16 load16(const float* p) {
  Float16 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline void store16(float* p, Float16 v) {
  std::memcpy(p, &v, sizeof(v));
}

// `lower` is k × k, row-major (`k` floats a row): on return, the tiles (i, j) with i ≥ j hold their old
// value plus Σ_r h_r,i · h_r,j. `h` has `count` rows of `k` floats. Tiles above the diagonal are not touched.
template <int K>
void add_lower_gram(const float* h, int count, float* lower) {
  static_assert(K % 16 == 0);
  for (int column = 0; column < K; column += 16) {
    for (int row = column; row < K; row += 16) {
      Float16 tile[16];
      for (int i = 0; i < 16; ++i) tile[i] = load16(lower + (row + i) * K + column);
      // Pointers, not h[r·K + row + i]: with 16 separate int indices GCC runs out of registers and spills
      // them (measured: a third of the kernel's time); one pointer gives 16 constant displacements.
      const float* across = h + row;  // h_r,row … h_r,row+15
      const float* down = h + column;
      for (int r = 0; r < count; ++r, across += K, down += K) {
        const Float16 y = load16(down);
        for (int i = 0; i < 16; ++i) tile[i] += across[i] * y;
      }
      for (int i = 0; i < 16; ++i) store16(lower + (row + i) * K + column, tile[i]);
    }
  }
}

// The same for a width known only at run time (a multiple of 16; `lower` is width × width).
inline void add_lower_gram(const float* h, int count, int width, float* lower) {
  for (int column = 0; column < width; column += 16) {
    for (int row = column; row < width; row += 16) {
      Float16 tile[16];
      for (int i = 0; i < 16; ++i) tile[i] = load16(lower + (row + i) * width + column);
      const float* across = h + row;
      const float* down = h + column;
      for (int r = 0; r < count; ++r, across += width, down += width) {
        const Float16 y = load16(down);
        for (int i = 0; i < 16; ++i) tile[i] += across[i] * y;
      }
      for (int i = 0; i < 16; ++i) store16(lower + (row + i) * width + column, tile[i]);
    }
  }
}

// out (k floats) += Σ_r t_r · h_r.
template <int K>
void add_weighted_rows(const float* h, const float* t, int count, float* out) {
  static_assert(K % 16 == 0);
  Float16 sum[K / 16];
  for (int c = 0; c < K / 16; ++c) sum[c] = load16(out + 16 * c);
  for (int r = 0; r < count; ++r)
    for (int c = 0; c < K / 16; ++c) sum[c] += t[r] * load16(h + r * K + 16 * c);
  for (int c = 0; c < K / 16; ++c) store16(out + 16 * c, sum[c]);
}

}  // namespace tailflow::ops::als
