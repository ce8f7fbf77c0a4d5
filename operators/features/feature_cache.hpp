// Features on disk: DIR/features.h5 (master) + one shard per rank, reused while inputs and settings stay.
//
// Layout (all per-item datasets have one row per item, in global item order; a ShardedReader reads them with
// any number of ranks):
//   items/ids, items/interactions, items/in_catalog
//   text/lengths (entries per item), text/ids, text/weights (the CSR entries, item after item), text/idf
//   categorical/<name>/ids, categorical/<name>/vocabulary
//   multi/<name>/lengths, multi/<name>/ids, multi/<name>/weights, multi/<name>/vocabulary
//   numeric/values (items x columns), numeric/names, numeric/mean, numeric/stddev, numeric/missing
//   images/pixels (items x channels*height*width)
//   tokens/ids, tokens/attention_mask (items x max tokens)
//   dense/<name>/values (items x dims): pretrained encoder outputs ("text_encoder", "image_encoder")
// Master attributes: "fingerprint", "settings", "recipe" (feature_recipe.hpp: how to encode new rows alike),
// "total_items", "text_buckets", "token_length", "image_channels", "image_height", "image_width",
// "category_levels", "title_years", "categorical_columns", "multi_valued_columns", "dense_blocks"
// (comma-separated names, in order), "features_format" = 2.
//
// The fingerprint hashes the bytes of every input file (catalog, interactions, tags, IDX images, vocab.txt,
// TorchScript encoders) and the settings text. A run whose fingerprint equals the stored one reads the
// features back instead of recomputing them; any change recomputes.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/context.hpp"
#include "operators/features/item_features.hpp"

namespace tailflow::ops::features {

// Collective (rank 0 reads the files, every rank gets the result): a hex digest of the files' contents and
// `settings`. A missing file is an Error naming it.
std::string feature_fingerprint(Context& ctx, const std::vector<std::string>& input_files,
                                const std::string& settings);

// A hex digest of one file's bytes (not collective); Error if it cannot be read.
std::string file_digest(const std::string& path);

// The fingerprint stored in `master_path`, or nullopt when there is no readable feature file there.
// Collective (rank 0 looks, so every rank decides alike).
std::optional<std::string> stored_fingerprint(Context& ctx, const std::filesystem::path& master_path);

// Collective: writes every rank's block (rows in rank order) atomically. `recipe`: feature_recipe.hpp's text.
void write_features(Context& ctx, const std::filesystem::path& master_path, const ItemFeatureBlock& block,
                    const std::string& fingerprint, const std::string& settings,
                    const std::string& recipe = "");

// This rank's balanced share (io::balanced_share) of the items, with every global table (idf, vocabularies,
// numeric statistics). Not collective; any rank count.
ItemFeatureBlock read_features(const std::filesystem::path& master_path, int rank, int ranks);

// The global tables only (no rows; see tables_of in feature_extraction.hpp), with the stored fingerprint and
// recipe text ("" for files written before recipes were stored). Not collective.
struct StoredTables {
  ItemFeatureBlock tables;
  std::string fingerprint;
  std::string recipe;
};
StoredTables read_feature_tables(const std::filesystem::path& master_path);

// Totals over all ranks, for the job's summary. Collective.
struct FeatureSummary {
  std::uint64_t items = 0;
  std::uint64_t items_in_catalog = 0;
  std::uint64_t items_with_text = 0;
  std::uint64_t text_nnz = 0;
  std::vector<std::pair<std::string, std::uint64_t>> vocabulary_sizes;  // categorical and multi-valued
  std::vector<std::string> numeric_columns;
  std::string describe() const;
};
FeatureSummary summarise(Context& ctx, const ItemFeatureBlock& block);

}  // namespace tailflow::ops::features
