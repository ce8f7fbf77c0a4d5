// Pretrained TorchScript encoders as feature extractors, behind a LibTorch-free header: what
// `tailflow features` and `tailflow embed --items` call after operators/features/ has built the other
// features (LibTorch is only linked into operators/learning/).
//
//   auto block = features::extract_features(ctx, catalog, options);
//   learning::add_pretrained_features(ctx, catalog, block, options);   // block.dense gains the outputs
//
// Text (options.text_encoder): the WordPiece ids and attention masks that extraction wrote (max_tokens per
// item) go through the model in batches of options.encoder_batch at their full padded length, so an item's
// vector does not depend on which batch or rank it was in; the hidden states are pooled by [CLS] or by the
// mean over real tokens (options.text_pooling). Block "text_encoder".
// Image (options.image_encoder): each item's image is loaded, resized to image_size and normalised by
// image_mean / image_std (catalog_images.hpp) one batch at a time, so that at most one batch of pixels is in
// memory, and the frozen backbone's output is flattened per image. Block "image_encoder". The pixels are not
// kept: the built-in CNN tower is off when a backbone is given.
//
// Each rank encodes its own rows. The encoders run on the CPU, frozen (eval mode, no gradients).
#pragma once

#include "engine/context.hpp"
#include "operators/features/feature_extraction.hpp"
#include "operators/features/item_catalog.hpp"
#include "operators/features/item_features.hpp"

namespace tailflow::ops::learning {

// Collective: every rank calls it, also with no rows. `catalog` is the one `block` was extracted from.
// Does nothing when options name no encoder. Any error (a missing file, a model that fails on its input)
// becomes a CollectiveError on every rank.
void add_pretrained_features(Context& ctx, const features::Catalog& catalog,
                             features::ItemFeatureBlock& block, const features::FeatureOptions& options);

}  // namespace tailflow::ops::learning
