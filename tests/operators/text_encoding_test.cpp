// Catalog text in UTF-8: Latin-1 fields (MovieLens 1M) are converted, UTF-8 ones kept
// (operators/features/text_encoding.hpp).
#include "operators/features/text_encoding.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tailflow::ops::features {
namespace {

TEST(TextEncoding, RecognisesUtf8) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("Toy Story (1995)"));
  EXPECT_TRUE(is_valid_utf8("Mis\xC3\xA9rables"));  // é in UTF-8
  EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC 5"));     // €
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x8E\xAC"));   // 🎬
  EXPECT_FALSE(is_valid_utf8("Mis\xE9rables"));     // é in Latin-1
  EXPECT_FALSE(is_valid_utf8("\xC3"));              // cut short
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("caf\xE9 cr\xE8me"));
}

TEST(TextEncoding, ConvertsLatin1OnlyWhenNotUtf8) {
  EXPECT_EQ(latin1_to_utf8("Mis\xE9rables"), "Mis\xC3\xA9rables");
  EXPECT_EQ(latin1_to_utf8("\xFF\x80"), "\xC3\xBF\xC2\x80");
  std::string latin1 = "Les Mis\xE9rables (1995)";
  EXPECT_TRUE(ensure_utf8(latin1));
  EXPECT_EQ(latin1, "Les Mis\xC3\xA9rables (1995)");
  EXPECT_TRUE(is_valid_utf8(latin1));
  // Already UTF-8 (and so already converted): left alone.
  EXPECT_FALSE(ensure_utf8(latin1));
  EXPECT_EQ(latin1, "Les Mis\xC3\xA9rables (1995)");
  std::string ascii = "Heat (1995)";
  EXPECT_FALSE(ensure_utf8(ascii));
  EXPECT_EQ(ascii, "Heat (1995)");
}

}  // namespace
}  // namespace tailflow::ops::features
