// Final item embeddings for the long tail: ALS where an item has interactions, content where it has none,
// and a blend in between (issue 4, point 5).
//
//   α(n) = n / (n + β)        n = the item's training interactions, β = how many interactions make ALS
//                             as trustworthy as the content prediction
//   x    = α·a + (1 − α)·c    a = ALS vector, c = vector predicted from the item's content
//
// Why a count schedule: an ALS vector fitted to 2 interactions is mostly its regulariser's pull towards 0,
// while the content prediction is a fair guess; with 200 interactions ALS knows the item better than any
// content model. β = 0 means "trust any interaction": α = 1 for n > 0.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tailflow::ops::tail {

// Where an item's final vector comes from; stored per item as uint8 (items/source).
enum class EmbeddingSource : std::uint8_t {
  kAls = 0,      // the ALS vector unchanged
  kContent = 1,  // the content prediction unchanged (no interactions)
  kBlend = 2,    // α·ALS + (1 − α)·content
  kPrior = 3,    // ALS half-step re-solved around the content vector (not produced by blend_item)
};

std::string_view source_name(EmbeddingSource source);  // "als", "content", "blend", "prior"
// "0=als,1=content,2=blend,3=prior": the attribute that names the codes in an embeddings file.
std::string source_codes_description();

struct BlendOptions {
  double beta = 10;  // α = n / (n + β); must be ≥ 0
  // Items with at least this many interactions keep their ALS vector as it is (0: no such cut; every item
  // with interactions is blended unless β = 0).
  std::uint64_t als_min_count = 0;
};

// Throws Error when beta is negative or not finite.
void validate(const BlendOptions& options);

// The ALS weight α of an item with `count` training interactions (0 for count 0, 1 when β = 0 and count > 0,
// 1 when count ≥ als_min_count > 0).
double als_weight(std::uint64_t count, const BlendOptions& options);

// The source flag that als_weight implies: content for α = 0, ALS for α = 1, else blend.
EmbeddingSource blend_source(std::uint64_t count, const BlendOptions& options);

// Blends one item: writes α·als + (1 − α)·content into `out` (all of the same length; `als` is ignored when
// count is 0, so it may be empty then) and returns the source flag.
EmbeddingSource blend_item(std::span<const float> als, std::span<const float> content, std::uint64_t count,
                           const BlendOptions& options, std::span<float> out);

// Many items, row-major with `dims` values per row. `als` rows of items with count 0 are not read.
struct BlendedItems {
  std::vector<float> vectors;
  std::vector<std::uint8_t> sources;  // EmbeddingSource codes
};
BlendedItems blend_items(std::span<const float> als, std::span<const float> content,
                         std::span<const std::uint64_t> counts, std::size_t dims,
                         const BlendOptions& options);

}  // namespace tailflow::ops::tail
