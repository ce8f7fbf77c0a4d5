#include "operators/datagen/idx_images.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <memory>

#include "engine/error.hpp"

namespace tailflow::ops::datagen {
namespace {

constexpr std::uint32_t kImagesMagic = 0x00000803;
constexpr std::uint32_t kLabelsMagic = 0x00000801;
// A corrupt header must not make us allocate terabytes: no real IDX file comes near this.
constexpr std::uint64_t kMaxValues = std::uint64_t{1} << 34;

struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// An open IDX file and the bookkeeping for messages that name it.
class IdxReader {
 public:
  explicit IdxReader(const std::filesystem::path& path) : path_(path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw Error(fmt::format("{}: no such file", path.string()));
    if (std::filesystem::is_directory(path, ec))
      throw Error(fmt::format("{}: is a directory, expected an IDX file", path.string()));
    file_.reset(gzopen(path.c_str(), "rb"));
    if (!file_) throw Error(fmt::format("{}: cannot open for reading", path.string()));
    gzbuffer(file_.get(), 1 << 20);
  }

  // Reads exactly `bytes` bytes; `what` names them in the error message.
  void read(void* data, std::uint64_t bytes, const char* what) {
    auto* out = static_cast<unsigned char*>(data);
    std::uint64_t done = 0;
    while (done < bytes) {
      auto chunk = static_cast<unsigned>(std::min<std::uint64_t>(bytes - done, 1u << 30));
      int got = gzread(file_.get(), out + done, chunk);
      if (got < 0) {
        int code = 0;
        const char* message = gzerror(file_.get(), &code);
        throw Error(fmt::format("{}: corrupt or unreadable while reading {}: {}", path_.string(), what,
                                message ? message : "unknown zlib error"));
      }
      if (got == 0)
        throw Error(fmt::format("{}: truncated: the {} need {} bytes, the file ends after {}", path_.string(),
                                what, bytes, done));
      done += static_cast<std::uint64_t>(got);
    }
  }

  std::uint32_t read_big_endian_u32(const char* what) {
    std::array<unsigned char, 4> b{};
    read(b.data(), b.size(), what);
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
  }

  void expect_magic(std::uint32_t expected, const char* kind) {
    std::uint32_t magic = read_big_endian_u32("header");
    if (magic != expected)
      throw Error(fmt::format("{}: not an IDX {} file (magic number 0x{:08x}, expected 0x{:08x})",
                              path_.string(), kind, magic, expected));
  }

  // Trailing bytes mean the header does not describe the file: better to say so than to ignore them.
  void expect_end() {
    unsigned char extra = 0;
    if (gzread(file_.get(), &extra, 1) > 0)
      throw Error(
          fmt::format("{}: longer than its header says (corrupt header or wrong file)", path_.string()));
  }

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  GzFile file_;
};

std::string big_endian(std::uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16), static_cast<char>(value >> 8),
          static_cast<char>(value)};
}

}  // namespace

IdxImages read_idx_images(const std::filesystem::path& file) {
  IdxReader reader(file);
  reader.expect_magic(kImagesMagic, "image");
  IdxImages images;
  images.count = reader.read_big_endian_u32("header");
  images.rows = reader.read_big_endian_u32("header");
  images.cols = reader.read_big_endian_u32("header");
  if (images.rows == 0 || images.cols == 0)
    throw Error(
        fmt::format("{}: corrupt header: images of {} x {} pixels", file.string(), images.rows, images.cols));
  std::uint64_t values = std::uint64_t{images.count} * images.rows * images.cols;
  if (values > kMaxValues)
    throw Error(fmt::format("{}: corrupt header: {} images of {} x {} pixels is implausibly large",
                            file.string(), images.count, images.rows, images.cols));
  images.pixels.resize(values);
  reader.read(images.pixels.data(), values, "pixels");
  reader.expect_end();
  return images;
}

std::vector<std::uint8_t> read_idx_labels(const std::filesystem::path& file) {
  IdxReader reader(file);
  reader.expect_magic(kLabelsMagic, "label");
  std::uint32_t count = reader.read_big_endian_u32("header");
  std::vector<std::uint8_t> labels(count);
  reader.read(labels.data(), count, "labels");
  reader.expect_end();
  return labels;
}

std::string idx3_header(std::uint32_t count, std::uint32_t rows, std::uint32_t cols) {
  return big_endian(kImagesMagic) + big_endian(count) + big_endian(rows) + big_endian(cols);
}

std::string idx1_header(std::uint32_t count) {
  return big_endian(kLabelsMagic) + big_endian(count);
}

}  // namespace tailflow::ops::datagen
