// Pretrained TorchScript encoders inside feature extraction: tiny encoders written from C++, run over a small
// catalog's WordPiece tokens and images on several rank counts; every item's dense vectors must be what
// the encoders give for that item alone (so any rank count gives the same vectors), and they reach the
// regressor's input as one concatenated dense block.
#include "operators/learning/pretrained_features.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "operators/datagen/idx_images.hpp"
#include "operators/features/feature_cache.hpp"
#include "operators/features/feature_extraction.hpp"
#include "operators/features/image_loading.hpp"
#include "operators/features/learning_input.hpp"
#include "operators/features/wordpiece_tokenizer.hpp"
#include "operators/learning/torchscript_examples.hpp"
#include "tests/support/distributed_test.hpp"
#include "tests/support/expect_error.hpp"
#include "tests/support/temp_dir.hpp"

namespace tailflow::ops::learning {
namespace {

using features::CatalogOptions;
using features::FeatureOptions;
using testing::run_distributed;
using testing::TempDir;
namespace fs = std::filesystem;

const std::vector<std::string> kVocabulary = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]",  "red",     "navy",   "white", "black",   "shirt", "coat", "wool",
    "linen", "silk",  "dress", "cotton", "classic", "casual", "boots", "leather", "slim",  "fit"};

const char* kCatalog =
    "item_id,title,description,brand,image\n"
    "a1,Red cotton shirt,classic slim fit,Acme,0\n"
    "a2,Navy wool coat,,Bolt,1\n"
    "a3,White linen shirt,casual,Acme,2\n"
    "a4,Black leather boots,,Crow,\n"
    "a5,Red silk dress,a dress,Bolt,3\n";

constexpr std::int64_t kHidden = 3, kOutputs = 2, kChannels = 3, kSide = 4;

// A fixed table and projection, so that the test can compute every expected vector by hand.
std::vector<float> text_table() {
  std::vector<float> table(kVocabulary.size() * kHidden);
  for (std::size_t i = 0; i < table.size(); ++i) table[i] = std::sin(static_cast<float>(i) * 1.3f);
  return table;
}
std::vector<float> image_projection() {
  std::vector<float> projection(kChannels * 4 * kOutputs);
  for (std::size_t i = 0; i < projection.size(); ++i) projection[i] = std::cos(static_cast<float>(i) * 0.7f);
  return projection;
}

struct Files {
  std::string catalog, idx, vocab, text_encoder, image_encoder;
};

Files write_files(const TempDir& dir) {
  Files files;
  files.catalog = dir.write("items.csv", kCatalog);
  std::string idx = datagen::idx3_header(4, kSide, kSide);
  for (int i = 0; i < 4 * kSide * kSide; ++i) idx += static_cast<char>((i * 37) % 256);
  files.idx = dir.write("images.idx", idx);
  std::string vocab;
  for (const auto& token : kVocabulary) vocab += token + "\n";
  files.vocab = dir.write("vocab.txt", vocab);
  files.text_encoder = (dir.path() / "text.pt").string();
  files.image_encoder = (dir.path() / "image.pt").string();
  write_example_text_encoder(files.text_encoder, static_cast<std::int64_t>(kVocabulary.size()), kHidden,
                             text_table());
  write_example_image_encoder(files.image_encoder, kChannels, kOutputs, image_projection());
  return files;
}

FeatureOptions encoder_options(const Files& files) {
  FeatureOptions options;
  options.hashing.hash_bits = 10;
  options.wordpiece_vocab = files.vocab;
  options.max_tokens = 8;
  options.text_encoder = files.text_encoder;
  options.text_pooling = "mean";
  options.images_idx = files.idx;
  options.image_size = kSide;
  options.image_channels = kChannels;
  options.image_encoder = files.image_encoder;
  options.encoder_batch = 2;  // batches that cut across items and ranks
  return options;
}

// The text vector of one catalog row, computed by hand: the mean of the table rows of its real tokens.
std::vector<float> expected_text(const std::string& text) {
  auto encoding = features::WordPieceTokenizer(kVocabulary).encode(text, 8);
  const auto table = text_table();
  std::vector<float> sum(kHidden, 0.0f);
  float tokens = 0;
  for (std::size_t t = 0; t < encoding.ids.size(); ++t) {
    if (!encoding.attention_mask[t]) continue;
    for (std::int64_t h = 0; h < kHidden; ++h) sum[h] += table[encoding.ids[t] * kHidden + h];
    ++tokens;
  }
  for (auto& value : sum) value /= tokens;
  return sum;
}

// The image vector by hand: quadrant means of the normalised RGB image, times the projection; 0 without one.
std::vector<float> expected_image(const datagen::IdxImages& idx, int index) {
  std::vector<float> out(kOutputs, 0.0f);
  if (index < 0) return out;
  auto image = features::image_from_idx(idx, static_cast<std::size_t>(index), kChannels);
  const std::vector<float> half = {0.5f};
  features::normalise(image, half, half);
  const auto projection = image_projection();
  std::size_t p = 0;
  for (int c = 0; c < kChannels; ++c)
    for (int qy = 0; qy < 2; ++qy)
      for (int qx = 0; qx < 2; ++qx, ++p) {
        float mean = 0;
        for (int y = 0; y < 2; ++y)
          for (int x = 0; x < 2; ++x) mean += image.at(c, qy * 2 + y, qx * 2 + x) / 4;
        for (std::int64_t o = 0; o < kOutputs; ++o) out[o] += mean * projection[p * kOutputs + o];
      }
  return out;
}

