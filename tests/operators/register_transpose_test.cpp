// The in-register 16 × 16 transpose behind the Cholesky solver's short rows.
#include "operators/als/register_transpose.hpp"

#include <gtest/gtest.h>

namespace tailflow::ops::als {
namespace {

TEST(RegisterTranspose, MovesEveryElementToItsMirrorPosition) {
  Float16 rows[16];
  for (int i = 0; i < 16; ++i)
    for (int l = 0; l < 16; ++l) rows[i][l] = static_cast<float>(100 * i + l);
  transpose16x16(rows);
  for (int i = 0; i < 16; ++i)
    for (int l = 0; l < 16; ++l) EXPECT_EQ(rows[i][l], static_cast<float>(100 * l + i)) << i << "," << l;
}

TEST(RegisterTranspose, TwiceIsTheIdentity) {
  Float16 rows[16], original[16];
  for (int i = 0; i < 16; ++i)
    for (int l = 0; l < 16; ++l)
      original[i][l] = rows[i][l] = static_cast<float>((i * 37 + l * 11) % 97) - 40.5f;
  transpose16x16(rows);
  transpose16x16(rows);
  for (int i = 0; i < 16; ++i)
    for (int l = 0; l < 16; ++l) EXPECT_EQ(rows[i][l], original[i][l]);
}

}  // namespace
}  // namespace tailflow::ops::als
