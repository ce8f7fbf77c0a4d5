// Product images as model input: decoded (IDX, PNG, JPEG), resized, normalised.
//
// An Image holds channels x height x width floats in [0, 1] (channel-major, the layout of a torch tensor),
// whatever the source: IDX rows are grey-scale bytes (operators/datagen/idx_images.hpp reads the file), PNG
// files go through libpng's simplified API and JPEG files through libjpeg(-turbo), each converted to the
// requested number of channels (1 = luminance, 3 = RGB). Every decoding error names the file.
//
// Resizing is bilinear with pixel centres aligned (OpenCV's INTER_LINEAR, torch's align_corners=false), so
// shrinking by an integer factor averages neighbouring pixels and resizing to the same size is the identity.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "operators/datagen/idx_images.hpp"

namespace tailflow::ops::features {

struct Image {
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<float> pixels;  // channels x height x width

  float at(int channel, int row, int col) const {
    return pixels[(static_cast<std::size_t>(channel) * height + row) * width + col];
  }
};

// Image `index` of an IDX file, as one channel (or replicated to 3).
Image image_from_idx(const datagen::IdxImages& images, std::size_t index, int channels = 1);

// A PNG or JPEG file (recognised by its first bytes), as `channels` (1 or 3) channels.
Image load_image_file(const std::filesystem::path& file, int channels);

// Writes 8-bit PNG (1 or 3 channels; values clamped to [0, 1]). For tests and for looking at inputs.
void write_png(const std::filesystem::path& file, const Image& image);

Image resize_bilinear(const Image& image, int height, int width);

// (value - mean[c]) / stddev[c] per channel; a single mean / stddev applies to every channel.
void normalise(Image& image, std::span<const float> mean, std::span<const float> stddev);

}  // namespace tailflow::ops::features
