// Frozen feature tables: new catalog rows encoded with an earlier run's idf table, vocabularies and numeric
// statistics (what `tailflow embed --items` does), the recipe text that records how, and the copy of both
// that a trained model carries.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "operators/features/feature_cache.hpp"
#include "operators/features/feature_extraction.hpp"
#include "operators/features/feature_recipe.hpp"
#include "operators/features/feature_tables.hpp"
#include "operators/features/item_catalog.hpp"
#include "operators/features/learning_input.hpp"
#include "tests/support/distributed_test.hpp"
#include "tests/support/expect_error.hpp"
#include "tests/support/temp_dir.hpp"

namespace tailflow::ops::features {
namespace {

using testing::run_distributed;
using testing::TempDir;
namespace fs = std::filesystem;

// Brands, two-level categories (some items in two), a price with a gap, an extra numeric and categorical
// column, years in the titles.
const char* kTraining =
    "item_id,title,description,brand,category,price,rating,season\n"
    "1,Red cotton shirt (1995),classic fit,Acme,women>tops,19.99,4.5,summer\n"
    "2,Navy wool coat (1998),warm,Bolt,women>coats|sale,120,3.0,winter\n"
    "3,White linen shirt (2004),,Acme,men>tops,,4.0,summer\n"
    "4,Black leather boots (2011),waterproof,Crow,men>shoes|sale,89.5,2.5,winter\n"
    "5,Red silk dress (1999),elegant,Bolt,women>dresses,150,5.0,spring\n"
    "6,Grey wool scarf (2004),soft,Acme,women>accessories,25,3.5,winter\n";

// New items: an unknown brand and category, words never seen, no price or rating column at all.
const char* kNewItems =
    "item_id,title,description,brand,category,season\n"
    "n1,Zqxv plorb (2021),brand new words,Nova,kids>toys,autumn\n"
    "n2,Red wool shirt,classic,Acme,women>tops,summer\n";

CatalogOptions training_options(const std::string& path) {
  CatalogOptions options;
  options.path = path;
  options.columns.numeric = {"rating"};
  options.columns.categorical = {"season"};
  return options;
}

FeatureOptions feature_options() {
  FeatureOptions options;
  options.hashing.hash_bits = 16;
  return options;
}

void expect_same_rows(const ItemFeatureBlock& a, const ItemFeatureBlock& b) {
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.text.offsets, b.text.offsets);
  EXPECT_EQ(a.text.ids, b.text.ids);
  EXPECT_EQ(a.text.weights, b.text.weights);
  ASSERT_EQ(a.categorical.size(), b.categorical.size());
  for (std::size_t c = 0; c < a.categorical.size(); ++c) {
    EXPECT_EQ(a.categorical[c].name, b.categorical[c].name);
    EXPECT_EQ(a.categorical[c].ids, b.categorical[c].ids) << a.categorical[c].name;
  }
  ASSERT_EQ(a.multi_valued.size(), b.multi_valued.size());
  for (std::size_t c = 0; c < a.multi_valued.size(); ++c) {
    EXPECT_EQ(a.multi_valued[c].values.ids, b.multi_valued[c].values.ids) << a.multi_valued[c].name;
    EXPECT_EQ(a.multi_valued[c].values.weights, b.multi_valued[c].values.weights);
  }
  EXPECT_EQ(a.numeric, b.numeric);
  EXPECT_EQ(table_difference(tables_of(a), tables_of(b)), "");
}

TEST(FeaturesFrozen, TrainingRowsEncodeIdenticallyAndNewRowsFitTheSchema) {
  TempDir dir;
  const auto training = training_options(dir.write("items.csv", kTraining));
  const std::string new_items = dir.write("new.csv", kNewItems);  // before the ranks start reading
  const FeatureOptions options = feature_options();
  run_distributed({1, 2, 3}, [&](Context& ctx) {
    auto catalog = load_catalog(ctx, training);
    const auto block = extract_features(ctx, catalog, options);
    EXPECT_TRUE(block.title_years);
    EXPECT_EQ(block.category_levels, 2);
    const auto tables = tables_of(block);
    EXPECT_TRUE(tables.ids.empty());

    // The training rows again, with the frozen tables: the same features.
    expect_same_rows(extract_features(ctx, catalog, options, &tables), block);

    // New rows, read by the training file's column choices; absent columns count as empty.
    CatalogOptions fresh = training;
    fresh.path = new_items;
    fresh.columns = catalog.layout.choices;
    EXPECT_EQ(fresh.columns.price, "price");
    EXPECT_EQ(fresh.columns.image, "none");
    testing::expect_error([&] { load_catalog(ctx, fresh); }, {"price"});
    fresh.absent_columns_are_empty = true;
    auto new_catalog = load_catalog(ctx, fresh);
    EXPECT_EQ(new_catalog.layout.absent_columns, (std::vector<std::string>{"price", "rating"}));
    const auto fresh_block = extract_features(ctx, new_catalog, options, &tables);
    EXPECT_EQ(to_learning_input(fresh_block).schema, to_learning_input(block).schema);
    EXPECT_EQ(table_difference(tables_of(fresh_block), tables), "");

    const auto column = [](const ItemFeatureBlock& b, const std::string& name) {
      for (const auto& c : b.categorical)
        if (c.name == name) return c;
      ADD_FAILURE() << "no column " << name;
      return CategoricalColumn{};
    };
    const std::size_t numeric_columns = fresh_block.numeric_columns.size();
    for (std::size_t i = 0; i < fresh_block.local_rows(); ++i) {
      const bool unknown = fresh_block.ids[i] == "n1";
      // Nova is no training brand; Acme is.
      EXPECT_EQ(column(fresh_block, "brand").ids[i] == 0, unknown) << fresh_block.ids[i];
      EXPECT_EQ(column(fresh_block, "season").ids[i] == 0, unknown) << fresh_block.ids[i];
      // Text: terms keep their buckets and the training idf; buckets no training item had are dropped.
      const auto begin = fresh_block.text.offsets[i], end = fresh_block.text.offsets[i + 1];
      for (auto k = begin; k < end; ++k) EXPECT_GT(tables.idf[fresh_block.text.ids[k]], 0.0f);
      if (unknown) {
        auto distinct = hashed_terms("Zqxv plorb \n brand new words", options.hashing);
        std::sort(distinct.begin(), distinct.end());
        distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
        EXPECT_LT(end - begin, static_cast<std::int64_t>(distinct.size()) / 2) << "new words were kept";
      } else {
        EXPECT_GT(end - begin, 5);
      }
      // No price column: log_price 0 (the mean) and its missing flag 1.
      for (std::size_t c = 0; c < numeric_columns; ++c) {
        const auto& name = fresh_block.numeric_columns[c].name;
        const float value = fresh_block.numeric[i * numeric_columns + c];
        if (name == "log_price" || name == "rating") {
          EXPECT_EQ(value, 0.0f) << name;
        }
        if (name == "log_price_missing") {
          EXPECT_EQ(value, 1.0f);
        }
      }
    }
  });
}

TEST(FeaturesFrozen, RecipeTextRoundTrips) {
  FeatureRecipe recipe;
  recipe.catalog.columns = {"id", "name", "none", "maker", "path", "cost", "photo", {"a", "b,c"}, {"x"}};
  recipe.catalog.separator = "\t";
  recipe.catalog.header = io::HeaderMode::kPresent;
  recipe.catalog.category_level_separator = " / ";
  recipe.catalog.category_value_separator = "\\";
  recipe.had_tags = true;
  auto& f = recipe.features;
  f.hashing.hash_bits = 12;
  f.hashing.word_bigrams = false;
  f.hashing.char_ngram_min = 2;
  f.hashing.min_df = 3;
  f.year_from_title = false;
  f.min_count = 4;
  f.image_size = 224;
  f.image_channels = 3;
  f.image_mean = {0.485f, 0.456f, 0.406f};
  f.image_stddev = {0.229f, 0.224f, 0.225f};
  f.wordpiece_vocab = "/models/vocab.txt";
  f.max_tokens = 64;
  f.text_encoder = "/models/bert.pt";
  f.text_pooling = "mean";
  f.image_encoder = "/models/resnext.pt";
  f.encoder_batch = 7;
  recipe.text_encoder_digest = "0123";
  recipe.image_encoder_digest = "abcd";
  recipe.wordpiece_digest = "ffff";

  const auto back = recipe_from_text(to_text(recipe));
  EXPECT_EQ(to_text(back), to_text(recipe));
  EXPECT_EQ(back.catalog.columns.numeric, (std::vector<std::string>{"a", "b,c"}));
  EXPECT_EQ(back.catalog.separator, std::optional<std::string>("\t"));
  EXPECT_EQ(back.catalog.category_value_separator, "\\");
  EXPECT_EQ(back.features.describe(), recipe.features.describe());
  EXPECT_EQ(back.features.image_mean, recipe.features.image_mean);
  EXPECT_EQ(back.features.encoder_batch, 7);
  EXPECT_EQ(back.image_encoder_digest, "abcd");
  EXPECT_TRUE(back.had_tags);
  testing::expect_error([] { recipe_from_text("format=tailflow-feature-recipe 1\n"); }, {"catalog.id"});
  testing::expect_error([] { recipe_from_text("format=something else\n"); }, {"format"});
}

TEST(FeaturesFrozen, AModelDirectoryCarriesTablesRecipeAndVocabulary) {
  TempDir dir;
  const auto training = training_options(dir.write("items.csv", kTraining));
  const std::string vocab = dir.write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nred\nshirt\n");
  FeatureOptions options = feature_options();
  options.wordpiece_vocab = vocab;
  run_distributed({2}, [&](Context& ctx) {
    const fs::path root = comm::broadcast_string(ctx.comm(), dir.path().string(), 0);
    auto catalog = load_catalog(ctx, training);
    const auto block = extract_features(ctx, catalog, options);
    FeatureRecipe recipe;
    recipe.catalog.columns = catalog.layout.choices;
    recipe.features = options;
    recipe.features.wordpiece_vocab = (root / "vocab.txt").string();
    recipe.wordpiece_digest = file_digest(recipe.features.wordpiece_vocab);
    write_features(ctx, root / "features.h5", block, "fp", "settings", to_text(recipe));
    write_features(ctx, root / "old.h5", block, "fp", "settings");  // as an older tailflow wrote it
    std::string error;
    if (ctx.is_root()) {
      save_featurizer(root / "features.h5", root / "model");
      testing::expect_error([&] { save_featurizer(root / "old.h5", root / "model2"); },
                            {"no feature recipe"});
      testing::expect_error([&] { load_featurizer(root / "model2"); }, {"feature_tables.h5"});
    }
    ctx.comm().barrier();
    EXPECT_TRUE(has_featurizer(root / "model"));
    const auto featurizer = load_featurizer(root / "model");
    EXPECT_EQ(table_difference(featurizer.tables, tables_of(block)), "");
    EXPECT_EQ(featurizer.features_fingerprint, "fp");
    EXPECT_EQ(featurizer.recipe.features.wordpiece_vocab, (root / "model" / "wordpiece_vocab.txt").string());
    EXPECT_EQ(featurizer.recipe.catalog.columns.brand, "brand");
    ctx.comm().barrier();
    if (ctx.is_root()) {
      std::ofstream(root / "model" / "wordpiece_vocab.txt", std::ios::app) << "blue\n";
      testing::expect_error([&] { load_featurizer(root / "model"); }, {"wordpiece_vocab.txt", "differs"});
    }
    ctx.comm().barrier();  // rank 0's TempDir goes when every rank is done
  });
}

}  // namespace
}  // namespace tailflow::ops::features
