// GCC 12 reports a false "may be used uninitialized" inside Eigen (GCC bug 105593, fixed in GCC 13); it must
// be silenced before Eigen is included.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "operators/knn/content_knn.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <utility>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "operators/knn/owner_merge.hpp"

namespace tailflow::ops::knn {
namespace {

using Entries = std::vector<std::pair<std::uint32_t, float>>;

// Appends a group's entries scaled to unit L2 norm; returns false (appending nothing) for a group of norm 0.
bool append_unit_group(Entries& row, const Entries& group) {
  double squares = 0;
  for (const auto& entry : group) squares += static_cast<double>(entry.second) * entry.second;
  if (squares <= 0) return false;
  const double scale = 1.0 / std::sqrt(squares);
  for (const auto& [term, weight] : group) row.emplace_back(term, static_cast<float>(weight * scale));
  return true;
}

// A bag's entries of one row, with term numbers shifted by `base`; ids outside [0, size) are an error.
Entries bag_entries(const features::SparseRows& bag, std::size_t row, std::uint64_t base, std::uint64_t size,
                    const std::string& name) {
  Entries entries;
  for (auto e = bag.offsets[row]; e < bag.offsets[row + 1]; ++e) {
    const auto id = bag.ids[static_cast<std::size_t>(e)];
    if (id < 0 || static_cast<std::uint64_t>(id) >= size)
      throw Error(fmt::format("content features: {} id {} outside its {} values", name, id, size));
    entries.emplace_back(static_cast<std::uint32_t>(base + static_cast<std::uint64_t>(id)),
                         bag.weights[static_cast<std::size_t>(e)]);
  }
  return entries;
}

// Lists (lengths and entries) of queries [first, first + count), gathered from every rank in rank order.
struct GatheredLists {
  std::vector<std::uint64_t> offsets;  // per slot, plus the end
  std::vector<ItemIndex> entries;
  std::span<const ItemIndex> operator[](std::size_t slot) const {
    return std::span<const ItemIndex>(entries).subspan(offsets[slot], offsets[slot + 1] - offsets[slot]);
  }
};

GatheredLists gather_lists(comm::Communicator& comm, const ListsOf<ItemIndex>& lists, std::size_t first,
                           std::size_t count) {
  std::vector<std::uint64_t> lengths(count);
  for (std::size_t q = 0; q < count; ++q) lengths[q] = lists[first + q].size();
  const auto from = lists.offsets[first], to = lists.offsets[first + count];
  GatheredLists gathered;
  gathered.offsets = exclusive_prefix(comm::allgatherv(comm, std::span<const std::uint64_t>(lengths)));
  gathered.entries =
      comm::allgatherv(comm, std::span<const ItemIndex>(lists.entries).subspan(from, to - from));
  return gathered;
}

}  // namespace

ContentVectors content_vectors(const features::ItemFeatureBlock& block) {
  // Term numbering: text buckets, then each categorical vocabulary, then each multi-valued vocabulary.
  std::uint64_t dimensions = block.text_buckets > 0 ? static_cast<std::uint64_t>(block.text_buckets) : 0;
  std::vector<std::uint64_t> categorical_base, multi_base;
  for (const auto& column : block.categorical) {
    categorical_base.push_back(dimensions);
    dimensions += column.vocabulary.size();
  }
  for (const auto& column : block.multi_valued) {
    multi_base.push_back(dimensions);
    dimensions += column.vocabulary.size();
  }
  if (dimensions > std::numeric_limits<std::uint32_t>::max())
    throw Error(fmt::format("content features: {} terms do not fit 32-bit term numbers", dimensions));

  ContentVectors vectors;
  Entries row, group;
  for (std::size_t item = 0; item < block.local_rows(); ++item) {
    row.clear();
    int groups = 0;
    if (block.text_buckets > 0 && block.text.rows() > item)
      groups += append_unit_group(
          row, bag_entries(block.text, item, 0, static_cast<std::uint64_t>(block.text_buckets), "text"));
    for (std::size_t c = 0; c < block.categorical.size(); ++c) {
      const auto& column = block.categorical[c];
      const std::int64_t id = column.ids.at(item);
      if (id < 0 || static_cast<std::uint64_t>(id) >= column.vocabulary.size())
        throw Error(fmt::format("content features: {} id {} outside its {} values", column.name, id,
                                column.vocabulary.size()));
      if (id == 0) continue;  // unknown
      group.assign(1,
                   {static_cast<std::uint32_t>(categorical_base[c] + static_cast<std::uint64_t>(id)), 1.0f});
      groups += append_unit_group(row, group);
    }
    for (std::size_t c = 0; c < block.multi_valued.size(); ++c) {
      const auto& column = block.multi_valued[c];
      groups += append_unit_group(
          row, bag_entries(column.values, item, multi_base[c], column.vocabulary.size(), column.name));
    }
    std::sort(row.begin(), row.end());
    const float scale = groups > 0 ? static_cast<float>(1.0 / std::sqrt(static_cast<double>(groups))) : 0.0f;
    for (std::size_t e = 0; e < row.size(); ++e) {
      if (!vectors.terms.empty() && vectors.offsets.back() < vectors.terms.size() &&
          vectors.terms.back() == row[e].first) {
        vectors.weights.back() += row[e].second * scale;  // a term twice in one bag
        continue;
      }
      vectors.terms.push_back(row[e].first);
      vectors.weights.push_back(row[e].second * scale);
    }
    vectors.offsets.push_back(vectors.terms.size());
  }
  return vectors;
}

ContentIndex::ContentIndex(ContentVectors all) : vectors_(std::move(all)) {
  // Renumber the terms densely and build the postings: sort (term, item, entry) once.
  struct Posting {
    std::uint32_t term;
    ItemIndex item;
    std::uint64_t entry;
  };
  std::vector<Posting> postings;
  postings.reserve(vectors_.terms.size());
  for (std::size_t item = 0; item < vectors_.rows(); ++item)
    for (auto e = vectors_.offsets[item]; e < vectors_.offsets[item + 1]; ++e)
      postings.push_back({vectors_.terms[e], static_cast<ItemIndex>(item), e});
  std::sort(postings.begin(), postings.end(), [](const Posting& a, const Posting& b) {
    return a.term != b.term ? a.term < b.term : a.item < b.item;
  });
  posting_offsets_.assign(1, 0);
  posting_items_.reserve(postings.size());
  posting_weights_.reserve(postings.size());
  for (std::size_t p = 0; p < postings.size(); ++p) {
    if (p > 0 && postings[p].term != postings[p - 1].term) posting_offsets_.push_back(p);
    posting_items_.push_back(postings[p].item);
    posting_weights_.push_back(vectors_.weights[postings[p].entry]);
    vectors_.terms[postings[p].entry] = static_cast<std::uint32_t>(posting_offsets_.size() - 1);
  }
  if (!postings.empty()) posting_offsets_.push_back(postings.size());
  term_count_ = posting_offsets_.size() - 1;
}

ContentIndex ContentIndex::gather(Context& ctx, const ContentVectors& local,
                                  std::span<const std::uint64_t> items, std::uint64_t total_items) {
  comm::Communicator& comm = ctx.comm();
  ctx.check_collectively(
      items.size() == local.rows()
          ? std::string()
          : fmt::format("content vectors: {} item numbers for {} rows", items.size(), local.rows()));
  std::vector<std::uint64_t> lengths(local.rows());
  for (std::size_t r = 0; r < local.rows(); ++r) lengths[r] = local.offsets[r + 1] - local.offsets[r];
  const auto all_items = comm::allgatherv(comm, items);
  const auto all_lengths = comm::allgatherv(comm, std::span<const std::uint64_t>(lengths));
  const auto all_terms = comm::allgatherv(comm, std::span<const std::uint32_t>(local.terms));
  const auto all_weights = comm::allgatherv(comm, std::span<const float>(local.weights));

  // Every rank holds the same gathered data, so every rank finds the same problem.
  std::vector<std::uint64_t> length(total_items, 0), source(total_items, 0);  // per item
  std::vector<bool> seen(total_items, false);
  const auto starts = exclusive_prefix(all_lengths);
  for (std::size_t r = 0; r < all_items.size(); ++r) {
    if (all_items[r] >= total_items)
      throw Error(fmt::format("content vectors: item {} outside the {} items", all_items[r], total_items));
    if (seen[all_items[r]]) throw Error(fmt::format("content vectors: item {} given twice", all_items[r]));
    seen[all_items[r]] = true;
    length[all_items[r]] = all_lengths[r];
    source[all_items[r]] = starts[r];
  }
  ContentVectors all;
  all.offsets = exclusive_prefix(length);
  all.terms.resize(all.offsets.back());
  all.weights.resize(all.offsets.back());
  for (std::uint64_t item = 0; item < total_items; ++item) {
    const auto n = all.offsets[item + 1] - all.offsets[item];
    std::copy_n(all_terms.begin() + static_cast<std::ptrdiff_t>(source[item]), n,
                all.terms.begin() + static_cast<std::ptrdiff_t>(all.offsets[item]));
    std::copy_n(all_weights.begin() + static_cast<std::ptrdiff_t>(source[item]), n,
                all.weights.begin() + static_cast<std::ptrdiff_t>(all.offsets[item]));
  }
  return ContentIndex(std::move(all));
}

std::uint64_t ContentIndex::items_with_content() const {
  std::uint64_t count = 0;
  for (std::size_t item = 0; item < vectors_.rows(); ++item)
    count += has_content(static_cast<ItemIndex>(item));
  return count;
}

double ContentIndex::cosine(std::span<const ItemIndex> history, ItemIndex item) const {
  std::map<std::uint32_t, double> profile;
  for (ItemIndex j : history)
    for (auto e = vectors_.offsets[j]; e < vectors_.offsets[j + 1]; ++e)
      profile[vectors_.terms[e]] += vectors_.weights[e];
  double squares = 0;
  for (const auto& [term, weight] : profile) squares += weight * weight;
  if (squares <= 0) return 0;
  double dot = 0;
  for (auto e = vectors_.offsets[item]; e < vectors_.offsets[item + 1]; ++e) {
    const auto found = profile.find(vectors_.terms[e]);
    if (found != profile.end()) dot += found->second * vectors_.weights[e];
  }
  return dot / std::sqrt(squares);
}

std::vector<double> ContentIndex::profile_norms(const ListsOf<ItemIndex>& histories) const {
  std::vector<double> profile(term_count_, 0.0);
  std::vector<std::uint32_t> touched;
  std::vector<double> norms(histories.size(), 0.0);
  for (std::size_t q = 0; q < histories.size(); ++q) {
    touched.clear();
    for (ItemIndex j : histories[q])
      for (auto e = vectors_.offsets[j]; e < vectors_.offsets[j + 1]; ++e) {
        const auto term = vectors_.terms[e];
        if (profile[term] == 0.0) touched.push_back(term);
        profile[term] += vectors_.weights[e];
      }
    // A term whose sum returned to 0 may be listed twice: it adds 0 the second time.
    double squares = 0;
    for (const auto term : touched) {
      squares += profile[term] * profile[term];
      profile[term] = 0.0;
    }
    norms[q] = std::sqrt(squares);
  }
  return norms;
}

void ContentIndex::block_similarities(std::span<const ItemIndex> block, RowMatrix& similarity) const {
  // One row per block item first: item b's row (all items, a few hundred KiB at most) stays in cache while
  // the postings of b's terms stream past, and each similarity adds its terms in ascending order whatever
  // the block. Then transposed, so that a query's history items are rows of `similarity`.
  const auto columns = static_cast<Eigen::Index>(block.size());
  const auto rows = static_cast<Eigen::Index>(items());
  thread_local RowMatrix by_block_item;  // kept between calls: the blocks of one scoring have one shape
  if (by_block_item.rows() != columns || by_block_item.cols() != rows) by_block_item.resize(columns, rows);
  by_block_item.setZero();
  for (std::size_t b = 0; b < block.size(); ++b) {
    float* row = by_block_item.row(static_cast<Eigen::Index>(b)).data();
    for (auto e = vectors_.offsets[block[b]]; e < vectors_.offsets[block[b] + 1]; ++e) {
      const float weight = vectors_.weights[e];
      const auto term = vectors_.terms[e];
      const ItemIndex* items = posting_items_.data() + posting_offsets_[term];
      const float* weights = posting_weights_.data() + posting_offsets_[term];
      const auto count = posting_offsets_[term + 1] - posting_offsets_[term];
      for (std::uint64_t p = 0; p < count; ++p) row[items[p]] += weight * weights[p];
    }
  }
  similarity = by_block_item.transpose();
}

RankedLists top_k_by_content(Context& ctx, const ContentIndex& index, const ContentQueries& queries,
                             const ContentCatalogSlice& catalog, const ExclusionLists* exclusions,
                             const ContentScoringOptions& options) {
  comm::Communicator& comm = ctx.comm();
  const std::size_t local_queries = queries.histories.size();
  std::string problem;
  if (queries.ids.size() != local_queries)
    problem =
        fmt::format("content scoring: {} query ids for {} histories", queries.ids.size(), local_queries);
  else if (exclusions && exclusions->size() != local_queries)
    problem =
        fmt::format("content scoring: {} exclusion lists for {} queries", exclusions->size(), local_queries);
  for (ItemIndex item : queries.histories.entries)
    if (item >= index.items()) problem = fmt::format("content scoring: history item {} is unknown", item);
  for (ItemIndex item : catalog.items)
    if (item >= index.items()) problem = fmt::format("content scoring: catalog item {} is unknown", item);
  ctx.check_collectively(problem);

  std::vector<float> inverse_norms;
  for (const double norm : index.profile_norms(queries.histories))
    inverse_norms.push_back(norm > 0 ? static_cast<float>(1.0 / norm) : 0.0f);
  const auto query_prefix = exclusive_prefix(comm::allgather_value<std::uint64_t>(comm, local_queries));
  const std::uint64_t total_queries = query_prefix.back();
  const std::uint64_t my_first = query_prefix[comm.rank()];
  const auto total_entries =
      comm::allreduce_sum(comm, static_cast<std::uint64_t>(queries.histories.entries.size()));
  // Rounds of equal query counts, sized by the average history.
  const std::uint64_t round_queries = std::max<std::uint64_t>(
      1, std::max<std::uint64_t>(1, options.round_history_entries) *
             std::max<std::uint64_t>(1, total_queries) / std::max<std::uint64_t>(1, total_entries));
  const std::size_t item_block =
      options.item_block > 0
          ? options.item_block
          : std::clamp<std::size_t>((std::size_t{1} << 22) / std::max<std::uint64_t>(1, index.items()), 8,
                                    256);

  RankedLists result;
  result.offsets.reserve(local_queries + 1);
  if (options.k == 0) {
    for (std::size_t q = 0; q < local_queries; ++q) result.close_list();
    return result;
  }
  std::vector<TopKSelector> selectors;
  RowMatrix similarity;
  Eigen::VectorXf sums;
  std::vector<float> scores(item_block);
  for (std::uint64_t round_first = 0; round_first < total_queries; round_first += round_queries) {
    const std::uint64_t round_end = std::min(total_queries, round_first + round_queries);
    const std::uint64_t lo = std::max(round_first, my_first);
    const std::uint64_t hi = std::min(round_end, my_first + local_queries);
    const std::size_t first = lo < hi ? lo - my_first : 0;
    const std::size_t count = lo < hi ? hi - lo : 0;

    // 1. Every rank receives the round's profiles: ids, 1/|profile|, histories and exclusions.
    std::vector<std::size_t> slot_counts;
    const auto round_ids = comm::allgatherv(comm, queries.ids.subspan(first, count), &slot_counts);
    const auto round_inverse_norms =
        comm::allgatherv(comm, std::span<const float>(inverse_norms).subspan(first, count));
    const GatheredLists histories = gather_lists(comm, queries.histories, first, count);
    GatheredLists excluded;
    if (exclusions) {
      excluded = gather_lists(comm, *exclusions, first, count);
      for (std::size_t s = 0; s + 1 < excluded.offsets.size(); ++s)
        std::sort(excluded.entries.begin() + static_cast<std::ptrdiff_t>(excluded.offsets[s]),
                  excluded.entries.begin() + static_cast<std::ptrdiff_t>(excluded.offsets[s + 1]));
    }
    const auto slot_prefix = exclusive_prefix(slot_counts);
    const std::size_t slots = round_ids.size();

    // 2. Score this rank's catalog items, block by block.
    while (selectors.size() < slots) selectors.emplace_back(options.k, options.seed);
    for (std::size_t s = 0; s < slots; ++s) selectors[s].reset(round_ids[s]);
    for (std::size_t block_first = 0; block_first < catalog.items.size(); block_first += item_block) {
      const auto block =
          catalog.items.subspan(block_first, std::min(item_block, catalog.items.size() - block_first));
      index.block_similarities(block, similarity);
      const std::uint64_t first_index = catalog.first_index + block_first;
      for (std::size_t s = 0; s < slots; ++s) {
        sums.setZero(static_cast<Eigen::Index>(block.size()));
        for (ItemIndex j : histories[s]) sums += similarity.row(static_cast<Eigen::Index>(j)).transpose();
        std::span<const ItemIndex> skip;
        if (exclusions) {
          const auto list = excluded[s];
          const auto from = std::lower_bound(list.begin(), list.end(), first_index);
          const auto to = std::lower_bound(from, list.end(), first_index + block.size());
          skip = std::span<const ItemIndex>(from, to);
        }
        // Scores of the block, offered in runs between excluded items.
        for (std::size_t b = 0; b < block.size(); ++b)
          scores[b] = index.has_content(block[b])
                          ? sums[static_cast<Eigen::Index>(b)] * round_inverse_norms[s]
                          : kMissingItemScore;
        std::size_t from = 0;
        for (const ItemIndex item : skip) {
          const std::size_t position = item - first_index;
          if (position >= from)
            selectors[s].offer_range(std::span<const float>(scores).subspan(from, position - from),
                                     static_cast<ItemIndex>(first_index + from));
          from = std::max(from, position + 1);
        }
        selectors[s].offer_range(std::span<const float>(scores).subspan(from, block.size() - from),
                                 static_cast<ItemIndex>(first_index + from));
      }
    }

    // 3. Each query's candidates return to its owner, which keeps the best K of them.
    merge_candidates_at_owners(comm, selectors, slot_prefix, queries.ids.subspan(first, count), result);
  }
  return result;
}

}  // namespace tailflow::ops::knn
