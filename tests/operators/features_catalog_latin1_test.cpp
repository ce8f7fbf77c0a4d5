// The item catalog on a MovieLens 1M movies.dat: `::`-separated, no header (columns by index), Latin-1 text.
// Titles and genres that are not UTF-8 arrive converted; UTF-8 rows and ids stay byte for byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "operators/features/item_catalog.hpp"
#include "operators/features/text_encoding.hpp"
#include "tests/support/distributed_test.hpp"
#include "tests/support/temp_dir.hpp"

namespace tailflow::ops::features {
namespace {

using testing::run_distributed;
using testing::TempDir;

// Movie 2's title and movie 3's genre hold the Latin-1 byte 0xE9 (é); movie 4's title is already UTF-8.
const char* kMoviesDat =
    "1::Toy Story (1995)::Animation|Children's|Comedy\n"
    "2::Mis\xE9rables, Les (1995)::Drama|Musical\n"
    "3::Cit\xE9 des enfants perdus, La (1995)::Adventure|Sci-Fi|Fant\xE9sy\n"
    "4::Am\xC3\xA9lie (2001)::Comedy|Romance\n";

TEST(FeaturesCatalogLatin1, MovieLens1mMoviesDatIsReadAsUtf8) {
  TempDir dir;
  CatalogOptions options;
  options.path = dir.write("movies.dat", kMoviesDat);
  options.separator = "::";
  // Columns by 0-based index (std::to_string: GCC 12 misreads short literal assignments under -Werror).
  options.columns.id = std::to_string(0);
  options.columns.title = std::to_string(1);
  options.columns.category = std::to_string(2);
  run_distributed([&](Context& ctx) {
    const auto catalog = load_catalog(ctx, options);
    EXPECT_EQ(catalog.catalog_items, 4u);
    EXPECT_EQ(catalog.latin1_fields, 3u);  // two titles, one genre
    for (const auto& record : catalog.local) {
      EXPECT_TRUE(is_valid_utf8(record.title)) << record.id;
      for (const auto& category : record.categories) EXPECT_TRUE(is_valid_utf8(category)) << record.id;
      if (record.id == "2") {
        EXPECT_EQ(record.title, "Mis\xC3\xA9rables, Les (1995)");
        EXPECT_EQ(record.categories, (std::vector<std::string>{"Drama", "Musical"}));
      }
      if (record.id == "3") {
        EXPECT_NE(std::find(record.categories.begin(), record.categories.end(), "Fant\xC3\xA9sy"),
                  record.categories.end());
      }
      if (record.id == "4") {
        EXPECT_EQ(record.title, "Am\xC3\xA9lie (2001)");
      }
    }
  });
}

}  // namespace
}  // namespace tailflow::ops::features
