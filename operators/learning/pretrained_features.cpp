#include "operators/learning/pretrained_features.hpp"

#include <fmt/format.h>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/stage_metrics.hpp"
#include "operators/features/catalog_images.hpp"
#include "operators/learning/torchscript_encoder.hpp"

namespace tailflow::ops::learning {
namespace {

features::DenseBlock encode_text(const features::ItemFeatureBlock& block,
                                 const features::FeatureOptions& options) {
  if (block.token_length == 0)
    throw Error("--text-encoder: the features have no WordPiece tokens (give --wordpiece-vocab)");
  TorchScriptEncoder encoder(options.text_encoder);
  features::DenseBlock dense{"text_encoder", 0, {}};
  dense.values = encoder.encode_tokens(block.token_ids, block.attention_mask,
                                       static_cast<std::int64_t>(block.local_rows()), block.token_length,
                                       parse_text_pooling(options.text_pooling), options.encoder_batch);
  dense.dims = encoder.output_dims();
  return dense;
}

features::DenseBlock encode_images(const features::Catalog& catalog, const features::FeatureOptions& options,
                                   std::uint64_t& without_image) {
  features::CatalogImageLoader loader(catalog, options.image_options());
  TorchScriptEncoder encoder(options.image_encoder);
  features::DenseBlock dense{"image_encoder", 0, {}};
  const std::size_t values = loader.image_values();
  const std::size_t batch = static_cast<std::size_t>(options.encoder_batch);
  std::vector<float> pixels;
  for (std::size_t start = 0; start < catalog.local.size(); start += batch) {
    const std::size_t count = std::min(batch, catalog.local.size() - start);
    pixels.assign(count * values, 0.0f);
    for (std::size_t i = 0; i < count; ++i)
      without_image +=
          !loader.load(catalog.local[start + i], std::span<float>(pixels).subspan(i * values, values));
    auto rows =
        encoder.encode_images(pixels, static_cast<std::int64_t>(count), options.image_channels,
                              options.image_size, options.image_size, static_cast<std::int64_t>(count));
    dense.values.insert(dense.values.end(), rows.begin(), rows.end());
  }
  dense.dims = encoder.output_dims();
  return dense;
}

}  // namespace

void add_pretrained_features(Context& ctx, const features::Catalog& catalog,
                             features::ItemFeatureBlock& block, const features::FeatureOptions& options) {
  if (options.text_encoder.empty() && options.image_encoder.empty()) return;
  Stopwatch watch;
  std::vector<features::DenseBlock> blocks;
  std::uint64_t without_image = 0;
  std::string failure;
  try {
    if (catalog.local.size() != block.local_rows())
      throw Error(fmt::format("pretrained encoders: {} catalog rows but {} feature rows",
                              catalog.local.size(), block.local_rows()));
    if (options.encoder_batch < 1)
      throw Error(fmt::format("--encoder-batch must be at least 1, not {}", options.encoder_batch));
    if (!options.text_encoder.empty()) blocks.push_back(encode_text(block, options));
    if (!options.image_encoder.empty()) blocks.push_back(encode_images(catalog, options, without_image));
  } catch (const Error& error) {
    failure = error.what();
  }
  ctx.check_collectively(failure);

  // A rank without rows never saw an output width: take the widest, and check that the others agree.
  for (auto& dense : blocks) {
    const std::int64_t dims = comm::allreduce_max(ctx.comm(), dense.dims);
    failure.clear();
    if (block.local_rows() > 0 && dense.dims != dims)
      failure =
          fmt::format("{}: outputs of {} values on one rank and {} on another", dense.name, dense.dims, dims);
    ctx.check_collectively(failure);
    dense.dims = dims;
    block.dense.push_back(std::move(dense));
  }
  without_image = comm::allreduce_sum(ctx.comm(), without_image);
  std::string widths;
  for (const auto& dense : block.dense)
    widths += fmt::format("{}{} {}", widths.empty() ? "" : ", ", dense.name, dense.dims);
  ctx.log().info(
      "pretrained encoders: {} dims per item{}", widths,
      without_image > 0 ? fmt::format(" ({} items without an image: the mean image)", without_image) : "");
  ctx.metrics().record(
      Stage{"pretrained encoders", block.local_rows(), block.local_rows(), 0, watch.seconds()});
}

}  // namespace tailflow::ops::learning
