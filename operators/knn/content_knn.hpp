// Content-kNN: the baseline that ranks items by how much their content resembles what a user has had, with no
// learned model ("content-knn" in evaluation reports; ../shared/design/EVALUATION.md, "Baselines").
//
//   item vector   one sparse vector per item, from its features (operators/features/item_features.hpp): the
//                 TF-IDF text bag, a one-hot per categorical column (id 0, "unknown", left out) and each
//                 multi-valued bag. Each of these groups is scaled to unit L2 norm, then the concatenation
//                 is, so every group an item has counts alike (an item with text, brand and three category
//                 levels has five groups of weight 1/√5). Numeric columns and pixels are left out: a cosine
//                 over standardised prices or raw pixels says little about what a user likes.
//   user profile  the sum of the unit vectors of the user's training items (the mean gives the same cosine).
//   score         cosine(profile, item) = profile · item / |profile| (item vectors have norm 1). Items
//                 without features score kMissingItemScore: after every real cosine, in the seeded random
//                 order of ties. A user whose profile is empty scores every item 0 (a random ranking).
//
// Distribution, as in distributed_scorer.hpp: queries stay on the ranks that own them; in rounds, every rank
// receives the round's profiles (as lists of history items), scores its own catalog items and returns at
// most K candidates per query to the owner, which merges them. Item vectors are small next to the users (the
// catalog assumption of the other scorers), so every rank holds all of them (ContentIndex).
//
// How a rank scores: a profile has thousands of terms, so scoring it term by term against every item would be
// slow. Instead, for a block B of catalog items, the item-item similarities S(j, b) = v_j · v_b of every item
// j are computed once (a sparse product over B's terms), and score(q, b) = Σ_{j ∈ history(q)} S(j, b) /
// |p_q|, which costs |history(q)| additions per item, like a dense scorer with that many factors. Every sum
// runs in a fixed order (terms ascending, history ascending), so scores do not depend on the rank count.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/context.hpp"
#include "operators/data/interaction.hpp"
#include "operators/features/item_features.hpp"
#include "operators/knn/distributed_scorer.hpp"
#include "operators/knn/ranked_lists.hpp"

namespace tailflow::ops::knn {

// The score of an item that a source cannot score at all (no vector, no features): far below any real
// score, and the same for all such items, so they come last in seeded random order.
inline constexpr float kMissingItemScore = -1e30f;

// Sparse vectors in compressed sparse row form: row r holds terms[offsets[r] .. offsets[r+1]) (ascending)
// with their weights. An empty row means "no content".
struct ContentVectors {
  std::vector<std::uint64_t> offsets{0};
  std::vector<std::uint32_t> terms;
  std::vector<float> weights;

  std::size_t rows() const { return offsets.size() - 1; }
  std::span<const std::uint32_t> terms_of(std::size_t row) const {
    return std::span<const std::uint32_t>(terms).subspan(offsets[row], offsets[row + 1] - offsets[row]);
  }
  std::span<const float> weights_of(std::size_t row) const {
    return std::span<const float>(weights).subspan(offsets[row], offsets[row + 1] - offsets[row]);
  }
};

// The unit content vector of each row of a feature block, in row order (see the top of this file). Terms
// number one space: text buckets first, then each categorical column's vocabulary, then each multi-valued
// column's. Not collective.
ContentVectors content_vectors(const features::ItemFeatureBlock& block);

// Every item's content vector, held by every rank, with an inverted index (term -> items) for scoring.
class ContentIndex {
 public:
  // Not collective: `all` has one row per item (row = item index; empty rows: items without content).
  explicit ContentIndex(ContentVectors all);

  // Collective: every rank contributes the vectors of some items (`local` row i is item `items[i]`); each
  // item at most once over all ranks, all below `total_items`. Items nobody contributes have no content.
  static ContentIndex gather(Context& ctx, const ContentVectors& local, std::span<const std::uint64_t> items,
                             std::uint64_t total_items);

  std::uint64_t items() const { return vectors_.rows(); }
  bool has_content(ItemIndex item) const { return vectors_.offsets[item + 1] > vectors_.offsets[item]; }
  std::uint64_t items_with_content() const;

  // Serial reference of the ranking score: the cosine between the profile of `history` (item indices) and
  // `item`; 0 for an empty profile or an item without content.
  double cosine(std::span<const ItemIndex> history, ItemIndex item) const;

  // |profile| of each history (the sum of its items' vectors), summed in a fixed order.
  std::vector<double> profile_norms(const ListsOf<ItemIndex>& histories) const;

  // For a block of items: similarity(j, b) = v_j · v_b for every item j and block position b, written to
  // `similarity` (resized to items() rows × block.size() columns). Items without content give 0 columns.
  void block_similarities(std::span<const ItemIndex> block, RowMatrix& similarity) const;

 private:
  ContentVectors vectors_;  // terms renumbered densely (0 .. term count - 1), order kept
  std::uint64_t term_count_ = 0;
  // The inverted index: term t's postings are entries posting_offsets_[t] .. posting_offsets_[t+1],
  // items ascending.
  std::vector<std::uint64_t> posting_offsets_;
  std::vector<ItemIndex> posting_items_;
  std::vector<float> posting_weights_;
};

// The queries this rank owns: each one's history (item indices of its profile, ascending) and global id
// (it seeds tie-breaking).
struct ContentQueries {
  const ListsOf<ItemIndex>& histories;
  std::span<const std::uint64_t> ids;
};

// The items this rank ranks: ContentIndex rows, listed in catalog order. They are catalog indices
// first_index, first_index + 1, ...: the lists returned hold catalog indices, like top_k_by_dot_product's.
struct ContentCatalogSlice {
  std::span<const ItemIndex> items;
  std::uint64_t first_index = 0;
};

struct ContentScoringOptions {
  std::size_t k = 10;
  std::uint64_t seed = 0;  // tie-breaking
  // A round gathers about this many history entries (over all ranks) on every rank; each round computes
  // the block similarities again, so rounds should be few.
  std::uint64_t round_history_entries = std::uint64_t{1} << 24;
  std::size_t item_block = 0;  // catalog items per similarity block; 0: as many as fit about 16 MiB
};

// Collective. For each of this rank's queries in order, the top-K catalog items (catalog indices) by
// cosine with the query's profile, best first, never an item of its exclusion list (catalog indices, one list
// per query; optional). Lists are shorter than K only when fewer items remain.
RankedLists top_k_by_content(Context& ctx, const ContentIndex& index, const ContentQueries& queries,
                             const ContentCatalogSlice& catalog, const ExclusionLists* exclusions,
                             const ContentScoringOptions& options);

}  // namespace tailflow::ops::knn
