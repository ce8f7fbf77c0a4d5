// INI files with origins: sections, repeated keys, comments, quotes, ${VAR} expansion, errors with file:line.
#include "engine/io/ini_file.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "tests/support/expect_error.hpp"
#include "tests/support/temp_dir.hpp"

namespace tailflow::io {
namespace {

TEST(IniFile, SectionsKeysAndOrigins) {
  const auto entries = parse_ini(
      "# comment\n"
      "out = runs/a   # trailing comment\n"
      "\n"
      "[als]\n"
      "factors=64\n"
      "  ; another comment\n"
      "[features]\n"
      "tags = a.csv\n"
      "tags = \"b c.csv\"\n"
      "category-value-sep = |#x\n",
      "shop.ini");
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[0].section, "");
  EXPECT_EQ(entries[0].key, "out");
  EXPECT_EQ(entries[0].value, "runs/a");
  EXPECT_EQ(entries[0].origin, "shop.ini:2");
  EXPECT_EQ(entries[1].section, "als");
  EXPECT_EQ(entries[1].value, "64");
  EXPECT_EQ(entries[1].origin, "shop.ini:5");
  EXPECT_EQ(entries[2].key, "tags");
  EXPECT_EQ(entries[3].value, "b c.csv");  // quotes removed, repeated key kept
  EXPECT_EQ(entries[4].value, "|#x");      // '#' only starts a comment after whitespace
}

TEST(IniFile, VariablesFromEarlierTopLevelKeysThenEnvironment) {
  ::setenv("TAILFLOW_INI_TEST_DIR", "/data", 1);
  ::unsetenv("TAILFLOW_INI_TEST_UNSET");
  const auto entries = parse_ini(
      "dataset = ${TAILFLOW_INI_TEST_DIR}/ml\n"
      "fallback = ${TAILFLOW_INI_TEST_UNSET:-../shared}/x\n"
      "[features]\n"
      "tags = ${dataset}/tags.csv\n"
      "price = $$5 and $HOME stays\n",
      "c.ini");
  EXPECT_EQ(entries[0].value, "/data/ml");
  EXPECT_EQ(entries[1].value, "../shared/x");
  EXPECT_EQ(entries[2].value, "/data/ml/tags.csv");
  EXPECT_EQ(entries[3].value, "$5 and $HOME stays");
}

TEST(IniFile, ErrorsNameFileAndLine) {
  ::unsetenv("TAILFLOW_INI_TEST_UNSET");
  testing::expect_error([] { parse_ini("a = 1\njust words\n", "c.ini"); }, {"c.ini:2", "key = value"});
  testing::expect_error([] { parse_ini("[als\n", "c.ini"); }, {"c.ini:1", "[name]"});
  testing::expect_error([] { parse_ini("[a b]\n", "c.ini"); }, {"c.ini:1", "section name"});
  testing::expect_error([] { parse_ini("\n\nx = ${TAILFLOW_INI_TEST_UNSET}\n", "c.ini"); },
                        {"c.ini:3", "TAILFLOW_INI_TEST_UNSET", ":-default"});
  testing::expect_error([] { parse_ini("x = ${open\n", "c.ini"); }, {"c.ini:1", "closing"});
  testing::expect_error([] { read_ini_file("/nonexistent/c.ini"); }, {"cannot open", "/nonexistent/c.ini"});
}

TEST(IniFile, ReadsAFile) {
  testing::TempDir dir;
  const auto path = dir.write("p.ini", "[split]\non-bad-row = skip\n");
  const auto entries = read_ini_file(path);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].origin, path + ":2");
}

}  // namespace
}  // namespace tailflow::io
