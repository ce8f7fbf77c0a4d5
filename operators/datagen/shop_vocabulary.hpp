// The words of the fashion shop: departments, the product kind of each Fashion-MNIST class, attribute words
// (colours, materials, styles, fits, details) and the syllables that brand names are made of.
//
// Attribute words carry meaning in the hidden model (each has an embedding), so a title or description that
// says "navy cashmere" says something about the item's vector — the signal a content model can learn.
#pragma once

#include <array>
#include <span>
#include <string_view>

#include "operators/datagen/product_photos.hpp"

namespace tailflow::ops::datagen::vocabulary {

using Words = std::span<const std::string_view>;

inline constexpr std::array<std::string_view, 3> kDepartments = {"women", "men", "kids"};

inline constexpr std::array<std::string_view, 15> kDarkColours = {
    "black", "navy",     "charcoal", "burgundy",     "olive",    "forest green", "chocolate", "midnight blue",
    "plum",  "graphite", "espresso", "bottle green", "ink blue", "oxblood",      "anthracite"};
inline constexpr std::array<std::string_view, 12> kMidColours = {
    "red",  "camel", "denim blue", "khaki", "grey", "mustard",
    "teal", "rust",  "lavender",   "coral", "sage", "cobalt"};
inline constexpr std::array<std::string_view, 12> kLightColours = {
    "white",      "ivory", "cream", "beige",      "sand",  "sky blue",
    "blush pink", "mint",  "lemon", "light grey", "stone", "powder blue"};

inline constexpr std::array<std::string_view, 14> kClothingMaterials = {
    "cotton", "organic cotton", "linen",  "wool",     "merino",  "cashmere", "denim",
    "silk",   "jersey",         "fleece", "corduroy", "viscose", "twill",    "recycled polyester"};
inline constexpr std::array<std::string_view, 8> kShoeMaterials = {
    "leather", "suede", "canvas", "mesh", "knit", "rubber", "patent leather", "nubuck"};
inline constexpr std::array<std::string_view, 7> kBagMaterials = {
    "leather", "canvas", "nylon", "vegan leather", "straw", "suede", "recycled polyester"};

inline constexpr std::array<std::string_view, 14> kStyles = {
    "casual",     "classic", "vintage", "sporty",  "elegant", "minimalist", "boho",
    "streetwear", "preppy",  "urban",   "festive", "outdoor", "retro",      "essential"};
inline constexpr std::array<std::string_view, 6> kFits = {"slim",      "regular", "relaxed",
                                                          "oversized", "cropped", "tailored"};

// A price multiplier for materials that are dearer than the rest (all others: 1).
struct MaterialPrice {
  std::string_view material;
  double factor;
};
inline constexpr std::array<MaterialPrice, 10> kMaterialPrices = {{{"cashmere", 2.2},
                                                                   {"silk", 1.8},
                                                                   {"leather", 1.5},
                                                                   {"patent leather", 1.5},
                                                                   {"merino", 1.4},
                                                                   {"suede", 1.4},
                                                                   {"nubuck", 1.3},
                                                                   {"wool", 1.3},
                                                                   {"linen", 1.15},
                                                                   {"organic cotton", 1.1}}};

inline constexpr std::array<std::string_view, 5> kTshirtDetails = {"crew-neck", "v-neck", "striped",
                                                                   "graphic", "pocket"};
inline constexpr std::array<std::string_view, 5> kTrouserDetails = {"high-waist", "pleated", "cargo", "chino",
                                                                    "jogger"};
inline constexpr std::array<std::string_view, 4> kPulloverDetails = {"cable-knit", "turtleneck", "ribbed",
                                                                     "hooded"};
inline constexpr std::array<std::string_view, 5> kDressDetails = {"midi", "maxi", "wrap", "pleated",
                                                                  "floral"};
inline constexpr std::array<std::string_view, 5> kCoatDetails = {"trench", "puffer", "double-breasted",
                                                                 "hooded", "quilted"};
inline constexpr std::array<std::string_view, 4> kSandalDetails = {"strappy", "platform", "slide", "flat"};
inline constexpr std::array<std::string_view, 5> kShirtDetails = {"button-down", "oxford", "flannel",
                                                                  "checked", "short-sleeve"};
inline constexpr std::array<std::string_view, 5> kSneakerDetails = {"low-top", "high-top", "running",
                                                                    "chunky", "slip-on"};
inline constexpr std::array<std::string_view, 5> kBagDetails = {"tote", "crossbody", "shoulder", "backpack",
                                                                "clutch"};
inline constexpr std::array<std::string_view, 5> kBootDetails = {"chelsea", "lace-up", "heeled", "combat",
                                                                 "zip"};

inline constexpr std::array<std::string_view, 3> kTshirtNouns = {"T-Shirt", "Top", "Tee"};
inline constexpr std::array<std::string_view, 2> kTrouserNouns = {"Trousers", "Pants"};
inline constexpr std::array<std::string_view, 3> kPulloverNouns = {"Pullover", "Jumper", "Sweater"};
inline constexpr std::array<std::string_view, 1> kDressNouns = {"Dress"};
inline constexpr std::array<std::string_view, 2> kCoatNouns = {"Coat", "Jacket"};
inline constexpr std::array<std::string_view, 1> kSandalNouns = {"Sandals"};
inline constexpr std::array<std::string_view, 2> kShirtNouns = {"Shirt", "Blouse"};
inline constexpr std::array<std::string_view, 2> kSneakerNouns = {"Sneakers", "Trainers"};
inline constexpr std::array<std::string_view, 1> kBagNouns = {"Bag"};
inline constexpr std::array<std::string_view, 2> kBootNouns = {"Ankle Boots", "Boots"};

// What a Fashion-MNIST class is as a product: where it sits in the category tree (department>group>type),
// the words that name and describe it, and its typical price.
struct ProductKind {
  std::string_view group;
  std::string_view type;
  std::array<double, 3> department_share;  // women, men, kids
  Words nouns;
  Words materials;
  Words details;
  bool has_fit;
  double base_price;  // median price in euros for an average brand
};

inline constexpr std::array<ProductKind, kPhotoClasses> kProductKinds = {{
    {"tops", "t-shirts", {0.45, 0.40, 0.15}, kTshirtNouns, kClothingMaterials, kTshirtDetails, true, 19},
    {"bottoms", "trousers", {0.40, 0.45, 0.15}, kTrouserNouns, kClothingMaterials, kTrouserDetails, true, 49},
    {"knitwear",
     "pullovers",
     {0.45, 0.40, 0.15},
     kPulloverNouns,
     kClothingMaterials,
     kPulloverDetails,
     true,
     45},
    {"dresses", "dresses", {0.90, 0.00, 0.10}, kDressNouns, kClothingMaterials, kDressDetails, true, 59},
    {"outerwear", "coats", {0.45, 0.45, 0.10}, kCoatNouns, kClothingMaterials, kCoatDetails, true, 119},
    {"shoes", "sandals", {0.60, 0.25, 0.15}, kSandalNouns, kShoeMaterials, kSandalDetails, false, 39},
    {"tops", "shirts", {0.40, 0.50, 0.10}, kShirtNouns, kClothingMaterials, kShirtDetails, true, 35},
    {"shoes", "sneakers", {0.40, 0.40, 0.20}, kSneakerNouns, kShoeMaterials, kSneakerDetails, false, 79},
    {"bags", "bags", {0.75, 0.20, 0.05}, kBagNouns, kBagMaterials, kBagDetails, false, 69},
    {"shoes", "ankle boots", {0.60, 0.35, 0.05}, kBootNouns, kShoeMaterials, kBootDetails, false, 99},
}};

inline constexpr std::array<std::string_view, 7> kGroups = {"tops",      "bottoms", "knitwear", "dresses",
                                                            "outerwear", "shoes",   "bags"};

// Brand names are a first and a second syllable (30 x 20 = 600 distinct names), sometimes with a suffix.
inline constexpr std::array<std::string_view, 30> kBrandHeads = {
    "Vel", "Nor", "Ka",  "Lu", "Ost", "Bre", "Mar",  "Sol", "Tav", "Eli", "Ar", "Fen", "Gro", "Hal", "Iso",
    "Jor", "Kel", "Lin", "Mo", "Nia", "Pal", "Quin", "Ro",  "Sel", "Tor", "Ul", "Val", "Wes", "Yar", "Zen"};
inline constexpr std::array<std::string_view, 20> kBrandTails = {
    "mora", "vik", "lune", "dane", "sio",  "ford", "ella", "ric", "ano", "berg",
    "wood", "ina", "ora",  "etti", "lund", "ton",  "ique", "aro", "ess", "holm"};
inline constexpr std::array<std::string_view, 5> kBrandSuffixes = {" & Co", " Studio", " Atelier", " Basics",
                                                                   " Collective"};

inline constexpr std::array<std::string_view, 6> kDescriptionEndings = {
    "made to last",         "perfect for every day", "a wardrobe favourite",
    "for work and weekend", "easy to combine",       "designed in small batches"};
inline constexpr std::array<std::string_view, 8> kCollectionNames = {
    "Riviera", "Nordic", "Weekend", "Atlas", "Harbour", "Meadow", "Metro", "Alpine"};

}  // namespace tailflow::ops::datagen::vocabulary
