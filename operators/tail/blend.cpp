#include "operators/tail/blend.hpp"

#include <fmt/format.h>

#include <cmath>

#include "engine/error.hpp"

namespace tailflow::ops::tail {

std::string_view source_name(EmbeddingSource source) {
  switch (source) {
    case EmbeddingSource::kAls:
      return "als";
    case EmbeddingSource::kContent:
      return "content";
    case EmbeddingSource::kBlend:
      return "blend";
    case EmbeddingSource::kPrior:
      return "prior";
  }
  return "unknown";
}

std::string source_codes_description() {
  std::string text;
  for (auto source :
       {EmbeddingSource::kAls, EmbeddingSource::kContent, EmbeddingSource::kBlend, EmbeddingSource::kPrior}) {
    if (!text.empty()) text += ',';
    text += fmt::format("{}={}", static_cast<int>(source), source_name(source));
  }
  return text;
}

std::string_view content_norm_name(ContentNorm norm) {
  switch (norm) {
    case ContentNorm::kAsPredicted:
      return "content";
    case ContentNorm::kAlsLength:
      return "count";
    case ContentNorm::kAlsScale:
      return "count-scale";
  }
  return "unknown";
}

ContentNorm parse_content_norm(std::string_view text) {
  for (auto norm : {ContentNorm::kAsPredicted, ContentNorm::kAlsLength, ContentNorm::kAlsScale})
    if (text == content_norm_name(norm)) return norm;
  throw Error(fmt::format("--blend-norm must be content, count or count-scale, not '{}'", text));
}

double content_scale(ContentNorm norm, std::span<const float> content, std::uint64_t count,
                     const NormByCount& als_lengths, const NormByCount& content_lengths) {
  if (norm == ContentNorm::kAsPredicted || count == 0 || als_lengths.empty()) return 1;
  const double divisor = norm == ContentNorm::kAlsLength ? vector_length(content) : content_lengths.at(count);
  if (!(divisor > 0) || !std::isfinite(divisor)) return 1;
  return als_lengths.at(count) / divisor;
}

void validate(const BlendOptions& options) {
  if (!std::isfinite(options.beta) || options.beta < 0)
    throw Error(fmt::format("--blend-beta must be a finite number ≥ 0, not {}", options.beta));
}

double als_weight(std::uint64_t count, const BlendOptions& options) {
  if (count == 0) return 0;
  if (options.als_min_count > 0 && count >= options.als_min_count) return 1;
  if (options.beta == 0) return 1;
  const double n = static_cast<double>(count);
  return n / (n + options.beta);
}

EmbeddingSource blend_source(std::uint64_t count, const BlendOptions& options) {
  const double alpha = als_weight(count, options);
  if (alpha == 0) return EmbeddingSource::kContent;
  if (alpha == 1) return EmbeddingSource::kAls;
  return EmbeddingSource::kBlend;
}

EmbeddingSource blend_item(std::span<const float> als, std::span<const float> content, std::uint64_t count,
                           const BlendOptions& options, std::span<float> out, double content_scale) {
  if (content.size() != out.size() || (count > 0 && als.size() != out.size()))
    throw Error(fmt::format("blend: vector lengths differ (ALS {}, content {}, output {})", als.size(),
                            content.size(), out.size()));
  const double alpha = als_weight(count, options);
  for (std::size_t d = 0; d < out.size(); ++d) {
    const double a = alpha > 0 ? als[d] : 0.0;
    out[d] = static_cast<float>(alpha * a + (1 - alpha) * content_scale * content[d]);
  }
  return blend_source(count, options);
}

BlendedItems blend_items(std::span<const float> als, std::span<const float> content,
                         std::span<const std::uint64_t> counts, std::size_t dims, const BlendOptions& options,
                         std::span<const double> content_scales) {
  validate(options);
  const std::size_t items = counts.size();
  if (content.size() != items * dims || als.size() != items * dims)
    throw Error(
        fmt::format("blend: {} items of {} dimensions need {} values, got {} ALS and {} content values",
                    items, dims, items * dims, als.size(), content.size()));
  if (!content_scales.empty() && content_scales.size() != items)
    throw Error(fmt::format("blend: {} content scales for {} items", content_scales.size(), items));
  BlendedItems result;
  result.vectors.resize(items * dims);
  result.sources.resize(items);
  for (std::size_t i = 0; i < items; ++i) {
    auto source = blend_item(als.subspan(i * dims, dims), content.subspan(i * dims, dims), counts[i], options,
                             std::span<float>(result.vectors).subspan(i * dims, dims),
                             content_scales.empty() ? 1.0 : content_scales[i]);
    result.sources[i] = static_cast<std::uint8_t>(source);
  }
  return result;
}

}  // namespace tailflow::ops::tail
