// From catalog records to feature rows: every rank encodes its own items; what must be global (document
// frequencies, vocabularies, means and standard deviations) is computed across ranks first.
//
// What each catalog column becomes (see item_features.hpp for the layout):
//   title, description, tags  -> the hashed TF-IDF text bag ("(1995)" is cut off the title and becomes the
//                                numeric "year" and the categorical "decade")
//   brand, extra categorical  -> categorical columns
//   category "a>b>c|d>e"      -> one column per level ("category_level1" = "a", "category_level2" = "a>b",
//                                ...; one level: named after the column, e.g. "genres"). A level where some
//                                item has several values becomes a multi-valued bag, otherwise a plain
//                                column.
//   price, extra numeric      -> standardised numbers (price as ln(1 + price)); a column with missing values
//                                gets a 0/1 "<name>_missing" column next to it
//   image                     -> pixels (IDX index or PNG/JPEG path), resized and normalised
//   WordPiece vocabulary      -> token ids and attention masks of title + description
//
// Pretrained TorchScript encoders (text_encoder, image_encoder) are named here, so that they are part of the
// settings, but run by operators/learning/pretrained_features.hpp (LibTorch lives in operators/learning/):
// with an image encoder, this step loads no pixels; the encoder reads them in batches.
//
// Frozen tables. Given the block of an earlier run (`frozen`: its idf table, vocabularies, numeric means and
// standard deviations, category levels, title years; its rows are ignored), new catalog rows are encoded
// exactly like that run's rows, with no statistic recomputed: unknown categories get id 0, text terms keep
// their hash buckets and take the stored idf (0, i.e. dropped, for buckets no earlier item had), numbers
// are standardised with the stored mean and standard deviation. The columns and their order are the
// frozen block's, whatever the new rows hold. This is how `tailflow embed --items` embeds brand-new items.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/context.hpp"
#include "operators/features/catalog_images.hpp"
#include "operators/features/item_catalog.hpp"
#include "operators/features/item_features.hpp"
#include "operators/features/text_hashing.hpp"

namespace tailflow::ops::features {

struct FeatureOptions {
  bool text = true;
  TextHashingOptions hashing;
  bool include_tags = true;     // tags (if the catalog has them) join the text
  bool year_from_title = true;  // "Title (1995)" -> year 1995, decade "1990s"
  int max_category_levels = 3;  // deeper levels are ignored
  std::uint64_t min_count = 1;  // categorical values in fewer items map to "unknown"

  // Images: from an IDX file (the image column holds row numbers) or from PNG/JPEG files (paths, relative
  // to image_root, by default the items file's directory).
  std::string images_idx;
  std::string image_root;
  int image_size = 0;  // 0 = no images; else resized to image_size x image_size
  int image_channels = 1;
  std::vector<float> image_mean = {0.5f};
  std::vector<float> image_stddev = {0.5f};

  std::string wordpiece_vocab;  // empty = no WordPiece tokens
  int max_tokens = 32;

  // Pretrained encoders (TorchScript files), run after this step; see the file comment.
  std::string text_encoder;          // over the WordPiece tokens: needs wordpiece_vocab
  std::string text_pooling = "cls";  // "cls" or "mean" (over real tokens)
  std::string image_encoder;         // over the images at image_size: needs image_size > 0
  int encoder_batch = 32;            // items per inference call (does not change the output)

  CatalogImageOptions image_options() const;
  // Everything that changes the output, as text (part of the cache fingerprint).
  std::string describe() const;
};

// Collective. `frozen`: encode with an earlier run's tables (see the file comment); nullptr fits them.
ItemFeatureBlock extract_features(Context& ctx, const Catalog& catalog, const FeatureOptions& options,
                                  const ItemFeatureBlock* frozen = nullptr);

// A copy of `block` without its rows: the global tables (and block-level settings) only.
ItemFeatureBlock tables_of(const ItemFeatureBlock& block);

}  // namespace tailflow::ops::features
