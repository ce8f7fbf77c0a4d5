// One side (users or items) of an embeddings file written by `tailflow als`, as the jobs that use embeddings
// see it: each rank holds a balanced, contiguous share of the rows, and ids of an interaction file are
// matched to rows by their external id string.
//
// Why match by string: the embeddings' row order is the trainer's (relabelled by degree, numbered by the
// training file's dictionary), while an evaluation or exclusion file numbers its own ids. The external id is
// the only key both share.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "engine/context.hpp"
#include "engine/io/id_dictionary.hpp"
#include "engine/io/sharded_reader.hpp"
#include "operators/data/interaction.hpp"
#include "operators/knn/distributed_scorer.hpp"

namespace tailflow::jobs {

inline constexpr std::uint32_t kNoRow = std::numeric_limits<std::uint32_t>::max();

struct EmbeddingSide {
  std::string name;                   // "users" or "items"
  std::uint64_t total_rows = 0;       // over all ranks
  std::uint64_t first_row = 0;        // global index of this rank's first row
  std::vector<std::string> ids;       // external ids of this rank's rows
  ops::knn::RowMatrix vectors;        // this rank's rows × factors
  bool has_biases = false;            // the file holds <side>/biases (the same on every rank)
  std::vector<float> biases;          // this rank's rows, when has_biases
  std::vector<std::uint32_t> counts;  // training interactions of this rank's rows; empty when absent

  std::uint64_t local_rows() const { return ids.size(); }
};

// This rank's balanced share of `side` ("users" or "items"). Not collective.
EmbeddingSide read_embedding_side(Context& ctx, const io::ShardedReader& embeddings, const std::string& side);

// Collective. For every index of `dictionary` (the numbering of an interaction file's ids), the global
// embedding row holding the same external id, or kNoRow. Replicated on every rank.
std::vector<std::uint32_t> embedding_rows_of(Context& ctx, const EmbeddingSide& side,
                                             const io::IdDictionary& dictionary);

// Interactions renumbered from an interaction file's dictionaries into embedding rows; those whose user or
// item has no embedding are dropped and counted (this rank's counts).
struct InteractionsInRows {
  std::vector<ops::Interaction> rows;
  std::uint64_t unknown_user = 0;  // dropped: the user has no embedding
  std::uint64_t unknown_item = 0;  // dropped: the user has one, the item has none
};
InteractionsInRows to_embedding_rows(const std::vector<ops::Interaction>& interactions,
                                     const std::vector<std::uint32_t>& user_rows,
                                     const std::vector<std::uint32_t>& item_rows);

// Widens query and item matrices by one column so that their dot product is query·item + item bias: a
// column of ones against a column of biases (one per item row). The user's own bias and the global mean do
// not change a user's ranking, the item's bias does.
void append_item_bias_column(ops::knn::RowMatrix& queries, ops::knn::RowMatrix& items,
                             const std::vector<float>& item_biases);

// The vectors of some of this rank's rows (local indices), in order.
ops::knn::RowMatrix select_rows(const ops::knn::RowMatrix& vectors,
                                const std::vector<std::uint64_t>& local_rows);

}  // namespace tailflow::jobs
