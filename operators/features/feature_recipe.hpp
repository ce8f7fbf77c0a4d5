// How a features run turned catalog rows into features, as text: stored in features.h5 (attribute "recipe"),
// copied into a trained model's directory by `tailflow train`, and read by `tailflow embed --items` to encode
// brand-new rows exactly like the training rows (together with the frozen tables, feature_tables.hpp).
//
// It holds the catalog's column mapping as found in the training file (so a new file is read by the same
// column names, not by re-guessing), the separators, every feature option, and the digests of the files
// whose bytes decide the output of a pretrained encoder (the TorchScript files and vocab.txt), so that a
// changed encoder is refused instead of silently producing vectors the model never saw.
//
// The text is "key=value" lines (backslash and newline escaped in values), readable and diffable.
#pragma once

#include <string>

#include "operators/features/feature_extraction.hpp"
#include "operators/features/item_catalog.hpp"

namespace tailflow::ops::features {

struct FeatureRecipe {
  CatalogOptions catalog;  // path and tag files are not part of it (new rows come from elsewhere)
  FeatureOptions features;
  std::string wordpiece_digest;      // file_digest of features.wordpiece_vocab, "" without one
  std::string text_encoder_digest;   // of features.text_encoder
  std::string image_encoder_digest;  // of features.image_encoder
  bool had_tags = false;             // tag files joined the training text (new rows have none)
};

std::string to_text(const FeatureRecipe& recipe);
// Throws Error naming the key for a missing or malformed entry.
FeatureRecipe recipe_from_text(const std::string& text);

}  // namespace tailflow::ops::features
