// The item side of an ALS embeddings file (jobs/als.cpp), replicated on every rank and keyed by external id,
// for joining it with the content features (operators/features/feature_cache.hpp).
//
// Why join by id string: feature rows follow the ALS item numbering only when `tailflow features` was given
// the same interaction file as `tailflow als`; the external id is the key both files always share, so the
// join never trusts row order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/context.hpp"
#include "engine/io/sharded_reader.hpp"

namespace tailflow::ops::tail {

inline constexpr std::uint64_t kNotInAls = std::numeric_limits<std::uint64_t>::max();

struct AlsItems {
  std::filesystem::path path;
  std::size_t dims = 0;
  std::vector<std::string> ids;       // ALS row -> external id
  std::vector<float> vectors;         // rows × dims, row-major
  std::vector<std::uint64_t> counts;  // training interactions per row
  std::vector<float> biases;          // per row, empty when the file has no items/biases
  std::unordered_map<std::string, std::uint64_t> row_of;

  std::size_t rows() const { return ids.size(); }
  std::span<const float> vector(std::uint64_t row) const {
    return std::span<const float>(vectors).subspan(row * dims, dims);
  }
};

// Reads items/ids, items/vectors, items/counts (and items/biases when present). Not collective. Throws Error
// naming the file when a dataset is missing, shapes disagree or an id occurs twice.
AlsItems read_als_items(const io::ShardedReader& embeddings);

// The ALS row of each external id, kNotInAls for ids ALS has not seen (items without interactions).
std::vector<std::uint64_t> als_rows_of(const AlsItems& als, std::span<const std::string> ids);

// This rank's feature rows (external ids `local_ids`, the first at global row `first_row`) joined with ALS.
struct FeatureAlsJoin {
  std::vector<std::uint64_t> als_rows;  // per local feature row: its ALS row, or kNotInAls
  std::vector<std::uint64_t> counts;    // per local feature row: ALS training interactions (0 if not in ALS)
  std::uint64_t matched = 0;            // feature rows with an ALS vector, over all ranks
  std::uint64_t feature_rows = 0;       // over all ranks
  bool same_order = true;               // feature row i is ALS row i for every matched row (all ranks)
};

// Collective. Every ALS item must have a feature row: otherwise every rank throws a CollectiveError naming
// how many are missing and one example (run `tailflow features --interactions` with the ALS input file).
// Feature rows without an ALS vector are fine: they are the items without interactions.
FeatureAlsJoin join_features_with_als(Context& ctx, const AlsItems& als,
                                      std::span<const std::string> local_ids, std::uint64_t first_row,
                                      const std::string& features_path);

}  // namespace tailflow::ops::tail
