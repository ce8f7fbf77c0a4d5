// The photo of each catalog item as model input: read (a row of an IDX file, or a PNG/JPEG file), resized to
// size x size and normalised, exactly as `tailflow features` does it for the built-in CNN tower and for a
// pretrained image backbone. One loader serves a whole catalog: the IDX file is read once.
//
// An item without an image (empty image field, or a catalog without an image column) gets the mean image:
// zeros after normalisation, not a black picture.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "operators/datagen/idx_images.hpp"
#include "operators/features/item_catalog.hpp"

namespace tailflow::ops::features {

struct CatalogImageOptions {
  std::string images_idx;  // the image column holds rows of this IDX file; empty = file paths
  std::string image_root;  // relative paths are under it (default: the items file's directory)
  int size = 0;            // > 0
  int channels = 1;        // 1 or 3
  std::vector<float> mean = {0.5f};
  std::vector<float> stddev = {0.5f};
};

class CatalogImageLoader {
 public:
  // Reads the IDX file, if any. Throws Error naming a missing or malformed file.
  CatalogImageLoader(const Catalog& catalog, const CatalogImageOptions& options);

  // channels x size x size values per image.
  std::size_t image_values() const;
  // Writes the item's image into `out` (image_values() floats). Returns false, writing zeros, for an item
  // without an image. Throws InputError naming the items file's line for an image that cannot be read.
  bool load(const ItemRecord& record, std::span<float> out) const;

 private:
  std::string catalog_path_;
  std::string image_column_;
  std::filesystem::path root_;
  CatalogImageOptions options_;
  std::optional<datagen::IdxImages> idx_;
};

}  // namespace tailflow::ops::features
