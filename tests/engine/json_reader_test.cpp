// Reading JSON back: what json_writer writes round-trips; escapes, nesting, numbers; errors name the place.
#include "engine/json_reader.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/json_writer.hpp"
#include "tests/support/expect_error.hpp"
#include "tests/support/temp_dir.hpp"

namespace tailflow {
namespace {

TEST(JsonReader, ReadsWhatTheWriterWrites) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "report.json").string();
  JsonObject inner;
  inner.add("mean", 0.25).add("low", 0.125).add("high", 0.5);
  write_json_file(path, JsonObject()
                            .add("name", "quote \" backslash \\ newline \n tab \t")
                            .add("count", std::uint64_t{18446744073709551615ULL})
                            .add("negative", std::int64_t{-42})
                            .add("finished", false)
                            .add("nan", std::nan(""))
                            .add("history", std::vector<double>{1.5, -2e-3})
                            .add("ndcg", inner));
  const JsonValue report = read_json_file(path);
  EXPECT_EQ(report.at("name").as_string(), "quote \" backslash \\ newline \n tab \t");
  EXPECT_DOUBLE_EQ(report.at("count").as_number(), 18446744073709551615.0);
  EXPECT_EQ(report.at("negative").as_number(), -42);
  EXPECT_FALSE(report.at("finished").as_bool());
  EXPECT_TRUE(report.at("nan").is_null());
  EXPECT_TRUE(std::isnan(report.at("nan").as_number()));
  ASSERT_EQ(report.at("history").items().size(), 2u);
  EXPECT_DOUBLE_EQ(report.at("history").items()[1].as_number(), -2e-3);
  EXPECT_DOUBLE_EQ(report.at("ndcg").at("high").as_number(), 0.5);
  // Members keep the file's order.
  ASSERT_EQ(report.members().size(), 7u);
  EXPECT_EQ(report.members().front().first, "name");
  EXPECT_EQ(report.members().back().first, "ndcg");
  EXPECT_EQ(report.find("missing"), nullptr);
}

TEST(JsonReader, UnicodeEscapesBecomeUtf8) {
  EXPECT_EQ(parse_json(R"("caf\u00e9 \u20ac \ud83d\ude00 \/")").as_string(),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 /");
}

TEST(JsonReader, EmptyContainersAndWhitespace) {
  const JsonValue value = parse_json(" {\n \"a\" : [ ] , \"b\" : { } , \"c\":null }\n");
  EXPECT_TRUE(value.at("a").items().empty());
  EXPECT_TRUE(value.at("b").members().empty());
  EXPECT_TRUE(value.at("c").is_null());
}

TEST(JsonReader, ErrorsNameSourceLineAndColumn) {
  testing::expect_error([] { parse_json("{\n  \"a\": 1,\n  \"b\" 2\n}", "r.json"); }, {"r.json:3:7", "':'"});
  testing::expect_error([] { parse_json("[1, 2", "x"); }, {"x:1:6", "']'"});
  testing::expect_error([] { parse_json("{} extra", "x"); }, {"after the JSON value"});
  testing::expect_error([] { parse_json("\"open", "x"); }, {"unterminated string"});
  testing::expect_error([] { parse_json("01x", "x"); }, {"after the JSON value"});
  testing::expect_error([] { parse_json(std::string(1000, '['), "x"); }, {"nested too deeply"});
  testing::expect_error([] { parse_json("{\"a\": 1}").at("b"); }, {"no member 'b'"});
  testing::expect_error([] { parse_json("{\"a\": 1}").at("a").as_string(); },
                        {"expected a string, found a number"});
  testing::expect_error([] { read_json_file("/nonexistent/file.json"); },
                        {"cannot open", "/nonexistent/file.json"});
}

}  // namespace
}  // namespace tailflow
