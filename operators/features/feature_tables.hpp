// A trained model's own copy of what encoding new items needs: the recipe (feature_recipe.hpp) and the
// frozen tables (idf, vocabularies, numeric statistics, category levels, title years, dense block widths)
// of the features it was trained on, plus a copy of the WordPiece vocab.txt. `tailflow train` writes them
// next to the weights; `tailflow embed --items` reads them, so that a model directory alone embeds brand-new
// catalog rows, whatever happened to the features directory since.
//
//   MODEL_DIR/feature_tables.h5     tables as datasets (text/idf, categorical/<name>/vocabulary,
//                                   multi/<name>/vocabulary, numeric/{names,mean,stddev,missing}) and
//                                   attributes (recipe, features_fingerprint, block settings)
//   MODEL_DIR/wordpiece_vocab.txt   when the features had WordPiece tokens
//
// The TorchScript encoders are not copied (a BERT is hundreds of MB): the recipe keeps their absolute paths
// and byte digests, and embed refuses a file whose digest differs.
#pragma once

#include <filesystem>
#include <string>

#include "operators/features/feature_recipe.hpp"
#include "operators/features/item_features.hpp"

namespace tailflow::ops::features {

struct Featurizer {
  FeatureRecipe recipe;  // features.wordpiece_vocab names the model directory's copy
  ItemFeatureBlock tables;
  std::string features_fingerprint;  // of the features the model was trained on
};

// Copies the tables and recipe of a features file (`DIR/features.h5`) into `model_dir`. Not collective: call
// on one rank. Throws Error when the features file holds no recipe (written by an older tailflow).
void save_featurizer(const std::filesystem::path& features_master, const std::filesystem::path& model_dir);

bool has_featurizer(const std::filesystem::path& model_dir);
// Throws Error naming a missing or inconsistent file (a vocab.txt whose digest differs from the recipe's).
Featurizer load_featurizer(const std::filesystem::path& model_dir);

// "" when two blocks' tables encode items alike (same idf, vocabularies, numeric statistics, image shape,
// token length, dense widths); else what differs first.
std::string table_difference(const ItemFeatureBlock& a, const ItemFeatureBlock& b);

}  // namespace tailflow::ops::features
