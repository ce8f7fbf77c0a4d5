#include "operators/features/image_loading.hpp"

#include <fmt/format.h>
#include <png.h>
// jpeglib.h needs FILE and size_t declared before it.
#include <jpeglib.h>
#include <cstddef>
#include <cstdio>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <fstream>
#include <iterator>
#include <string>

#include "engine/error.hpp"

namespace tailflow::ops::features {

namespace {

void check_channels(int channels, const std::string& what) {
  if (channels != 1 && channels != 3)
    throw Error(fmt::format("{}: images can have 1 (grey) or 3 (RGB) channels, not {}", what, channels));
}

// Interleaved 8-bit pixels (height x width x channels) to a channel-major float image in [0, 1].
Image from_interleaved(const std::uint8_t* bytes, int channels, int height, int width) {
  Image image{channels, height, width,
              std::vector<float>(static_cast<std::size_t>(channels) * height * width)};
  const std::size_t plane = static_cast<std::size_t>(height) * width;
  for (std::size_t p = 0; p < plane; ++p)
    for (int c = 0; c < channels; ++c) image.pixels[c * plane + p] = bytes[p * channels + c] / 255.0f;
  return image;
}

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot read image file '{}'", file.string()));
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// RAII for libpng's simplified-API state.
class PngImage {
 public:
  PngImage() {
    image_ = {};
    image_.version = PNG_IMAGE_VERSION;
  }
  ~PngImage() { png_image_free(&image_); }
  PngImage(const PngImage&) = delete;
  PngImage& operator=(const PngImage&) = delete;
  png_image* get() { return &image_; }

