// The item catalog and feature extraction on a small shop: column mapping (hierarchical a>b>c and
// multi-valued a|b categories), rows numbered like the interaction file's items, cold and unknown items,
// tags, errors naming file:line, and the same features for every rank count.
#include "operators/features/item_catalog.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "engine/dataset/dataset.hpp"
#include "engine/error.hpp"
#include "operators/features/feature_extraction.hpp"
#include "tests/support/distributed_test.hpp"
#include "tests/support/expect_error.hpp"
#include "tests/support/temp_dir.hpp"

namespace tailflow::ops::features {
namespace {

using testing::collective_error;
using testing::run_distributed;
namespace fs = std::filesystem;

using testing::TempDir;

const char* kItems =
    "item_id,title,description,brand,category,price,image,rating_count,color\n"
    "b,Red Shirt (1995),Soft cotton,Acme,women>tops>shirts|sale,19.99,0,3,red\n"
    "a,\"Blue Jeans, slim\",Denim,Bolt,men>bottoms,49.5,1,,blue\n"
    "c,Boots,,Acme,women>shoes,,2,7,\n"
    "e,Cap,Wool cap,,,5,,,\n"
    "a,Duplicate,x,y,z,1,0,0,\n";
// Items a, b, c, z (z is not in the catalog): numbered a=0, b=1, c=2, z=3 by the interaction dictionary.
const char* kInteractions = "user,item\nu1,a\nu2,a\nu1,b\nu3,z\nu2,b\nu4,c\n";
const char* kTags = "userId,movieId,tag,timestamp\n1,b,funny,1\n2,a,classic,2\n3,zz,orphan,3\n1,b,cotton,4\n";

CatalogOptions options_for(const TempDir& dir) {
  CatalogOptions options;
  options.path = dir.write("items.csv", kItems);
  options.columns.numeric = {"rating_count"};
  options.columns.categorical = {"color"};
  options.tag_files = {dir.write("tags.csv", kTags)};
  return options;
}

TEST(FeaturesCatalog, NumbersRowsLikeTheInteractionsAndReportsColdAndUnknownItems) {
  TempDir dir;
  auto options = options_for(dir);
  data::InteractionsLoadOptions interaction_options;
  interaction_options.path = dir.write("interactions.csv", kInteractions);
  run_distributed([&](Context& ctx) {
    auto interactions = data::load_interactions(ctx, interaction_options);
    auto catalog = load_catalog(ctx, options, &interactions);
    EXPECT_EQ(catalog.total_items, 5u);
    EXPECT_EQ(catalog.catalog_items, 4u);
    EXPECT_EQ(catalog.duplicate_rows, 1u);
    EXPECT_EQ(catalog.cold_items, 1u);
    EXPECT_EQ(catalog.unknown_items, 1u);
    EXPECT_EQ(catalog.unknown_interactions, 1u);
    EXPECT_EQ(catalog.tags, 3u);
    EXPECT_EQ(catalog.unknown_tags, 1u);
    EXPECT_EQ(catalog.layout.describe(),
              "id=item_id title=title description=description brand=brand category=category price=price "
              "image=image numeric=rating_count categorical=color");
    auto rows = Dataset<ItemRecord>(ctx, catalog.local).collect();
    ASSERT_EQ(rows.size(), 5u);
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(rows[i].index, i);
      ids.push_back(rows[i].id);
    }
    EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "c", "z", "e"}));
    EXPECT_EQ(rows[0].title, "Blue Jeans, slim");  // the first row of a duplicated id wins
    EXPECT_EQ(rows[0].interactions, 2u);
    EXPECT_EQ(rows[0].tags, "classic");
    EXPECT_FALSE(rows[0].numeric[0].has_value());
    EXPECT_EQ(rows[1].categories, (std::vector<std::string>{"women>tops>shirts", "sale"}));
    EXPECT_DOUBLE_EQ(*rows[1].price, 19.99);
    EXPECT_EQ(rows[1].tags, "funny cotton");
    EXPECT_EQ(rows[1].categorical, (std::vector<std::string>{"red"}));
    EXPECT_FALSE(rows[2].price.has_value());
    EXPECT_FALSE(rows[3].in_catalog);
    EXPECT_EQ(rows[3].interactions, 1u);
    EXPECT_TRUE(rows[4].in_catalog);
    EXPECT_EQ(rows[4].interactions, 0u);
  });
}

TEST(FeaturesCatalog, WithoutInteractionsRowsFollowTheCatalogIds) {
  TempDir dir;
  auto options = options_for(dir);
  options.tag_files.clear();
  run_distributed([&](Context& ctx) {
    auto catalog = load_catalog(ctx, options);
    auto rows = Dataset<ItemRecord>(ctx, catalog.local).collect();
    std::vector<std::string> ids;
    for (const auto& row : rows) ids.push_back(row.id);
    EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "c", "e"}));
  });
}

TEST(FeaturesCatalog, CategoryPathsGiveOnePrefixPerLevel) {
  EXPECT_EQ(category_path_prefixes(" women > tops >shirts", ">"),
            (std::vector<std::string>{"women", "women>tops", "women>tops>shirts"}));
  EXPECT_EQ(category_path_prefixes("Comedy", ">"), (std::vector<std::string>{"Comedy"}));
  EXPECT_TRUE(category_path_prefixes("", ">").empty());
}

