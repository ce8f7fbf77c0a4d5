// Pretrained TorchScript encoders: tiny models written from C++, loaded back and run frozen.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/error.hpp"
#include "operators/learning/torchscript_encoder.hpp"
#include "operators/learning/torchscript_examples.hpp"

namespace tailflow::ops::learning {
namespace {

class TorchScriptEncoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tailflow_torchscript_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST_F(TorchScriptEncoderTest, TextEncoderPoolsClsOrMeanOverRealTokens) {
  const std::int64_t vocabulary = 6, hidden = 3;
  std::vector<float> table(vocabulary * hidden);
  for (std::size_t i = 0; i < table.size(); ++i) table[i] = static_cast<float>(i) * 0.5f - 2.0f;
  write_example_text_encoder(path("text.pt"), vocabulary, hidden, table);

  TorchScriptEncoder encoder(path("text.pt"));
  EXPECT_EQ(encoder.output_dims(), 0);
  // Different lengths (padding and mask), an empty sequence, and a batch size that splits them.
  std::vector<std::vector<std::int64_t>> sequences = {{1, 4, 5}, {2}, {}, {3, 3}};
  std::vector<float> cls = encoder.encode_text(sequences, TextPooling::kCls, /*batch_size=*/3);
  std::vector<float> mean = encoder.encode_text(sequences, TextPooling::kMean, /*batch_size=*/3);
  ASSERT_EQ(encoder.output_dims(), hidden);
  ASSERT_EQ(cls.size(), sequences.size() * hidden);
  ASSERT_EQ(mean.size(), sequences.size() * hidden);
  for (std::size_t s = 0; s < sequences.size(); ++s)
    for (std::int64_t h = 0; h < hidden; ++h) {
      float first = sequences[s].empty() ? 0.0f : table[sequences[s][0] * hidden + h];
      float sum = 0;
      for (std::int64_t id : sequences[s]) sum += table[id * hidden + h];
      float average = sequences[s].empty() ? 0.0f : sum / static_cast<float>(sequences[s].size());
      EXPECT_FLOAT_EQ(cls[s * hidden + h], first) << "sequence " << s;
      EXPECT_NEAR(mean[s * hidden + h], average, 1e-6) << "sequence " << s;
    }
  // Truncation to max_length: only the first token counts.
  std::vector<float> truncated = encoder.encode_text({{1, 4, 5}}, TextPooling::kMean, 8, 0, /*max_length=*/1);
  for (std::int64_t h = 0; h < hidden; ++h) EXPECT_FLOAT_EQ(truncated[h], table[1 * hidden + h]);
}

TEST_F(TorchScriptEncoderTest, ImageEncoderFlattensBackboneFeatures) {
  const std::int64_t channels = 2, outputs = 3, side = 4;
  std::vector<float> projection(channels * 4 * outputs);
  for (std::size_t i = 0; i < projection.size(); ++i) projection[i] = static_cast<float>(i % 5) - 1.0f;
  write_example_image_encoder(path("image.pt"), channels, outputs, projection);

  const std::int64_t count = 3;
  std::vector<float> pixels(count * channels * side * side);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<float>((i * 7) % 11) / 10.0f;
  TorchScriptEncoder encoder(path("image.pt"));
  std::vector<float> features = encoder.encode_images(pixels, count, channels, side, side, /*batch_size=*/2);
  ASSERT_EQ(encoder.output_dims(), outputs);
  ASSERT_EQ(features.size(), static_cast<std::size_t>(count * outputs));
  for (std::int64_t n = 0; n < count; ++n) {
    // Quadrant means, channel-major (c, qy, qx), then the projection.
    std::vector<float> pooled;
    for (std::int64_t c = 0; c < channels; ++c)
      for (std::int64_t qy = 0; qy < 2; ++qy)
        for (std::int64_t qx = 0; qx < 2; ++qx) {
          float sum = 0;
          for (std::int64_t y = 0; y < 2; ++y)
            for (std::int64_t x = 0; x < 2; ++x)
              sum += pixels[((n * channels + c) * side + qy * 2 + y) * side + qx * 2 + x];
          pooled.push_back(sum / 4);
        }
    for (std::int64_t o = 0; o < outputs; ++o) {
      float expected = 0;
      for (std::size_t p = 0; p < pooled.size(); ++p) expected += pooled[p] * projection[p * outputs + o];
      EXPECT_NEAR(features[n * outputs + o], expected, 1e-5) << "image " << n << " output " << o;
    }
  }
  EXPECT_THROW(encoder.encode_images(pixels, count + 1, channels, side, side), Error);
}

TEST_F(TorchScriptEncoderTest, BadFilesGiveClearErrors) {
  EXPECT_THROW(TorchScriptEncoder(path("missing.pt")), Error);
  std::ofstream(path("not_a_model.pt")) << "hello";
  try {
    TorchScriptEncoder encoder(path("not_a_model.pt"));
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("TorchScript"), std::string::npos) << error.what();
  }
  EXPECT_THROW(parse_text_pooling("max"), Error);
}

}  // namespace
}  // namespace tailflow::ops::learning
