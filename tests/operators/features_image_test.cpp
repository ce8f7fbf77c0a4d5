// Image inputs: bilinear resize and normalisation on tiny synthetic images, IDX rows, PNG round trip, and
// errors that name the file.
#include "operators/features/image_loading.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/error.hpp"
#include "tests/support/temp_dir.hpp"

namespace tailflow::ops::features {
namespace {

namespace fs = std::filesystem;

Image ramp(int channels, int height, int width) {
  Image image{channels, height, width, {}};
  for (int c = 0; c < channels; ++c)
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x)
        image.pixels.push_back(static_cast<float>(c * 100 + y * width + x) / 255.0f);
  return image;
}

using testing::TempDir;

TEST(FeaturesImage, ResizeToTheSameSizeIsTheIdentity) {
  Image image = ramp(3, 4, 5);
  Image same = resize_bilinear(image, 4, 5);
  for (std::size_t i = 0; i < image.pixels.size(); ++i) EXPECT_FLOAT_EQ(same.pixels[i], image.pixels[i]);
}

TEST(FeaturesImage, HalvingAveragesPixelPairs) {
  Image image{1, 2, 4, {0.0f, 0.2f, 0.4f, 0.6f, 1.0f, 1.0f, 0.0f, 0.0f}};
  Image half = resize_bilinear(image, 1, 2);
  ASSERT_EQ(half.pixels.size(), 2u);
  // Output pixel centres fall between source pixels: the mean of each 2x2 block.
  EXPECT_NEAR(half.pixels[0], (0.0f + 0.2f + 1.0f + 1.0f) / 4, 1e-6);
  EXPECT_NEAR(half.pixels[1], (0.4f + 0.6f + 0.0f + 0.0f) / 4, 1e-6);
  // Upscaling a constant image stays constant.
  Image flat{1, 2, 2, {0.3f, 0.3f, 0.3f, 0.3f}};
  for (float v : resize_bilinear(flat, 5, 7).pixels) EXPECT_NEAR(v, 0.3f, 1e-6);
  EXPECT_THROW(resize_bilinear(flat, 0, 3), Error);
}

TEST(FeaturesImage, NormalisesPerChannel) {
  Image image{2, 1, 2, {0.5f, 1.0f, 0.0f, 0.25f}};
  std::vector<float> mean = {0.5f, 0.0f}, stddev = {0.5f, 0.25f};
  normalise(image, mean, stddev);
  EXPECT_EQ(image.pixels, (std::vector<float>{0.0f, 1.0f, 0.0f, 1.0f}));
  std::vector<float> three = {1, 2, 3};
  EXPECT_THROW(normalise(image, three, stddev), Error);
  std::vector<float> zero = {0.0f};
  EXPECT_THROW(normalise(image, mean, zero), Error);
}

TEST(FeaturesImage, IdxRowsBecomeGreyOrReplicatedRgb) {
  datagen::IdxImages idx{2, 2, 2, {0, 255, 51, 102, 255, 255, 255, 255}};
  Image grey = image_from_idx(idx, 0);
  EXPECT_EQ(grey.channels, 1);
  EXPECT_FLOAT_EQ(grey.at(0, 0, 1), 1.0f);
  EXPECT_FLOAT_EQ(grey.at(0, 1, 0), 0.2f);
  Image rgb = image_from_idx(idx, 1, 3);
  EXPECT_EQ(rgb.pixels, std::vector<float>(12, 1.0f));
  EXPECT_THROW(image_from_idx(idx, 2), Error);
}

TEST(FeaturesImage, PngRoundTripInGreyAndRgb) {
  TempDir dir;
  Image rgb = ramp(3, 3, 4);
  write_png(dir.path() / "rgb.png", rgb);
  Image back = load_image_file(dir.path() / "rgb.png", 3);
  ASSERT_EQ(back.pixels.size(), rgb.pixels.size());
  for (std::size_t i = 0; i < rgb.pixels.size(); ++i) EXPECT_NEAR(back.pixels[i], rgb.pixels[i], 0.5 / 255);
  // The same file as grey: luminance, between the channels' extremes.
  Image grey = load_image_file(dir.path() / "rgb.png", 1);
  EXPECT_EQ(grey.channels, 1);
  EXPECT_EQ(grey.height, 3);
  EXPECT_EQ(grey.width, 4);
  Image one = ramp(1, 5, 2);
  write_png(dir.path() / "grey.png", one);
  Image grey_back = load_image_file(dir.path() / "grey.png", 1);
  for (std::size_t i = 0; i < one.pixels.size(); ++i)
    EXPECT_NEAR(grey_back.pixels[i], one.pixels[i], 0.5 / 255);
}

TEST(FeaturesImage, ErrorsNameTheFile) {
  TempDir dir;
  {
    std::ofstream(dir.path() / "notes.png") << "not an image";
    std::ofstream(dir.path() / "broken.jpg", std::ios::binary) << "\xFF\xD8\xFF\xE0 truncated";
  }
  for (const char* name : {"notes.png", "broken.jpg", "missing.png"}) {
    try {
      load_image_file(dir.path() / name, 1);
      ADD_FAILURE() << name << " loaded";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace tailflow::ops::features
