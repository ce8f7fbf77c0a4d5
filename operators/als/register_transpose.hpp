// A 16 × 16 float transpose held in sixteen 16-lane vectors.
//
// The Cholesky solver's short rows need their gathered factor rows as columns (one vector per factor holding
// that factor of 16 interactions). Writing them one float at a time costs a store per element; transposing
// 16 gathered rows in registers costs four rounds of 16 two-vector shuffles per 256 elements. The shuffles
// are GCC vector built-ins, so the code is portable; with AVX-512 each one is a single vpermt2ps.
#pragma once

#include <utility>

#include "operators/als/symmetric_rank_update.hpp"

namespace tailflow::ops::als {

using Int16 = int __attribute__((vector_size(64)));

// One round of the transpose: for rows i and i + B (bit B of i clear), lane l with bit B set in row i
// trades places with lane l − B of row i + B. Four rounds (B = 1, 2, 4, 8) swap every bit of the row index
// with the same bit of the lane index, which is the transpose.
template <int B, int... L>
constexpr Int16 own_then_partner(std::integer_sequence<int, L...>) {  // the new row i
  return Int16{((L & B) ? 16 + L - B : L)...};
}
template <int B, int... L>
constexpr Int16 partner_then_own(std::integer_sequence<int, L...>) {  // the new row i + B
  return Int16{((L & B) ? 16 + L : L + B)...};
}

// One round of the transpose: for rows i and i + B (bit B of i clear), lane l with bit B set in row i
// trades places with lane l − B of row i + B. Four rounds (B = 1, 2, 4, 8) swap every bit of the row index
// with the same bit of the lane index, which is the transpose.
template <int B>
inline void transpose_round(Float16 (&rows)[16]) {
  constexpr Int16 low = own_then_partner<B>(std::make_integer_sequence<int, 16>{});
  constexpr Int16 high = partner_then_own<B>(std::make_integer_sequence<int, 16>{});
  for (int i = 0; i < 16; ++i) {
    if (i & B) continue;
    const Float16 a = rows[i], b = rows[i + B];
    rows[i] = __builtin_shuffle(a, b, low);
    rows[i + B] = __builtin_shuffle(a, b, high);
  }
}

// rows[i][l] becomes rows[l][i].
inline void transpose16x16(Float16 (&rows)[16]) {
  transpose_round<1>(rows);
  transpose_round<2>(rows);
  transpose_round<4>(rows);
  transpose_round<8>(rows);
}

}  // namespace tailflow::ops::als
