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
//
// Content length (--blend-norm). The content model is trained on head items and predicts vectors of about
// the same length for every item, while an implicit-ALS vector grows with the item's count
// (norm_by_count.hpp). In a dot-product ranking the length acts as popularity, so a tail item blended
// mostly from its content vector ranks like a head item: on ml-latest-small protocol B this took the tail
// bucket's NDCG@10 from 0.041 (ALS) down to 0.004 (docs/evaluation.md). The content vector of an item with
// n > 0 interactions can therefore be rescaled before blending:
//   kAsPredicted  c as predicted (the original behaviour);
//   kAlsLength    ĉ = c · L_als(n) / ‖c‖: every item gets the median ALS length at its count; content
//                 gives only the direction;
//   kAlsScale     ĉ = c · L_als(n) / L_content(n): the typical content length at count n is brought to the
//                 typical ALS length there, and the content model's differences between items (its guess
//                 of which of them will be popular) are kept.
// Items without interactions (n = 0) keep c as predicted either way: nothing else says how popular they are.
// kAlsScale is `tailflow embed`'s default: on ml-latest-small it lifted the blend above ALS on the protocol-B
// tail and head and kept protocol A (kAlsLength loses protocol A: probe items are popular items cut down to
// m interactions, and their content length is what says so).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "operators/tail/norm_by_count.hpp"

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

enum class ContentNorm { kAsPredicted, kAlsLength, kAlsScale };
// "content", "count", "count-scale"; parse_content_norm throws Error naming the valid words.
std::string_view content_norm_name(ContentNorm norm);
ContentNorm parse_content_norm(std::string_view text);

// The factor each content vector is multiplied by before blending (1 for n = 0 and for kAsPredicted).
// `als_lengths` and `content_lengths` are fitted over all items with interactions (kAlsScale needs both,
// kAlsLength only the first); a zero-length content vector keeps factor 1.
double content_scale(ContentNorm norm, std::span<const float> content, std::uint64_t count,
                     const NormByCount& als_lengths, const NormByCount& content_lengths);

// Throws Error when beta is negative or not finite.
void validate(const BlendOptions& options);

// The ALS weight α of an item with `count` training interactions (0 for count 0, 1 when β = 0 and count > 0,
// 1 when count ≥ als_min_count > 0).
double als_weight(std::uint64_t count, const BlendOptions& options);

// The source flag that als_weight implies: content for α = 0, ALS for α = 1, else blend.
EmbeddingSource blend_source(std::uint64_t count, const BlendOptions& options);

// Blends one item: writes α·als + (1 − α)·content into `out` (all of the same length; `als` is ignored when
// count is 0, so it may be empty then) and returns the source flag. `content_scale` multiplies the content
// vector first (see above).
EmbeddingSource blend_item(std::span<const float> als, std::span<const float> content, std::uint64_t count,
                           const BlendOptions& options, std::span<float> out, double content_scale = 1);

// Many items, row-major with `dims` values per row. `als` rows of items with count 0 are not read.
// `content_scales`: one factor per item (content_scale() above), or empty for all 1.
struct BlendedItems {
  std::vector<float> vectors;
  std::vector<std::uint8_t> sources;  // EmbeddingSource codes
};
BlendedItems blend_items(std::span<const float> als, std::span<const float> content,
                         std::span<const std::uint64_t> counts, std::size_t dims, const BlendOptions& options,
                         std::span<const double> content_scales = {});

}  // namespace tailflow::ops::tail
