// The tiny TorchScript encoders and vocab.txt that tests/cli/pretrained_encoders_test.sh feeds to
// `tailflow features --text-encoder/--image-encoder`: written here, from C++, because the command test has
// no other way to make TorchScript files (no Python torch, no downloads). image_encoder_b.pt is a second
// backbone with other weights. With TAILFLOW_EXAMPLE_ENCODERS set
// to a directory the files are written there; otherwise into a temporary directory. Either way the test
// checks that they load and give outputs of the advertised widths.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "operators/learning/torchscript_encoder.hpp"
#include "operators/learning/torchscript_examples.hpp"
#include "tests/support/temp_dir.hpp"

namespace tailflow::ops::learning {
namespace {

namespace fs = std::filesystem;

// Words of the generated fashion shop's titles, so that the text encoder sees more than [UNK].
const std::vector<std::string> kVocabulary = {
    "[PAD]", "[UNK]",    "[CLS]",    "[SEP]",   "[MASK]",   "black",   "navy",    "red",    "white",
    "grey",  "blue",     "green",    "pink",    "beige",    "cotton",  "wool",    "linen",  "denim",
    "silk",  "leather",  "suede",    "canvas",  "casual",   "classic", "vintage", "sporty", "elegant",
    "slim",  "regular",  "relaxed",  "t",       "-",        "shirt",   "top",     "tee",    "dress",
    "coat",  "trousers", "pullover", "sandals", "sneakers", "bag",     "boots",   "women",  "men",
    "kids",  "s",        "##s",      "the",     "a"};

constexpr std::int64_t kTextHidden = 4, kImageOutputs = 3;

TEST(ExampleEncoderFiles, WrittenForTheCommandTestAndLoadable) {
  testing::TempDir scratch;
  const char* requested = std::getenv("TAILFLOW_EXAMPLE_ENCODERS");
  const fs::path dir = requested ? fs::path(requested) : scratch.path();
  fs::create_directories(dir);
  {
    std::ofstream vocab(dir / "vocab.txt");
    for (const auto& token : kVocabulary) vocab << token << "\n";
  }
  std::vector<float> table(kVocabulary.size() * kTextHidden);
  for (std::size_t i = 0; i < table.size(); ++i) table[i] = std::sin(static_cast<float>(i) * 0.9f);
  std::vector<float> projection(3 * 4 * kImageOutputs);
  for (std::size_t i = 0; i < projection.size(); ++i) projection[i] = std::cos(static_cast<float>(i) * 1.7f);
  write_example_text_encoder((dir / "text_encoder.pt").string(),
                             static_cast<std::int64_t>(kVocabulary.size()), kTextHidden, table);
  write_example_image_encoder((dir / "image_encoder.pt").string(), 3, kImageOutputs, projection);
  // A second backbone with other weights: the command test checks that the cache notices the new bytes.
  for (auto& value : projection) value = -2 * value;
  write_example_image_encoder((dir / "image_encoder_b.pt").string(), 3, kImageOutputs, projection);

  TorchScriptEncoder text((dir / "text_encoder.pt").string());
  const std::vector<std::int32_t> ids = {2, 7, 32, 3, 0, 0};
  const std::vector<std::uint8_t> mask = {1, 1, 1, 1, 0, 0};
  auto pooled = text.encode_tokens(ids, mask, 1, 6, TextPooling::kCls);
  ASSERT_EQ(pooled.size(), static_cast<std::size_t>(kTextHidden));
  for (std::int64_t h = 0; h < kTextHidden; ++h) EXPECT_FLOAT_EQ(pooled[h], table[2 * kTextHidden + h]);
  TorchScriptEncoder image((dir / "image_encoder.pt").string());
  std::vector<float> pixels(2 * 3 * 8 * 8, 0.25f);
  EXPECT_EQ(image.encode_images(pixels, 2, 3, 8, 8).size(), static_cast<std::size_t>(2 * kImageOutputs));
}

}  // namespace
}  // namespace tailflow::ops::learning
