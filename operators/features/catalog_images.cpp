#include "operators/features/catalog_images.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "engine/error.hpp"
#include "engine/io/parse_number.hpp"
#include "operators/features/image_loading.hpp"

namespace tailflow::ops::features {

CatalogImageLoader::CatalogImageLoader(const Catalog& catalog, const CatalogImageOptions& options)
    : catalog_path_(catalog.path), image_column_(catalog.layout.image_column), options_(options) {
  if (options.size <= 0 || (options.channels != 1 && options.channels != 3))
    throw Error(fmt::format("image size {} / channels {}: the size must be > 0, channels 1 or 3",
                            options.size, options.channels));
  root_ = !options.image_root.empty() ? std::filesystem::path(options.image_root)
                                      : std::filesystem::path(catalog.path).parent_path();
  if (!options.images_idx.empty()) idx_ = datagen::read_idx_images(options.images_idx);
}

std::size_t CatalogImageLoader::image_values() const {
  return static_cast<std::size_t>(options_.channels) * options_.size * options_.size;
}

bool CatalogImageLoader::load(const ItemRecord& record, std::span<float> out) const {
  if (out.size() != image_values())
    throw Error(fmt::format("image loader: room for {} values, an image has {}", out.size(), image_values()));
  if (record.image.empty()) {
    std::fill(out.begin(), out.end(), 0.0f);
    return false;
  }
  Image image;
  if (idx_) {
    std::uint64_t index = 0;
    if (io::parse_number(record.image, index) != io::NumberError::kNone)
      throw InputError(
          catalog_path_, record.line, image_column_,
          fmt::format("'{}' is not a row number of the IDX file {}", record.image, options_.images_idx));
    image = image_from_idx(*idx_, index, options_.channels);
  } else {
    std::filesystem::path file(record.image);
    image = load_image_file(file.is_absolute() ? file : root_ / file, options_.channels);
  }
  if (image.height != options_.size || image.width != options_.size)
    image = resize_bilinear(image, options_.size, options_.size);
  normalise(image, options_.mean, options_.stddev);
  std::copy(image.pixels.begin(), image.pixels.end(), out.begin());
  return true;
}

}  // namespace tailflow::ops::features