 private:
  png_image image_;
};

Image decode_png(const std::vector<std::uint8_t>& bytes, int channels, const std::filesystem::path& file) {
  PngImage png;
  if (!png_image_begin_read_from_memory(png.get(), bytes.data(), bytes.size()))
    throw Error(fmt::format("cannot decode PNG '{}': {}", file.string(), png.get()->message));
  png.get()->format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  std::vector<std::uint8_t> pixels(PNG_IMAGE_SIZE(*png.get()));
  // Transparent pixels are composited onto white (a product photo's usual background).
  png_color white{255, 255, 255};
  if (!png_image_finish_read(png.get(), &white, pixels.data(), 0, nullptr))
    throw Error(fmt::format("cannot decode PNG '{}': {}", file.string(), png.get()->message));
  return from_interleaved(pixels.data(), channels, static_cast<int>(png.get()->height),
                          static_cast<int>(png.get()->width));
}

// libjpeg reports errors through a callback that must not return: it jumps back to decode_jpeg_pixels,
// which keeps no C++ objects alive across the setjmp, and the message is turned into an exception there.
struct JpegErrorManager {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_jpeg_error(j_common_ptr info) {
  auto* errors = reinterpret_cast<JpegErrorManager*>(info->err);
  (*info->err->format_message)(info, errors->message);
  std::longjmp(errors->jump, 1);
}

// Decodes into `pixels` (resized on success); returns false and fills `message` on failure.
bool decode_jpeg_pixels(const std::uint8_t* data, std::size_t size, int channels,
                        std::vector<std::uint8_t>& pixels, int& height, int& width, char* message) {
  jpeg_decompress_struct info;
  JpegErrorManager errors;
  info.err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = on_jpeg_error;
  // Warnings (e.g. a truncated file, decoded as far as it goes) would go to stderr; the image is used as is.
  errors.manager.output_message = [](j_common_ptr) {};
  if (setjmp(errors.jump)) {
    std::snprintf(message, JMSG_LENGTH_MAX, "%s", errors.message);
    jpeg_destroy_decompress(&info);
    return false;
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, data, static_cast<unsigned long>(size));
  jpeg_read_header(&info, TRUE);
  info.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&info);
  height = static_cast<int>(info.output_height);
  width = static_cast<int>(info.output_width);
  const std::size_t stride = static_cast<std::size_t>(width) * channels;
  pixels.resize(stride * height);
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = pixels.data() + stride * info.output_scanline;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  return true;
}

Image decode_jpeg(const std::vector<std::uint8_t>& bytes, int channels, const std::filesystem::path& file) {
  std::vector<std::uint8_t> pixels;
  int height = 0, width = 0;
  char message[JMSG_LENGTH_MAX] = {0};
  if (!decode_jpeg_pixels(bytes.data(), bytes.size(), channels, pixels, height, width, message))
    throw Error(fmt::format("cannot decode JPEG '{}': {}", file.string(), message));
  return from_interleaved(pixels.data(), channels, height, width);
}

}  // namespace

Image image_from_idx(const datagen::IdxImages& images, std::size_t index, int channels) {
  check_channels(channels, "IDX image");
  if (index >= images.count)
    throw Error(fmt::format("image index {} is outside the IDX file's {} images", index, images.count));
  auto grey = images.image(index);
  const int height = static_cast<int>(images.rows), width = static_cast<int>(images.cols);
  Image image{channels, height, width, std::vector<float>(static_cast<std::size_t>(channels) * grey.size())};
  for (int c = 0; c < channels; ++c)
    std::transform(grey.begin(), grey.end(),
                   image.pixels.begin() + static_cast<std::ptrdiff_t>(c * grey.size()),
                   [](std::uint8_t v) { return v / 255.0f; });
  return image;
}

Image load_image_file(const std::filesystem::path& file, int channels) {
  check_channels(channels, file.string());
  auto bytes = read_bytes(file);
  static constexpr std::uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (bytes.size() >= 8 && std::equal(kPngSignature, kPngSignature + 8, bytes.begin()))
    return decode_png(bytes, channels, file);
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
    return decode_jpeg(bytes, channels, file);
  throw Error(fmt::format("image file '{}' is neither PNG nor JPEG (by its first bytes)", file.string()));
}

void write_png(const std::filesystem::path& file, const Image& image) {
  check_channels(image.channels, file.string());
  const std::size_t plane = static_cast<std::size_t>(image.height) * image.width;
  std::vector<std::uint8_t> interleaved(plane * image.channels);
  for (std::size_t p = 0; p < plane; ++p)
    for (int c = 0; c < image.channels; ++c)
      interleaved[p * image.channels + c] = static_cast<std::uint8_t>(
          std::lround(std::clamp(image.pixels[c * plane + p], 0.0f, 1.0f) * 255.0f));
  PngImage png;
  png.get()->width = static_cast<png_uint_32>(image.width);
  png.get()->height = static_cast<png_uint_32>(image.height);
  png.get()->format = image.channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  if (!png_image_write_to_file(png.get(), file.c_str(), 0, interleaved.data(), 0, nullptr))
    throw Error(fmt::format("cannot write PNG '{}': {}", file.string(), png.get()->message));
}

Image resize_bilinear(const Image& image, int height, int width) {
  if (height <= 0 || width <= 0) throw Error(fmt::format("cannot resize an image to {}x{}", height, width));
  if (image.height <= 0 || image.width <= 0) throw Error("cannot resize an empty image");
  Image out{image.channels, height, width,
            std::vector<float>(static_cast<std::size_t>(image.channels) * height * width)};
  const double scale_y = static_cast<double>(image.height) / height;
  const double scale_x = static_cast<double>(image.width) / width;
  // Source coordinate of an output pixel centre, clamped to the image: (dst + 0.5) * scale - 0.5.
  auto source = [](int dst, double scale, int size, int& low, int& high, float& fraction) {
    double s = std::clamp((dst + 0.5) * scale - 0.5, 0.0, static_cast<double>(size - 1));
    low = static_cast<int>(std::floor(s));
    high = std::min(low + 1, size - 1);
    fraction = static_cast<float>(s - low);
  };
  for (int y = 0; y < height; ++y) {
    int y0, y1;
    float fy;
    source(y, scale_y, image.height, y0, y1, fy);
    for (int x = 0; x < width; ++x) {
      int x0, x1;
      float fx;
      source(x, scale_x, image.width, x0, x1, fx);
      for (int c = 0; c < image.channels; ++c) {
        float top = image.at(c, y0, x0) * (1 - fx) + image.at(c, y0, x1) * fx;
        float bottom = image.at(c, y1, x0) * (1 - fx) + image.at(c, y1, x1) * fx;
        out.pixels[(static_cast<std::size_t>(c) * height + y) * width + x] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}

void normalise(Image& image, std::span<const float> mean, std::span<const float> stddev) {
  auto per_channel = [&](std::span<const float> values, int c, const char* what) {
    if (values.size() == 1) return values[0];
    if (values.size() != static_cast<std::size_t>(image.channels))
      throw Error(fmt::format("image {}: give 1 or {} values (one per channel), not {}", what, image.channels,
                              values.size()));
    return values[c];
  };
  const std::size_t plane = static_cast<std::size_t>(image.height) * image.width;
  for (int c = 0; c < image.channels; ++c) {
    const float m = per_channel(mean, c, "mean"), s = per_channel(stddev, c, "standard deviation");
    if (!(s > 0)) throw Error(fmt::format("image standard deviation must be positive, not {}", s));
    for (std::size_t p = 0; p < plane; ++p)
      image.pixels[c * plane + p] = (image.pixels[c * plane + p] - m) / s;
  }
}

}  // namespace tailflow::ops::features