TEST(PretrainedFeatures, EveryRankCountGivesEachItemItsOwnEncoderVectors) {
  TempDir dir;
  const Files files = write_files(dir);
  const auto idx = datagen::read_idx_images(files.idx);
  const std::map<std::string, std::pair<std::string, int>> rows = {
      {"a1", {"Red cotton shirt classic slim fit", 0}},
      {"a2", {"Navy wool coat", 1}},
      {"a3", {"White linen shirt casual", 2}},
      {"a4", {"Black leather boots", -1}},
      {"a5", {"Red silk dress a dress", 3}}};
  CatalogOptions catalog_options;
  catalog_options.path = files.catalog;
  const FeatureOptions options = encoder_options(files);
  run_distributed({1, 2, 3}, [&](Context& ctx) {
    auto catalog = features::load_catalog(ctx, catalog_options);
    auto block = features::extract_features(ctx, catalog, options);
    EXPECT_TRUE(block.images.empty()) << "the backbone consumes the pixels; they are not kept";
    EXPECT_EQ(block.image_shape.channels, 0);
    add_pretrained_features(ctx, catalog, block, options);
    ASSERT_EQ(block.dense.size(), 2u);
    EXPECT_EQ(block.dense[0].name, "text_encoder");
    EXPECT_EQ(block.dense[0].dims, kHidden);
    EXPECT_EQ(block.dense[1].name, "image_encoder");
    EXPECT_EQ(block.dense[1].dims, kOutputs);
    auto input = features::to_learning_input(block);
    EXPECT_EQ(input.schema.dense_dims, kHidden + kOutputs);
    EXPECT_NO_THROW(validate(input.items, input.schema));
    for (std::size_t i = 0; i < block.local_rows(); ++i) {
      const auto& [text, image] = rows.at(block.ids[i]);
      auto want = expected_text(text);
      auto picture = expected_image(idx, image);
      want.insert(want.end(), picture.begin(), picture.end());
      for (std::size_t d = 0; d < want.size(); ++d)
        EXPECT_NEAR(input.items.dense[i * want.size() + d], want[d], 1e-5)
            << block.ids[i] << " dimension " << d << " on " << ctx.size() << " ranks";
    }
  });
}

TEST(PretrainedFeatures, DenseBlocksSurviveTheFeatureCache) {
  TempDir dir;
  const Files files = write_files(dir);
  CatalogOptions catalog_options;
  catalog_options.path = files.catalog;
  const FeatureOptions options = encoder_options(files);
  run_distributed({2}, [&](Context& ctx) {
    const fs::path master = comm::broadcast_string(ctx.comm(), (dir.path() / "features.h5").string(), 0);
    auto catalog = features::load_catalog(ctx, catalog_options);
    auto block = features::extract_features(ctx, catalog, options);
    add_pretrained_features(ctx, catalog, block, options);
    features::write_features(ctx, master, block, "fingerprint", "settings", "recipe text");
    auto back = features::read_features(master, ctx.rank(), ctx.size());
    ASSERT_EQ(back.dense.size(), 2u);
    for (std::size_t d = 0; d < 2; ++d) {
      EXPECT_EQ(back.dense[d].name, block.dense[d].name);
      EXPECT_EQ(back.dense[d].dims, block.dense[d].dims);
      EXPECT_EQ(back.dense[d].values, block.dense[d].values);
    }
    auto stored = features::read_feature_tables(master);
    EXPECT_EQ(stored.recipe, "recipe text");
    EXPECT_EQ(stored.fingerprint, "fingerprint");
    EXPECT_EQ(stored.tables.dense.size(), 2u);
    EXPECT_TRUE(stored.tables.dense[0].values.empty());
    ctx.comm().barrier();  // rank 0's TempDir goes when every rank has read
  });
}

TEST(PretrainedFeatures, MissingPiecesAreClearErrors) {
  TempDir dir;
  const Files files = write_files(dir);
  CatalogOptions catalog_options;
  catalog_options.path = files.catalog;
  run_distributed({2}, [&](Context& ctx) {
    auto catalog = features::load_catalog(ctx, catalog_options);
    FeatureOptions no_vocab = encoder_options(files);
    no_vocab.wordpiece_vocab.clear();
    testing::expect_error([&] { features::extract_features(ctx, catalog, no_vocab); }, {"--wordpiece-vocab"});
    FeatureOptions no_size = encoder_options(files);
    no_size.image_size = 0;
    testing::expect_error([&] { features::extract_features(ctx, catalog, no_size); }, {"--image-size"});
    FeatureOptions missing = encoder_options(files);
    missing.image_encoder = (dir.path() / "nowhere.pt").string();
    auto block = features::extract_features(ctx, catalog, missing);
    testing::expect_error([&] { add_pretrained_features(ctx, catalog, block, missing); }, {"nowhere.pt"});
  });
}

}  // namespace
}  // namespace tailflow::ops::learning
