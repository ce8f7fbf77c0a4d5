// The items `tailflow evaluate` ranks, and each item-vector source's vectors for them, matched by external
// id.
//
// A source is an embeddings file: `--embeddings` (reported as "als") or a `--source NAME=FILE` (content,
// blend, prior, als-full, ... as written by `tailflow embed` or `tailflow als`). Files number their items in
// their own orders, and may hold different items: an ALS file only items with training interactions, a
// content file every catalog item. So:
//   - the item universe is the union of all files' item ids: the --embeddings items first, in that file's row
//     order (universe row r < main_rows() is that file's row r), then the ids only later files have, in the
//     order of the --source options and of each file's rows. It does not depend on the rank count;
//   - each source's vector for a universe item is found by id; items a file lacks are "missing" for it: they
//     are counted and ranked after all its scored items (kMissingItemScore, seeded random order);
//   - user vectors come from the source file when it has users/ids and users/vectors (an ALS file, or a blend
//     that copied them), otherwise from --embeddings; a query user the file lacks gets a zero vector (all
//     its items tie: a random ranking) and is counted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/context.hpp"
#include "engine/io/sharded_reader.hpp"
#include "jobs/embedding_side.hpp"
#include "operators/knn/distributed_scorer.hpp"

namespace tailflow::jobs {

inline constexpr std::uint64_t kNotInFile = std::numeric_limits<std::uint64_t>::max();

// A `--source NAME=FILE` option.
struct SourceOption {
  std::string name;
  std::filesystem::path path;
};

// Parses NAME=FILE. NAME: letters, digits, '-', '_' and '.'. Throws Error with the expected form.
SourceOption parse_source_option(const std::string& text);

class ItemUniverse {
 public:
  // Not collective: every rank reads items/ids of every file. `files[0]` is --embeddings. Throws Error naming
  // the file when it has no items/ids or items/vectors, their rows differ, or an id occurs twice.
  explicit ItemUniverse(const std::vector<const io::ShardedReader*>& files);

  std::uint64_t size() const { return ids_.size(); }
  std::uint64_t main_rows() const { return main_rows_; }
  const std::vector<std::string>& ids() const { return ids_; }
  // The row of universe item `row` in files[file], or kNotInFile.
  std::uint64_t row_in_file(std::size_t file, std::uint64_t row) const { return rows_in_files_[file][row]; }

 private:
  std::vector<std::string> ids_;
  std::uint64_t main_rows_ = 0;
  std::vector<std::vector<std::uint64_t>> rows_in_files_;  // per file: universe row -> file row
};

// This rank's balanced share of the universe, as the item side of the evaluation: ids only (no vectors).
EmbeddingSide universe_share(Context& ctx, const ItemUniverse& universe);

// One source's matrices for the dot-product scorer, and what it lacks.
struct SourceVectors {
  ops::knn::RowMatrix queries;        // one row per query of this rank, in order
  ops::knn::RowMatrix items;          // one row per local universe row (the share's rows)
  std::vector<std::uint8_t> missing;  // per local universe row: 1 when the file has no vector for it
  std::uint64_t items_missing = 0;    // universe items the file lacks, over all ranks
  std::uint64_t users_missing = 0;    // queries whose user the file lacks, over all ranks
  std::string users_from;             // the file the user vectors come from
  bool item_biases = false;           // the file's items/biases are part of the score
};

// Collective. The vectors of files[file] (as given to the universe) for this rank's universe share and
// queries. `main_users` is --embeddings' user side; `query_rows` the local rows of its users that are
// queries. The item bias (when the file has items/biases) and the missing items' penalty are extra columns,
// so the scores are user·item (+ item bias), or kMissingItemScore for missing items.
SourceVectors read_source_vectors(Context& ctx, const io::ShardedReader& reader, std::size_t file,
                                  const ItemUniverse& universe, const EmbeddingSide& items,
                                  const EmbeddingSide& main_users,
                                  const std::vector<std::uint64_t>& query_rows);

}  // namespace tailflow::jobs
