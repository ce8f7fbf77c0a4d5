// The fashion shop: a semi-synthetic model of a web shop whose content matters.
//
// Items are real product photos (Fashion-MNIST) dressed up as products: the photo's class gives the category
// (department>group>type, e.g. "women>shoes>sneakers"), a brand is drawn among ~200 generated brands by its
// affinity for that class, and the colour (leaning on the photo's brightness), material, style, fit and
// details are words in a generated title and description; the price is log-normal around the class's typical
// price, scaled by the brand's price level and the material.
//
// Behind every item lies a hidden "true" vector of `factors` numbers, a function of that content: embeddings
// of its type, group, department, brand and attribute words, a fixed random projection of its normalised
// pixels, a relative-price direction, plus a little item-specific noise. Users have hidden taste vectors: a
// mixture of a few favourite product types, a department, styles, a colour, perhaps a brand, and a price
// sensitivity. A user's events pick items with probability ~ popularity x exp(taste . item / temperature);
// the view/cart/purchase mix leans towards purchases as that score grows.
//
// Popularity is Zipf-like: popularity = (U + flattening)^-zipf_exponent, where U in (0,1) is a uniform rank
// that is correlated with content (a popular brand, a trending style or colour, a good price) but not decided
// by it. With the defaults most items get a handful of interactions and a few get very many.
//
// Rank-count independence: make_item(i) and make_user(u, catalogue) draw only from the counter-based streams
// of that item or user (counter_rng.hpp) and read only tables that every rank builds identically, so any rank
// can make any entity and always gets the same bits.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "operators/datagen/alias_table.hpp"
#include "operators/datagen/product_photos.hpp"

namespace tailflow::ops::datagen {

struct ShopConfig {
  std::uint64_t users = 40'000;
  std::uint64_t items = 20'000;
  double interactions_per_user = 60;  // mean; activity is power-law (Lomax) distributed
  double activity_tail = 2.2;         // Lomax shape of events per user: smaller = heavier tail
  int factors = 16;                   // dimension of the hidden vectors
  std::uint64_t seed = 7;
  double zipf_exponent = 2.0;
  double head_flattening = 0.01;  // Zipf-Mandelbrot offset: keeps the top items from taking everything
  double content_popularity_correlation = 0.6;  // of an item's popularity rank with its content
  int brands = 200;
  int candidates = 24;       // items drawn by popularity per event, one of them chosen by taste
  double temperature = 0.5;  // of the taste softmax: lower = users follow their taste more strictly
  std::int64_t start_time = 1'704'067'200;  // 2024-01-01T00:00:00Z
  int days = 180;                           // over which the users' activity spreads

  // Throws tailflow::Error naming the option that is out of range.
  void validate() const;
};

struct Brand {
  std::string name;
  double price_level = 1;   // multiplies every price of the brand
  double popularity_z = 0;  // standard normal: how popular the brand is
  int signature_style = 0;  // index into vocabulary::kStyles; half of its items have it
  std::array<double, kPhotoClasses> class_affinity{};  // relative share of its range in each class
};

struct ShopItem {
  std::uint64_t id = 0;
  std::uint32_t photo = 0;  // index into the ProductPhotos
  int photo_class = 0;      // Fashion-MNIST class, 0..9
  int department = 0;       // index into vocabulary::kDepartments
  int brand = 0;
  double price = 0;  // euros, two decimals
  std::string title;
  std::string description;
  std::string category;      // "department>group>type"
  std::vector<float> truth;  // the hidden item vector, `factors` values
  double popularity = 0;     // relative weight of the item in candidate draws
};

enum class EventType : std::uint8_t { kView = 0, kCart = 1, kPurchase = 2 };
inline constexpr std::array<std::string_view, 3> kEventNames = {"view", "cart", "purchase"};
inline constexpr std::array<int, 3> kEventValues = {1, 3, 5};

struct ShopEvent {
  std::uint32_t item = 0;
  EventType type = EventType::kView;
  std::int64_t time = 0;  // seconds since the epoch; strictly increasing within a user
};

struct ShopUser {
  std::uint64_t id = 0;
  std::vector<float> taste;  // the hidden user vector
  std::vector<ShopEvent> events;
};

// What making a user needs to know about every item: hidden vectors and popularity.
class Catalogue {
 public:
  // `truth` holds popularity.size() rows of `factors` values.
  Catalogue(int factors, std::vector<float> truth, std::span<const double> popularity);

  std::size_t size() const { return popularity_.size(); }
  int factors() const { return factors_; }
  std::span<const float> truth(std::size_t item) const {
    return std::span<const float>(truth_).subspan(item * factors_, factors_);
  }
  const std::vector<float>& all_truth() const { return truth_; }
  const AliasTable& popularity() const { return popularity_; }

 private:
  int factors_;
  std::vector<float> truth_;
  AliasTable popularity_;
};

class FashionShop {
 public:
  // Builds the tables every rank shares (brands, embeddings, pixel projection). Keeps a reference to
  // `photos`, which must outlive the shop.
  FashionShop(ShopConfig config, const ProductPhotos& photos);

  const ShopConfig& config() const { return config_; }
  const ProductPhotos& photos() const { return photos_; }
  const std::vector<Brand>& brands() const { return brands_; }

  ShopItem make_item(std::uint64_t id) const;
  ShopUser make_user(std::uint64_t id, const Catalogue& catalogue) const;

  // Dot product in a fixed order (so every rank rounds the same way).
  static float score(std::span<const float> taste, std::span<const float> item);

 private:
  using Vector = std::vector<double>;

  void build_brands();
  void build_embeddings();
  void build_pixel_projection();
  Vector random_embedding(std::string_view name) const;
  const Vector& word_embedding(std::string_view word) const;
  double word_trend(std::string_view word) const;
  std::uint32_t photo_of(std::uint64_t item) const;
  int draw_brand(int photo_class, CounterRng& rng) const;
  double photo_brightness(std::uint32_t photo) const;
  void add_pixel_term(std::uint32_t photo, double weight, Vector& v) const;

  ShopConfig config_;
  const ProductPhotos& photos_;
  std::vector<Brand> brands_;
  std::array<std::vector<double>, kPhotoClasses> brand_cumulative_;  // per class, over brands
  std::vector<double> brand_popularity_cumulative_;                  // for users' favourite brands
  std::vector<std::string_view> words_;                              // every attribute word, sorted, unique
  std::vector<Vector> word_embeddings_;                              // parallel to words_
  std::vector<double> word_trends_;                                  // parallel to words_
  std::array<Vector, kPhotoClasses> type_embeddings_;
  std::array<Vector, kPhotoClasses> group_embeddings_;  // the group of each class
  std::array<Vector, 3> department_embeddings_;
  std::vector<Vector> brand_embeddings_;
  Vector price_direction_;
  std::vector<double> mean_image_;        // over all photos, to centre pixels
  std::vector<double> pixel_projection_;  // factors x image_size, row-major
};

}  // namespace tailflow::ops::datagen
