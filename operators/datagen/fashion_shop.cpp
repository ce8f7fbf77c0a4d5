#include "operators/datagen/fashion_shop.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numbers>

#include "engine/error.hpp"
#include "operators/datagen/counter_rng.hpp"
#include "operators/datagen/keyed_permutation.hpp"
#include "operators/datagen/shop_vocabulary.hpp"

namespace tailflow::ops::datagen {
namespace {

namespace vocab = vocabulary;

// Weights of the parts of the hidden item vector. Every embedding has unit expected norm, so these say how
// much each part of the content moves an item (and hence how much a content model can recover).
constexpr double kTypeWeight = 1.0;
constexpr double kGroupWeight = 0.5;
constexpr double kDepartmentWeight = 0.6;
constexpr double kBrandWeight = 0.7;
constexpr double kStyleWeight = 0.6;
constexpr double kColourWeight = 0.45;
constexpr double kMaterialWeight = 0.4;
constexpr double kFitWeight = 0.3;
constexpr double kDetailWeight = 0.35;
constexpr double kPixelWeight = 0.6;
constexpr double kPriceWeight = 0.35;
constexpr double kItemNoise = 0.35;
constexpr double kUserNoise = 0.3;
constexpr double kPriceSpread = 0.25;  // log-normal sigma of prices around the brand's level
constexpr double kRelativePriceScale = 0.5;

constexpr std::array<double, 3> kUserDepartmentShare = {0.50, 0.38, 0.12};

// FNV-1a, then mixed: names key the fixed embeddings, so they do not depend on the order of word lists.
std::uint64_t name_hash(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return splitmix64(h);
}

template <class Words>
std::string_view pick(const Words& words, CounterRng& rng) {
  return words[rng.below(words.size())];
}

// Index drawn with probability proportional to `weights` (a short array: linear scan).
template <std::size_t N>
int draw_index(const std::array<double, N>& weights, CounterRng& rng) {
  double total = 0;
  for (double w : weights) total += w;
  double r = rng.uniform() * total;
  for (std::size_t i = 0; i < N; ++i) {
    if (r < weights[i]) return static_cast<int>(i);
    r -= weights[i];
  }
  for (std::size_t i = N; i-- > 0;)
    if (weights[i] > 0) return static_cast<int>(i);
  return 0;
}

int draw_from_cumulative(const std::vector<double>& cumulative, CounterRng& rng) {
  double r = rng.uniform() * cumulative.back();
  auto it = std::upper_bound(cumulative.begin(), cumulative.end(), r);
  if (it == cumulative.end()) --it;
  return static_cast<int>(it - cumulative.begin());
}

// "sky blue" -> "Sky Blue", "crew-neck" -> "Crew-Neck".
std::string capitalise_words(std::string_view text) {
  std::string out(text);
  bool start = true;
  for (char& c : out) {
    if (start && std::islower(static_cast<unsigned char>(c))) c = static_cast<char>(std::toupper(c));
    start = (c == ' ' || c == '-');
  }
  return out;
}

std::string capitalise_first(std::string_view text) {
  std::string out(text);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "Sneakers", "Ankle Boots" are plural; "Dress" is not.
bool is_plural(std::string_view noun) {
  return noun.size() > 2 && noun.back() == 's' && noun[noun.size() - 2] != 's';
}

// "a casual dress", "an elegant coat" (by spelling, which is right for every word in our lists).
std::string with_article(std::string_view phrase) {
  bool vowel = !phrase.empty() && std::string_view("aeiou").find(phrase[0]) != std::string_view::npos;
  return fmt::format("{} {}", vowel ? "an" : "a", phrase);
}

// Plural phrases take no article.
std::string sentence_start(std::string_view phrase, bool plural) {
  return capitalise_first(plural ? std::string(phrase) : with_article(phrase));
}

double material_price_factor(std::string_view material) {
  for (const auto& entry : vocab::kMaterialPrices)
    if (entry.material == material) return entry.factor;
  return 1.0;
}

// Shop prices: whole euros minus a cent above 10, cents below.
double shop_price(double raw) {
  if (raw >= 10) return std::floor(raw) + 0.99;
  return std::max(2.99, std::round(raw * 100) / 100);
}

void add_scaled(std::vector<double>& v, const std::vector<double>& e, double weight) {
  for (std::size_t d = 0; d < v.size(); ++d) v[d] += weight * e[d];
}

std::vector<float> to_float(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}

}  // namespace

void ShopConfig::validate() const {
  auto fail = [](const std::string& what) { throw Error(what); };
  if (items < 1) fail("--items must be at least 1");
  if (items > 0xffffffffULL) fail("--items must be below 2^32");
  if (users < 1) fail("--users must be at least 1");
  if (!(interactions_per_user >= 1)) fail("--interactions-per-user must be at least 1");
  if (!(activity_tail > 1)) fail("--activity-tail must be above 1 (the mean of a Lomax law needs it)");
  if (factors < 1 || factors > 1024) fail("--factors must be in 1..1024");
  if (!(zipf_exponent > 0)) fail("--zipf-exponent must be positive");
  if (!(head_flattening >= 0)) fail("--head-flattening must be >= 0");
  if (!(content_popularity_correlation >= 0 && content_popularity_correlation <= 1))
    fail("--content-popularity-correlation must be in [0, 1]");
  if (brands < 1 || brands > static_cast<int>(vocab::kBrandHeads.size() * vocab::kBrandTails.size()))
    fail(fmt::format("--brands must be in 1..{}", vocab::kBrandHeads.size() * vocab::kBrandTails.size()));
  if (candidates < 1) fail("--candidates must be at least 1");
  if (!(temperature > 0)) fail("--temperature must be positive");
  if (days < 1) fail("--days must be at least 1");
}

Catalogue::Catalogue(int factors, std::vector<float> truth, std::span<const double> popularity)
    : factors_(factors), truth_(std::move(truth)), popularity_(popularity) {
  if (truth_.size() != popularity.size() * static_cast<std::size_t>(factors))
    throw std::invalid_argument("Catalogue: truth and popularity disagree on the number of items");
}

FashionShop::FashionShop(ShopConfig config, const ProductPhotos& photos)
    : config_(std::move(config)), photos_(photos) {
  config_.validate();
  validate_photos(photos_, "product photos");
  build_brands();
  build_embeddings();
  build_pixel_projection();
}

void FashionShop::build_brands() {
  const std::size_t tails = vocab::kBrandTails.size();
  KeyedPermutation names(vocab::kBrandHeads.size() * tails,
                         mix_key(config_.seed, static_cast<std::uint64_t>(StreamKind::kBrandNames)));
  brands_.resize(config_.brands);
  std::vector<double> size(config_.brands);
  for (int b = 0; b < config_.brands; ++b) {
    CounterRng rng(config_.seed, StreamKind::kBrand, b);
    Brand& brand = brands_[b];
    std::uint64_t combo = names(b);
    brand.name = fmt::format("{}{}", vocab::kBrandHeads[combo / tails], vocab::kBrandTails[combo % tails]);
    if (rng.bernoulli(0.15)) brand.name += pick(vocab::kBrandSuffixes, rng);
    brand.price_level = std::exp(0.4 * rng.normal());
    brand.popularity_z = rng.normal();
    brand.signature_style = static_cast<int>(rng.below(vocab::kStyles.size()));
    brand.class_affinity.fill(0.03);
    brand.class_affinity[rng.below(kPhotoClasses)] = 1.0;
    int secondary = 1 + static_cast<int>(rng.below(2));
    for (int s = 0; s < secondary; ++s) brand.class_affinity[rng.below(kPhotoClasses)] += 0.35;
    size[b] = std::exp(0.5 * rng.normal());
  }
  for (int c = 0; c < kPhotoClasses; ++c) {
    double sum = 0;
    for (int b = 0; b < config_.brands; ++b) {
      sum += brands_[b].class_affinity[c] * size[b];
      brand_cumulative_[c].push_back(sum);
    }
  }
  double sum = 0;
  for (const Brand& brand : brands_) {
    sum += std::exp(brand.popularity_z);
    brand_popularity_cumulative_.push_back(sum);
  }
}

FashionShop::Vector FashionShop::random_embedding(std::string_view name) const {
  CounterRng rng(config_.seed, StreamKind::kEmbedding, name_hash(name));
  Vector v(config_.factors);
  const double scale = 1.0 / std::sqrt(static_cast<double>(config_.factors));
  for (double& x : v) x = scale * rng.normal();
  return v;
}

void FashionShop::build_embeddings() {
  auto add_words = [this](auto const& list) { words_.insert(words_.end(), list.begin(), list.end()); };
  add_words(vocab::kDarkColours);
  add_words(vocab::kMidColours);
  add_words(vocab::kLightColours);
  add_words(vocab::kClothingMaterials);
  add_words(vocab::kShoeMaterials);
  add_words(vocab::kBagMaterials);
  add_words(vocab::kStyles);
  add_words(vocab::kFits);
  for (const auto& kind : vocab::kProductKinds) add_words(kind.details);
  std::sort(words_.begin(), words_.end());
  words_.erase(std::unique(words_.begin(), words_.end()), words_.end());
  for (std::string_view word : words_) {
    std::string name = fmt::format("word:{}", word);
    word_embeddings_.push_back(random_embedding(name));
    word_trends_.push_back(CounterRng(config_.seed, StreamKind::kEmbedding, name_hash(name), 1).normal());
  }
  for (int c = 0; c < kPhotoClasses; ++c) {
    type_embeddings_[c] = random_embedding(fmt::format("type:{}", vocab::kProductKinds[c].type));
    group_embeddings_[c] = random_embedding(fmt::format("group:{}", vocab::kProductKinds[c].group));
  }
  for (std::size_t d = 0; d < vocab::kDepartments.size(); ++d)
    department_embeddings_[d] = random_embedding(fmt::format("department:{}", vocab::kDepartments[d]));
  for (const Brand& brand : brands_) brand_embeddings_.push_back(random_embedding("brand:" + brand.name));
  // A direction, not an embedding: normalised so that the price term has exactly the intended weight.
  price_direction_ = random_embedding("relative price");
  double norm = 0;
  for (double x : price_direction_) norm += x * x;
  for (double& x : price_direction_) x /= std::sqrt(norm);
}

void FashionShop::build_pixel_projection() {
  const std::size_t pixels = photos_.images.image_size();
  std::vector<std::uint64_t> sum(pixels, 0);
  for (std::size_t p = 0; p < photos_.size(); ++p) {
    auto image = photos_.images.image(p);
    for (std::size_t j = 0; j < pixels; ++j) sum[j] += image[j];
  }
  mean_image_.resize(pixels);
  for (std::size_t j = 0; j < pixels; ++j)
    mean_image_[j] = static_cast<double>(sum[j]) / (255.0 * static_cast<double>(photos_.size()));

  pixel_projection_.resize(static_cast<std::size_t>(config_.factors) * pixels);
  const double scale = 1.0 / std::sqrt(static_cast<double>(config_.factors));
  for (int d = 0; d < config_.factors; ++d) {
    CounterRng rng(config_.seed, StreamKind::kPixelProjection, static_cast<std::uint64_t>(d));
    for (std::size_t j = 0; j < pixels; ++j) pixel_projection_[d * pixels + j] = scale * rng.normal();
  }
}

const FashionShop::Vector& FashionShop::word_embedding(std::string_view word) const {
  auto it = std::lower_bound(words_.begin(), words_.end(), word);
  if (it == words_.end() || *it != word)
    throw std::logic_error(fmt::format("unknown attribute word '{}'", word));
  return word_embeddings_[it - words_.begin()];
}

double FashionShop::word_trend(std::string_view word) const {
  auto it = std::lower_bound(words_.begin(), words_.end(), word);
  return word_trends_[it - words_.begin()];
}

// Photos are dealt out as a random permutation; a catalogue larger than the photo set starts a new
// permutation for each round, so a photo repeats only once every photos.size() items.
std::uint32_t FashionShop::photo_of(std::uint64_t item) const {
  const std::uint64_t n = photos_.size();
  std::uint64_t round = item / n;
  KeyedPermutation permutation(
      n, mix_key(mix_key(config_.seed, static_cast<std::uint64_t>(StreamKind::kPhotoPermutation)), round));
  return static_cast<std::uint32_t>(permutation(item % n));
}

int FashionShop::draw_brand(int photo_class, CounterRng& rng) const {
  return draw_from_cumulative(brand_cumulative_[photo_class], rng);
}

// Mean intensity of the product's own pixels (background excluded), in [0, 1].
double FashionShop::photo_brightness(std::uint32_t photo) const {
  std::uint64_t sum = 0, count = 0;
  for (std::uint8_t p : photos_.images.image(photo)) {
    sum += p;
    count += (p > 0);
  }
  return count == 0 ? 0.5 : static_cast<double>(sum) / (255.0 * static_cast<double>(count));
}

// The photo, centred on the mean photo and scaled to unit length, through a fixed random projection.
void FashionShop::add_pixel_term(std::uint32_t photo, double weight, Vector& v) const {
  auto image = photos_.images.image(photo);
  const std::size_t pixels = image.size();
  std::vector<double> centred(pixels);
  double norm2 = 0;
  for (std::size_t j = 0; j < pixels; ++j) {
    centred[j] = image[j] / 255.0 - mean_image_[j];
    norm2 += centred[j] * centred[j];
  }
  if (norm2 <= 0) return;
  const double scale = weight / std::sqrt(norm2);
  for (std::size_t d = 0; d < v.size(); ++d) {
    const double* row = &pixel_projection_[d * pixels];
    double dot = 0;
    for (std::size_t j = 0; j < pixels; ++j) dot += row[j] * centred[j];
    v[d] += scale * dot;
  }
}

ShopItem FashionShop::make_item(std::uint64_t id) const {
  CounterRng rng(config_.seed, StreamKind::kItem, id);
  ShopItem item;
  item.id = id;
  item.photo = photo_of(id);
  item.photo_class = photos_.labels[item.photo];
  const vocab::ProductKind& kind = vocab::kProductKinds[item.photo_class];
  item.department = draw_index(kind.department_share, rng);
  item.brand = draw_brand(item.photo_class, rng);
  const Brand& brand = brands_[item.brand];

  // Attributes. The colour leans on the photo: bright photos are more often light colours.
  double brightness = photo_brightness(item.photo);
  std::array<double, 3> palette_weights = {(1 - brightness) * (1 - brightness),
                                           2 * brightness * (1 - brightness), brightness * brightness};
  int palette = draw_index(palette_weights, rng);
  std::string_view colour = palette == 0   ? pick(vocab::kDarkColours, rng)
                            : palette == 1 ? pick(vocab::kMidColours, rng)
                                           : pick(vocab::kLightColours, rng);
  std::string_view material = pick(kind.materials, rng);
  std::string_view style =
      rng.bernoulli(0.5) ? vocab::kStyles[brand.signature_style] : pick(vocab::kStyles, rng);
  std::string_view fit = (kind.has_fit && rng.bernoulli(0.7)) ? pick(vocab::kFits, rng) : std::string_view{};
  std::string_view detail = rng.bernoulli(0.6) ? pick(kind.details, rng) : std::string_view{};
  std::string_view noun = pick(kind.nouns, rng);
  if (noun == "Blouse" && vocab::kDepartments[item.department] == "men") noun = "Shirt";

  double raw_price = kind.base_price * brand.price_level * material_price_factor(material) *
                     (vocab::kDepartments[item.department] == "kids" ? 0.6 : 1.0) *
                     std::exp(kPriceSpread * rng.normal());
  item.price = shop_price(raw_price);
  double relative_price = std::log(item.price / kind.base_price) / kRelativePriceScale;

  // Title and description: every attribute shows up in one of them, the style only in the description.
  std::string detail_words = detail.empty() ? "" : capitalise_words(detail) + " ";
  std::string fit_words = fit.empty() ? "" : capitalise_words(fit) + " ";
  std::string collection =
      rng.bernoulli(0.05) ? fmt::format("\"{}\" ", pick(vocab::kCollectionNames, rng)) : std::string{};
  double title_form = rng.uniform();
  if (title_form < 0.6)
    item.title = fmt::format("{} {}{}{}{} {} {}", brand.name, collection, detail_words, fit_words,
                             capitalise_words(colour), capitalise_words(material), noun);
  else if (title_form < 0.85)
    item.title = fmt::format("{} {}{}{} {}, {}", brand.name, collection, detail_words,
                             capitalise_words(material), noun, capitalise_words(colour));
  else
    item.title = fmt::format("{} {}{}{} in {} {}", brand.name, collection, fit_words, noun,
                             capitalise_words(colour), capitalise_words(material));

  std::string noun_words = lower(noun);
  std::string detail_phrase = detail.empty() ? "" : fmt::format("{} ", detail);
  std::string fit_clause = fit.empty() ? "" : fmt::format(" with {} fit", with_article(fit));
  std::string_view ending = pick(vocab::kDescriptionEndings, rng);
  bool plural = is_plural(noun);
  switch (rng.below(3)) {
    case 0:
      item.description =
          fmt::format("{} in {} {}{}, {}.",
                      sentence_start(fmt::format("{} {}{}", style, detail_phrase, noun_words), plural),
                      colour, material, fit_clause, ending);
      break;
    case 1:
      item.description =
          fmt::format("{} {}{} by {}: {} {}{}. {}.", capitalise_first(style), detail_phrase, noun_words,
                      brand.name, colour, material, fit_clause, capitalise_first(ending));
      break;
    default:
      item.description = fmt::format("Our {} {} {}{} for {} look{}.", colour, material, detail_phrase,
                                     noun_words, with_article(style), fit_clause);
      break;
  }
  item.category = fmt::format("{}>{}>{}", vocab::kDepartments[item.department], kind.group, kind.type);

  // The hidden vector: content first, then a little noise of its own.
  Vector v(config_.factors, 0.0);
  add_scaled(v, type_embeddings_[item.photo_class], kTypeWeight);
  add_scaled(v, group_embeddings_[item.photo_class], kGroupWeight);
  add_scaled(v, department_embeddings_[item.department], kDepartmentWeight);
  add_scaled(v, brand_embeddings_[item.brand], kBrandWeight);
  add_scaled(v, word_embedding(style), kStyleWeight);
  add_scaled(v, word_embedding(colour), kColourWeight);
  add_scaled(v, word_embedding(material), kMaterialWeight);
  if (!fit.empty()) add_scaled(v, word_embedding(fit), kFitWeight);
  if (!detail.empty()) add_scaled(v, word_embedding(detail), kDetailWeight);
  add_pixel_term(item.photo, kPixelWeight, v);
  add_scaled(v, price_direction_, kPriceWeight * std::clamp(relative_price, -3.0, 3.0));
  const double noise_scale = kItemNoise / std::sqrt(static_cast<double>(config_.factors));
  for (double& x : v) x += noise_scale * rng.normal();
  item.truth = to_float(v);

  // Popularity: a uniform rank U, correlated with content (brand, trending style and colour, a keen price),
  // becomes a Zipf-like weight. A separate stream, so popularity tweaks never change the content.
  CounterRng popularity_rng(config_.seed, StreamKind::kItemPopularity, id);
  double appeal = (0.7 * brand.popularity_z + 0.5 * word_trend(style) + 0.3 * word_trend(colour) -
                   0.3 * std::clamp(relative_price, -3.0, 3.0)) /
                  std::sqrt(0.49 + 0.25 + 0.09 + 0.09 * 1.0);
  const double rho = config_.content_popularity_correlation;
  double latent = rho * appeal + std::sqrt(1 - rho * rho) * popularity_rng.normal();
  double uniform_rank = 0.5 * std::erfc(latent / std::numbers::sqrt2);  // high latent -> near 0 -> popular
  item.popularity = std::pow(uniform_rank + config_.head_flattening, -config_.zipf_exponent);
  return item;
}

float FashionShop::score(std::span<const float> taste, std::span<const float> item) {
  float s = 0;
  for (std::size_t d = 0; d < taste.size(); ++d) s += taste[d] * item[d];
  return s;
}

ShopUser FashionShop::make_user(std::uint64_t id, const Catalogue& catalogue) const {
  CounterRng rng(config_.seed, StreamKind::kUser, id);
  ShopUser user;
  user.id = id;

  // Taste: a department, one to three favourite product types, one or two styles, a colour, maybe a brand,
  // a dislike of high prices — plus noise.
  Vector taste(config_.factors, 0.0);
  int department = draw_index(kUserDepartmentShare, rng);
  add_scaled(taste, department_embeddings_[department], 0.8);
  std::array<double, kPhotoClasses> class_share{};
  for (int c = 0; c < kPhotoClasses; ++c)
    class_share[c] = vocab::kProductKinds[c].department_share[department];
  int favourites = 1 + static_cast<int>(rng.below(3));
  std::array<int, 3> favourite_class{};
  std::array<double, 3> favourite_weight{};
  double weight_sum = 0;
  for (int f = 0; f < favourites; ++f) {
    favourite_class[f] = draw_index(class_share, rng);
    favourite_weight[f] = rng.exponential(1.0);
    weight_sum += favourite_weight[f];
  }
  for (int f = 0; f < favourites; ++f) {
    double w = 1.2 * favourite_weight[f] / weight_sum;
    add_scaled(taste, type_embeddings_[favourite_class[f]], w);
    add_scaled(taste, group_embeddings_[favourite_class[f]], 0.5 * w);
  }
  add_scaled(taste, word_embedding(pick(vocab::kStyles, rng)), 0.8);
  if (rng.bernoulli(0.5)) add_scaled(taste, word_embedding(pick(vocab::kStyles, rng)), 0.4);
  int palette = static_cast<int>(rng.below(3));
  std::string_view colour = palette == 0   ? pick(vocab::kDarkColours, rng)
                            : palette == 1 ? pick(vocab::kMidColours, rng)
                                           : pick(vocab::kLightColours, rng);
  add_scaled(taste, word_embedding(colour), 0.4);
  if (rng.bernoulli(0.5))
    add_scaled(taste, brand_embeddings_[draw_from_cumulative(brand_popularity_cumulative_, rng)], 0.5);
  add_scaled(taste, price_direction_, -(0.1 + 0.5 * rng.uniform()));
  const double noise_scale = kUserNoise / std::sqrt(static_cast<double>(config_.factors));
  for (double& x : taste) x += noise_scale * rng.normal();
  user.taste = to_float(taste);

  // Activity: a Lomax (Pareto II) number of events with the configured mean, capped for sanity.
  const double shape = config_.activity_tail;
  const double lomax_scale = (config_.interactions_per_user - 0.5) * (shape - 1);
  double extra = lomax_scale * (std::pow(rng.uniform_positive(), -1.0 / shape) - 1);
  auto events =
      static_cast<std::uint64_t>(1 + std::floor(std::min(extra, 50 * config_.interactions_per_user)));

  // Events: candidates by popularity, one chosen by taste (softmax), the event type by how well it fits.
  CounterRng event_rng(config_.seed, StreamKind::kUserEvents, id);
  const double span = static_cast<double>(config_.days) * 86400.0;
  const double session_gap = 0.4 * span / (static_cast<double>(events) / 4.0 + 1.0);
  std::int64_t time =
      config_.start_time + static_cast<std::int64_t>(std::floor(0.6 * span * event_rng.uniform()));
  const int candidates = config_.candidates;
  std::vector<std::uint32_t> candidate(candidates);
  std::vector<float> candidate_score(candidates);
  std::vector<double> cumulative(candidates);
  user.events.reserve(events);
  for (std::uint64_t e = 0; e < events; ++e) {
    float best = -INFINITY;
    for (int c = 0; c < candidates; ++c) {
      candidate[c] = catalogue.popularity().sample(event_rng);
      candidate_score[c] = score(user.taste, catalogue.truth(candidate[c]));
      best = std::max(best, candidate_score[c]);
    }
    double total = 0;
    for (int c = 0; c < candidates; ++c) {
      total += std::exp((static_cast<double>(candidate_score[c]) - best) / config_.temperature);
      cumulative[c] = total;
    }
    double r = event_rng.uniform() * total;
    int chosen =
        static_cast<int>(std::upper_bound(cumulative.begin(), cumulative.end(), r) - cumulative.begin());
    chosen = std::min(chosen, candidates - 1);

    double fit = 1.0 / (1.0 + std::exp(-(static_cast<double>(candidate_score[chosen]) - 1.0) / 0.4));
    double u = event_rng.uniform();
    double p_purchase = 0.01 + 0.09 * fit;
    double p_cart = 0.04 + 0.14 * fit;
    EventType type = u < p_purchase            ? EventType::kPurchase
                     : u < p_purchase + p_cart ? EventType::kCart
                                               : EventType::kView;

    if (e > 0) {
      double gap = event_rng.bernoulli(0.75) ? 1 + event_rng.exponential(90.0)
                                             : 600 + event_rng.exponential(session_gap);
      time += static_cast<std::int64_t>(std::floor(gap));
    }
    user.events.push_back({candidate[chosen], type, time});
  }
  return user;
}

}  // namespace tailflow::ops::datagen
