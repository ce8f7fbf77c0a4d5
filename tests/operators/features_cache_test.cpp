// The feature cache: features written by N ranks read back by any rank count, fingerprints that change with
// inputs and settings, and the conversion to the regressor's input format.
#include "operators/features/feature_cache.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/comm/collectives.hpp"
#include "operators/features/feature_extraction.hpp"
#include "operators/features/item_catalog.hpp"
#include "operators/features/learning_input.hpp"
#include "operators/learning/item_features.hpp"
#include "tests/support/distributed_test.hpp"
#include "tests/support/temp_dir.hpp"

namespace tailflow::ops::features {
namespace {

using testing::run_distributed;
namespace fs = std::filesystem;

using testing::TempDir;

const char* kMovies =
    "movieId,title,genres\n"
    "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
    "2,Jumanji (1995),Adventure|Children|Fantasy\n"
    "3,Grumpier Old Men (1995),Comedy|Romance\n"
    "5,Father of the Bride Part II (1995),Comedy\n"
    "6,Heat (1995),Action|Crime|Thriller\n"
    "7,Sabrina (1995),Comedy|Romance\n"
    "11,\"American President, The (1995)\",Comedy|Drama|Romance\n"
    "12,Hyena Road,(no genres listed)\n";

TEST(FeaturesCache, WrittenFeaturesReadBackOnAnyRankCount) {
  TempDir dir;
  CatalogOptions catalog_options;
  catalog_options.path = dir.write("movies.csv", kMovies);
  FeatureOptions options;
  options.hashing.hash_bits = 12;
  options.image_size = 0;
  // The feature files go where every rank sees them: under MPI each process has its own TempDir, so rank 0
  // names the directory.
  fs::path master;
  run_distributed({2}, [&](Context& ctx) {
    auto shared = comm::broadcast_string(ctx.comm(), (dir.path() / "features.h5").string(), 0);
    if (ctx.is_root() || testing::using_mpi()) master = shared;
    ctx.comm().barrier();
    auto catalog = load_catalog(ctx, catalog_options);
    auto block = extract_features(ctx, catalog, options);
    write_features(ctx, master, block, "abc", "settings");
    EXPECT_EQ(stored_fingerprint(ctx, master), std::optional<std::string>("abc"));
  });
  run_distributed([&](Context& ctx) {
    auto catalog = load_catalog(ctx, catalog_options);
    auto expected = extract_features(ctx, catalog, options);
    auto block = read_features(master, ctx.rank(), ctx.size());
    EXPECT_EQ(block.total_items, 8u);
    EXPECT_EQ(block.first_row, expected.first_row);
    EXPECT_EQ(block.ids, expected.ids);
    EXPECT_EQ(block.text.offsets, expected.text.offsets);
    EXPECT_EQ(block.text.ids, expected.text.ids);
    EXPECT_EQ(block.text.weights, expected.text.weights);
    EXPECT_EQ(block.idf, expected.idf);
    ASSERT_EQ(block.categorical.size(), 1u);  // decade
    EXPECT_EQ(block.categorical[0].ids, expected.categorical[0].ids);
    EXPECT_EQ(block.categorical[0].vocabulary, expected.categorical[0].vocabulary);
    ASSERT_EQ(block.multi_valued.size(), 1u);  // genres
    EXPECT_EQ(block.multi_valued[0].name, "genres");
    EXPECT_EQ(block.multi_valued[0].values.ids, expected.multi_valued[0].values.ids);
    EXPECT_EQ(block.numeric, expected.numeric);
    ASSERT_EQ(block.numeric_columns.size(), expected.numeric_columns.size());
    EXPECT_EQ(block.numeric_columns[0].name, "year");
    EXPECT_DOUBLE_EQ(block.numeric_columns[0].mean, 1995.0);

    // The regressor's format: consistent with its own validation.
    auto input = to_learning_input(block);
    EXPECT_EQ(input.schema.bags.size(), 2u);
    EXPECT_EQ(input.schema.bags[0].vocabulary_size, 4096);
    EXPECT_NO_THROW(learning::validate(input.items, input.schema));
    for (std::size_t i = 0; i < input.items.size(); ++i)
      EXPECT_EQ(input.items.item_ids[i], block.first_row + i);
    ctx.comm().barrier();  // rank 0's TempDir goes when every rank has read
  });
}

TEST(FeaturesCache, FingerprintChangesWithInputsAndSettings) {
  TempDir dir;
  auto items = dir.write("items.csv", "item_id,title\n1,a\n");
  auto other = dir.write("other.csv", "item_id,title\n1,b\n");
  run_distributed([&](Context& ctx) {
    auto base = feature_fingerprint(ctx, {items}, "bits=18");
    EXPECT_EQ(base, feature_fingerprint(ctx, {items}, "bits=18"));
    EXPECT_NE(base, feature_fingerprint(ctx, {items}, "bits=16"));
    EXPECT_NE(base, feature_fingerprint(ctx, {other}, "bits=18"));
    EXPECT_NE(base, feature_fingerprint(ctx, {items, other}, "bits=18"));
    EXPECT_THROW(feature_fingerprint(ctx, {(dir.path() / "missing.csv").string()}, ""), CollectiveError);
    EXPECT_EQ(stored_fingerprint(ctx, dir.path() / "none.h5"), std::nullopt);
  });
}

}  // namespace
}  // namespace tailflow::ops::features
