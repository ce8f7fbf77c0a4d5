// Loading interaction files: columns by header, by --columns and by explicit choice; event weights; time
// formats; bad rows; and the MovieLens file with its known malformed line.
#include "operators/data/interactions_loader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "tests/support/distributed_test.hpp"
#include "tests/support/expect_error.hpp"
#include "tests/support/temp_dir.hpp"

namespace tailflow::ops::data {
namespace {

using testing::collective_error;
using testing::run_distributed;
namespace fs = std::filesystem;

using testing::TempDir;

// Every interaction with its external ids, "user item value time", gathered in file order.
std::vector<std::string> external_rows(Context& ctx, const LoadedInteractions& loaded) {
  auto users = loaded.users.all_strings(ctx);
  auto items = loaded.items.all_strings(ctx);
  auto all = comm::allgatherv(ctx.comm(), std::span<const Interaction>(loaded.local));
  std::vector<std::string> rows;
  for (const auto& row : all)
    rows.push_back(users.at(row.user) + " " + items.at(row.item) + " " + fmt::format("{:g}", row.value) +
                   " " + std::to_string(row.time));
  return rows;
}

TEST(InteractionsLoader, MovieLensHeaderFindsTheColumnsByName) {
  TempDir dir;
  std::string path = dir.write("ratings.csv",
                               "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n"
                               "7,31,4.0,1260759185\n2,10,5.0,835355493\n");
  run_distributed([&](Context& ctx) {
    InteractionsLoadOptions options;
    options.path = path;
    auto loaded = load_interactions(ctx, options);
    EXPECT_EQ(loaded.total, 4u);
    EXPECT_EQ(loaded.users.size(), 3u);
    EXPECT_EQ(loaded.items.size(), 3u);
    EXPECT_TRUE(loaded.has_value);
    EXPECT_TRUE(loaded.has_time);
    EXPECT_EQ(loaded.columns_used, "user=userId item=movieId value=rating time=timestamp");
    EXPECT_EQ(external_rows(ctx, loaded),
              (std::vector<std::string>{"1 31 2.5 1260759144", "1 1029 3 1260759179", "7 31 4 1260759185",
                                        "2 10 5 835355493"}));
    // Dense indices in numeric id order: users 1, 2, 7; items 10, 31, 1029.
    auto all = comm::allgatherv(ctx.comm(), std::span<const Interaction>(loaded.local));
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[2], (Interaction{2, 1, 4.0f, 1260759185}));
  });
}

// Integer ids are kept as values while parsing; a later id that is not a small canonical integer switches
// the column to a table mid-file (on some ranks only, with several ranks). Indices must not change.
TEST(InteractionsLoader, IdsThatStopBeingSmallIntegersMidFile) {
  TempDir dir;
  std::string text = "user,item\n";
  std::vector<std::string> expected;
  for (int i = 0; i < 60; ++i) {
    std::string user = std::to_string(i % 7);
    std::string item = std::to_string((i * 13) % 23);
    if (i == 45) item = "007";      // a leading zero: not the value 7's spelling
    if (i == 50) user = "u-x";      // a name
    if (i == 55) item = "9999999";  // beyond the bitmap
    text += user + "," + item + "\n";
    expected.push_back(user + " " + item + " 1 0");
  }
  std::string path = dir.write("mixed.csv", text);
  run_distributed([&](Context& ctx) {
    InteractionsLoadOptions options;
    options.path = path;
    auto loaded = load_interactions(ctx, options);
    EXPECT_EQ(external_rows(ctx, loaded), expected);
    EXPECT_FALSE(loaded.users.numeric());  // "u-x"
    EXPECT_TRUE(loaded.items.numeric());   // "007" parses as an integer
    auto users = loaded.users.all_strings(ctx);
    EXPECT_EQ(users, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "u-x"}));
    auto items = loaded.items.all_strings(ctx);
    ASSERT_GE(items.size(), 3u);
    EXPECT_EQ(items[0], "0");
    EXPECT_EQ(items.back(), "9999999");
    auto seven = std::find(items.begin(), items.end(), "7");
    ASSERT_NE(seven, items.begin());
    EXPECT_EQ(*(seven - 1), "007");  // equal values ordered by bytes
  });
}

TEST(InteractionsLoader, HeaderlessTsvWithColumnsOption) {
  TempDir dir;
  std::string path = dir.write("u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n");
  run_distributed([&](Context& ctx) {
    InteractionsLoadOptions options;
    options.path = path;
    options.columns = parse_column_list("user,item,value,time");
    auto loaded = load_interactions(ctx, options);
    EXPECT_EQ(external_rows(ctx, loaded),
              (std::vector<std::string>{"196 242 3 881250949", "186 302 3 891717742"}));
  });
}

TEST(InteractionsLoader, ValueDefaultsToOneAndTimeToZero) {
  TempDir dir;
  std::string path = dir.write("clicks.csv", "user,item\nalice,shoe\nbob,hat\nalice,hat\n");
  run_distributed([&](Context& ctx) {
    InteractionsLoadOptions options;
    options.path = path;
    auto loaded = load_interactions(ctx, options);
    EXPECT_FALSE(loaded.has_value);
    EXPECT_FALSE(loaded.has_time);
    EXPECT_FALSE(loaded.users.numeric());
    EXPECT_EQ(external_rows(ctx, loaded),
              (std::vector<std::string>{"alice shoe 1 0", "bob hat 1 0", "alice hat 1 0"}));
  });
}

