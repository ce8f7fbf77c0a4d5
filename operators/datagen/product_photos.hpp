// The product photos of the fashion shop: Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, MIT licence).
//
// 70,000 real Zalando product photos, 28 x 28 grey-scale, each labelled with one of ten classes. Debian's
// `dataset-fashion-mnist` package installs them as four gzip-compressed IDX files; we join them into one
// catalogue: the 60,000 training photos first, then the 10,000 test photos (photo index 60000 = the first
// test photo).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include "operators/datagen/idx_images.hpp"

namespace tailflow::ops::datagen {

inline constexpr const char* kDefaultFashionMnistDir = "/usr/share/datasets/fashion-mnist";

inline constexpr int kPhotoClasses = 10;
inline constexpr std::array<std::string_view, kPhotoClasses> kPhotoClassNames = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

struct ProductPhotos {
  IdxImages images;
  std::vector<std::uint8_t> labels;  // one class (0..9) per image

  std::size_t size() const { return labels.size(); }
};

// Loads {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] from `dir`. Missing files give an error that says
// how to install them; inconsistent files (sizes, labels out of range) give an error naming the file.
ProductPhotos load_fashion_mnist(const std::filesystem::path& dir);

// Checks that images and labels belong together: same count, labels < kPhotoClasses, at least one photo.
void validate_photos(const ProductPhotos& photos, const std::string& source);

}  // namespace tailflow::ops::datagen
