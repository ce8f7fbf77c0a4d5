#include "operators/datagen/product_photos.hpp"

#include <fmt/format.h>

#include "engine/error.hpp"

namespace tailflow::ops::datagen {
namespace {

// The Debian package ships the files compressed; a user may have unpacked them.
std::filesystem::path find_part(const std::filesystem::path& dir, const std::string& stem) {
  for (const char* suffix : {".gz", ""}) {
    std::filesystem::path candidate = dir / (stem + suffix);
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
  }
  throw Error(fmt::format(
      "Fashion-MNIST file {} not found in {} — the fashion shop needs its product photos: install them "
      "with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or pass --images-dir DIR holding "
      "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
      "t10k-labels-idx1-ubyte.gz",
      stem + ".gz", dir.string()));
}

ProductPhotos load_part(const std::filesystem::path& dir, const std::string& prefix) {
  ProductPhotos part;
  std::filesystem::path images = find_part(dir, prefix + "-images-idx3-ubyte");
  std::filesystem::path labels = find_part(dir, prefix + "-labels-idx1-ubyte");
  part.images = read_idx_images(images);
  part.labels = read_idx_labels(labels);
  validate_photos(part, images.string() + " and " + labels.string());
  return part;
}

}  // namespace

void validate_photos(const ProductPhotos& photos, const std::string& source) {
  if (photos.images.count != photos.labels.size())
    throw Error(
        fmt::format("{}: {} images but {} labels", source, photos.images.count, photos.labels.size()));
  if (photos.labels.empty()) throw Error(fmt::format("{}: no photos", source));
  for (std::size_t i = 0; i < photos.labels.size(); ++i)
    if (photos.labels[i] >= kPhotoClasses)
      throw Error(fmt::format("{}: label {} of image {} is not a Fashion-MNIST class (0..{})", source,
                              photos.labels[i], i, kPhotoClasses - 1));
}

ProductPhotos load_fashion_mnist(const std::filesystem::path& dir) {
  ProductPhotos photos = load_part(dir, "train");
  ProductPhotos test = load_part(dir, "t10k");
  if (test.images.rows != photos.images.rows || test.images.cols != photos.images.cols)
    throw Error(fmt::format("{}: training photos are {} x {} pixels but test photos are {} x {}",
                            dir.string(), photos.images.rows, photos.images.cols, test.images.rows,
                            test.images.cols));
  photos.images.count += test.images.count;
  photos.images.pixels.insert(photos.images.pixels.end(), test.images.pixels.begin(),
                              test.images.pixels.end());
  photos.labels.insert(photos.labels.end(), test.labels.begin(), test.labels.end());
  return photos;
}

}  // namespace tailflow::ops::datagen