TEST(InteractionsLoader, EventWeightsAndIsoTimes) {
  TempDir dir;
  std::string path = dir.write("events.csv",
                               "user_id,item_id,event,timestamp\n"
                               "u1,i1,view,2019-10-01 00:00:00 UTC\n"
                               "u1,i1,purchase,2019-10-01T00:00:10Z\n"
                               "u2,i2,cart,1970-01-02\n");
  run_distributed([&](Context& ctx) {
    InteractionsLoadOptions options;
    options.path = path;
    options.event_weights = parse_event_weights("view=1, cart=3,purchase=5");
    auto loaded = load_interactions(ctx, options);
    EXPECT_EQ(external_rows(ctx, loaded),
              (std::vector<std::string>{"u1 i1 1 1569888000", "u1 i1 5 1569888010", "u2 i2 3 86400"}));
  });
}

TEST(InteractionsLoader, UnknownEventIsABadRow) {
  TempDir dir;
  std::string path = dir.write("events.csv", "user,item,event\nu1,i1,view\nu1,i2,wishlist\nu2,i2,view\n");
  run_distributed([&](Context& ctx) {
    InteractionsLoadOptions options;
    options.path = path;
    options.event_weights = parse_event_weights("view=1,purchase=5");
    std::string message = collective_error([&] { load_interactions(ctx, options); });
    EXPECT_NE(message.find("events.csv:3: field 'event': unknown event 'wishlist'"), std::string::npos)
        << message;
    options.bad_rows = io::BadRowPolicy::kDropMalformed;
    auto loaded = load_interactions(ctx, options);
    EXPECT_EQ(loaded.total, 2u);
    EXPECT_EQ(loaded.report.skipped_rows, 1u);
    EXPECT_EQ(loaded.users.size(), 2u);
    EXPECT_EQ(loaded.items.size(), 2u);  // i2 still appears in a good row
  });
}

TEST(InteractionsLoader, ExplicitColumnsByNameAndIndex) {
  TempDir dir;
  std::string path = dir.write("odd.csv", "when,who,what,stars\n5,a,x,1.5\n6,b,y,2\n");
  run_distributed([&](Context& ctx) {
    InteractionsLoadOptions options;
    options.path = path;
    options.user_column = "who";
    options.item_column = "2";
    options.value_column = "stars";
    options.time_column = "when";
    auto loaded = load_interactions(ctx, options);
    EXPECT_EQ(external_rows(ctx, loaded), (std::vector<std::string>{"a x 1.5 5", "b y 2 6"}));
  });
}

TEST(InteractionsLoader, ErrorsNameFileLineAndField) {
  TempDir dir;
  std::string no_user = dir.write("no_user.csv", "person,item\n1,2\n");
  std::string bad_value = dir.write("bad_value.csv", "user,item,rating\n1,2,3\n1,3,three\n");
  std::string ragged = dir.write("ragged.csv", "user,item,rating\n1,2,3\n1,3\n");
  std::string empty = dir.write("empty.csv", "");
  std::string header_only = dir.write("header_only.csv", "user,item,rating\n");
  std::string empty_id = dir.write("empty_id.csv", "user,item\n1,\n");
  run_distributed([&](Context& ctx) {
    InteractionsLoadOptions options;
    auto error_of = [&](const std::string& path) {
      options.path = path;
      return collective_error([&] { load_interactions(ctx, options); });
    };
    std::string message = error_of(no_user);
    EXPECT_NE(message.find("no_user.csv: no user column among [person, item]"), std::string::npos) << message;
    message = error_of(bad_value);
    EXPECT_NE(message.find("bad_value.csv:3: field 'rating': 'three' is not a number"), std::string::npos)
        << message;
    message = error_of(ragged);
    EXPECT_NE(message.find("ragged.csv:3: expected 3 fields"), std::string::npos) << message;
    message = error_of(empty);
    EXPECT_NE(message.find("empty.csv:1: the file is empty"), std::string::npos) << message;
    message = error_of(header_only);
    EXPECT_NE(message.find("header_only.csv:2: the file has a header but no interactions"), std::string::npos)
        << message;
    message = error_of(empty_id);
    EXPECT_NE(message.find("empty_id.csv:2: field 'item': is empty"), std::string::npos) << message;
  });
}

TEST(InteractionsLoader, MovieLensSmallHasOneMalformedRowAtLine522) {
  fs::path path =
      fs::path(TAILFLOW_SOURCE_DIR) / ".." / "shared" / "datasets" / "ml-latest-small" / "ratings.csv";
  if (!fs::exists(path))
    GTEST_SKIP() << "no MovieLens file at " << path.string() << " (shared datasets absent)";
  run_distributed({1, 2, 3}, [&](Context& ctx) {
    InteractionsLoadOptions options;
    options.path = path.string();
    std::string message = collective_error([&] { load_interactions(ctx, options); });
    EXPECT_NE(message.find("ratings.csv:522: field 'timestamp'"), std::string::npos) << message;
    options.bad_rows = io::BadRowPolicy::kDropMalformed;
    auto loaded = load_interactions(ctx, options);
    EXPECT_EQ(loaded.report.skipped_rows, 1u);
    EXPECT_EQ(loaded.total, 100835u);
    EXPECT_EQ(loaded.users.size(), 610u);
  });
}

}  // namespace
}  // namespace tailflow::ops::data