TEST(FeaturesCatalog, ErrorsNameTheFileLineAndColumn) {
  TempDir dir;
  CatalogOptions missing;
  missing.path = dir.write("items.csv", kItems);
  missing.columns.brand = "maker";
  CatalogOptions bad_price;
  bad_price.path = dir.write("bad.csv", "item_id,title,price\nx,Shirt,12.5\ny,Hat,twelve\n");
  CatalogOptions negative;
  negative.path = dir.write("negative.csv", "item_id,title,price\nx,Shirt,-3\n");
  CatalogOptions no_id;
  no_id.path = dir.write("noid.csv", "name,price\nShirt,1\n");
  run_distributed([&](Context& ctx) {
    auto message = collective_error([&] { load_catalog(ctx, missing); });
    EXPECT_NE(message.find("items.csv"), std::string::npos) << message;
    EXPECT_NE(message.find("maker"), std::string::npos) << message;
    message = collective_error([&] { load_catalog(ctx, bad_price); });
    EXPECT_NE(message.find("bad.csv:3"), std::string::npos) << message;
    EXPECT_NE(message.find("price"), std::string::npos) << message;
    EXPECT_NE(message.find("twelve"), std::string::npos) << message;
    message = collective_error([&] { load_catalog(ctx, negative); });
    EXPECT_NE(message.find("negative.csv:2"), std::string::npos) << message;
    message = collective_error([&] { load_catalog(ctx, no_id); });
    EXPECT_NE(message.find("no item id column"), std::string::npos) << message;
  });
}

// Everything extract_features computes, gathered in row order, as text: equal for every rank count.
std::string describe_all(Context& ctx, const ItemFeatureBlock& block) {
  std::vector<std::string> rows;
  for (std::size_t i = 0; i < block.local_rows(); ++i) {
    std::string row = block.ids[i] + ":";
    for (auto k = block.text.offsets[i]; k < block.text.offsets[i + 1]; ++k)
      row += fmt::format(" t{}={:.5f}", block.text.ids[k], block.text.weights[k]);
    for (const auto& column : block.categorical) row += fmt::format(" {}={}", column.name, column.ids[i]);
    for (const auto& column : block.multi_valued)
      for (auto k = column.values.offsets[i]; k < column.values.offsets[i + 1]; ++k)
        row += fmt::format(" {}={}/{:.2f}", column.name, column.values.ids[k], column.values.weights[k]);
    const std::size_t width = block.numeric_columns.size();
    for (std::size_t c = 0; c < width; ++c)
      row += fmt::format(" n{}={:.4f}", c, block.numeric[i * width + c]);
    rows.push_back(row);
  }
  std::string text;
  for (const auto& row : Dataset<std::string>(ctx, rows).collect()) text += row + "\n";
  return text;
}

TEST(FeaturesCatalog, ExtractsEveryModalityTheSameOnAnyRankCount) {
  TempDir dir;
  auto options = options_for(dir);
  data::InteractionsLoadOptions interaction_options;
  interaction_options.path = dir.write("interactions.csv", kInteractions);
  FeatureOptions features;
  features.hashing.hash_bits = 10;
  std::mutex mutex;
  std::string reference;
  run_distributed([&](Context& ctx) {
    auto interactions = data::load_interactions(ctx, interaction_options);
    auto catalog = load_catalog(ctx, options, &interactions);
    auto block = extract_features(ctx, catalog, features);
    std::vector<std::string> categorical, multi, numeric;
    for (const auto& c : block.categorical) categorical.push_back(c.name);
    for (const auto& c : block.multi_valued) multi.push_back(c.name);
    for (const auto& c : block.numeric_columns) numeric.push_back(c.name);
    EXPECT_EQ(categorical,
              (std::vector<std::string>{"brand", "category_level2", "category_level3", "decade", "color"}));
    EXPECT_EQ(multi, (std::vector<std::string>{"category_level1"}));
    EXPECT_EQ(numeric, (std::vector<std::string>{"log_price", "log_price_missing", "year", "year_missing",
                                                 "rating_count", "rating_count_missing"}));
    EXPECT_EQ(block.categorical[0].vocabulary, (std::vector<std::string>{"<unknown>", "Acme", "Bolt"}));
    EXPECT_EQ(block.multi_valued[0].vocabulary,
              (std::vector<std::string>{"<unknown>", "women", "men", "sale"}));
    EXPECT_EQ(block.text_buckets, 1024);
    for (std::size_t i = 0; i < block.local_rows(); ++i) {
      auto row = block.first_row + i;
      // The item that is only in the interactions has no text; all others do.
      EXPECT_EQ(block.text.offsets[i + 1] > block.text.offsets[i], row != 3) << "row " << row;
    }
    auto text = describe_all(ctx, block);
    std::lock_guard<std::mutex> lock(mutex);
    if (reference.empty()) reference = text;
    EXPECT_EQ(text, reference);
  });
}

}  // namespace
}  // namespace tailflow::ops::features
