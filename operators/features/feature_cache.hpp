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
// Master attributes: "fingerprint", "settings", "total_items", "text_buckets", "token_length",
// "image_channels", "image_height", "image_width", "categorical_columns", "multi_valued_columns"
// (comma-separated names, in order), "features_format" = 1.
//
// The fingerprint hashes the bytes of every input file and the settings text. A run whose fingerprint equals
// the stored one reads the features back instead of recomputing them; any change recomputes.
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

// The fingerprint stored in `master_path`, or nullopt when there is no readable feature file there.
// Collective (rank 0 looks, so every rank decides alike).
std::optional<std::string> stored_fingerprint(Context& ctx, const std::filesystem::path& master_path);

// Collective: writes every rank's block (rows in rank order) atomically.
void write_features(Context& ctx, const std::filesystem::path& master_path, const ItemFeatureBlock& block,
                    const std::string& fingerprint, const std::string& settings);

// This rank's balanced share (io::balanced_share) of the items, with every global table (idf, vocabularies,
// numeric statistics). Not collective; any rank count.
ItemFeatureBlock read_features(const std::filesystem::path& master_path, int rank, int ranks);

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
