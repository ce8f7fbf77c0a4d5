// Reading IDX files, the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/).
//
// An IDX file is a big-endian header — magic number 0x00000803 (unsigned bytes, 3 dimensions) for images or
// 0x00000801 (1 dimension) for labels, then the size of each dimension as a 32-bit integer — followed by the
// values, row after row. Files may be gzip-compressed or not: zlib's gzread reads both.
// Every error is a tailflow::Error naming the file and what is wrong with it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace tailflow::ops::datagen {

// `count` grey-scale images of rows x cols bytes each (0 = background), stored one after the other.
struct IdxImages {
  std::uint32_t count = 0;
  std::uint32_t rows = 0;
  std::uint32_t cols = 0;
  std::vector<std::uint8_t> pixels;

  std::size_t image_size() const { return std::size_t{rows} * cols; }
  std::span<const std::uint8_t> image(std::size_t index) const {
    return std::span<const std::uint8_t>(pixels).subspan(index * image_size(), image_size());
  }
};

IdxImages read_idx_images(const std::filesystem::path& file);
std::vector<std::uint8_t> read_idx_labels(const std::filesystem::path& file);

// The 16-byte header of an uncompressed IDX3 image file; the pixels follow it.
std::string idx3_header(std::uint32_t count, std::uint32_t rows, std::uint32_t cols);
// The 8-byte header of an uncompressed IDX1 label file.
std::string idx1_header(std::uint32_t count);

}  // namespace tailflow::ops::datagen
