// GCC 12 reports a false "may be used uninitialized" inside Eigen's AVX-512 GEMM packing (GCC bug 105593,
// fixed in GCC 13); it must be silenced before Eigen is included.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "operators/knn/distributed_scorer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <string>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "operators/knn/owner_merge.hpp"
#include "operators/knn/row_ownership.hpp"

namespace tailflow::ops::knn {
namespace {

// An excluded item on its way to the rank that holds it: which query of the round, which local item row.
struct ExcludedItem {
  std::uint32_t slot;
  std::uint32_t local_item;
  friend bool operator<(const ExcludedItem& a, const ExcludedItem& b) {
    return a.slot != b.slot ? a.slot < b.slot : a.local_item < b.local_item;
  }
};

// The shared column count of all non-empty query and item matrices; throws collectively when they differ.
Eigen::Index common_dimension(Context& ctx, const Eigen::Ref<const RowMatrix>& queries,
                              std::span<const std::uint64_t> ids, const Eigen::Ref<const RowMatrix>& items,
                              const ExclusionLists* exclusions) {
  std::int64_t query_dims = queries.rows() > 0 ? queries.cols() : -1;
  std::int64_t item_dims = items.rows() > 0 ? items.cols() : -1;
  std::int64_t dims = comm::allreduce_max(ctx.comm(), std::max(query_dims, item_dims));
  std::string problem;
  if ((query_dims >= 0 && query_dims != dims) || (item_dims >= 0 && item_dims != dims))
    problem = fmt::format(
        "vectors of different lengths: this rank's queries have {} columns, its items {}, "
        "another rank's {}",
        query_dims, item_dims, dims);
  else if (ids.size() != static_cast<std::size_t>(queries.rows()))
    problem = fmt::format("{} query ids for {} query vectors", ids.size(), queries.rows());
  else if (exclusions && exclusions->size() != static_cast<std::size_t>(queries.rows()))
    problem = fmt::format("{} exclusion lists for {} queries", exclusions->size(), queries.rows());
  ctx.check_collectively(problem);
  return static_cast<Eigen::Index>(dims);
}

// The round's excluded items, delivered to the ranks that hold them, sorted by (slot, item).
std::vector<ExcludedItem> route_exclusions(comm::Communicator& comm, const RowOwnership& item_owners,
                                           const ExclusionLists* exclusions, std::size_t first_query,
                                           std::size_t query_count, std::uint64_t first_slot) {
  std::vector<std::vector<ExcludedItem>> outgoing(comm.size());
  if (exclusions) {
    for (std::size_t q = 0; q < query_count; ++q)
      for (ItemIndex item : (*exclusions)[first_query + q]) {
        auto [rank, local_row] = item_owners.locate(item);
        if (rank >= 0)
          outgoing[rank].push_back(
              {static_cast<std::uint32_t>(first_slot + q), static_cast<std::uint32_t>(local_row)});
      }
  }
  std::vector<ExcludedItem> send;
  std::vector<std::size_t> send_counts(comm.size());
  for (int rank = 0; rank < comm.size(); ++rank) {
    send_counts[rank] = outgoing[rank].size();
    send.insert(send.end(), outgoing[rank].begin(), outgoing[rank].end());
  }
  auto received =
      comm::alltoallv(comm, std::span<const ExcludedItem>(send), std::span<const std::size_t>(send_counts));
  std::sort(received.begin(), received.end());
  return received;
}

// Offers scores[0 .. count) of items first_item.. to `selector`, skipping the excluded local rows that
// `cursor` .. `end` point at (sorted; those below first_item were consumed by earlier blocks).
void offer_block(TopKSelector& selector, const float* scores, std::size_t count,
                 std::uint64_t first_local_row, std::uint64_t first_global_item, const ExcludedItem*& cursor,
                 const ExcludedItem* end) {
  std::size_t position = 0;
  for (; cursor != end && cursor->local_item < first_local_row + count; ++cursor) {
    std::size_t excluded = cursor->local_item - first_local_row;
    if (excluded < position) continue;  // a duplicate in the list
    selector.offer_range(std::span<const float>(scores + position, excluded - position),
                         static_cast<ItemIndex>(first_global_item + position));
    position = excluded + 1;
  }
  selector.offer_range(std::span<const float>(scores + position, count - position),
                       static_cast<ItemIndex>(first_global_item + position));
}

constexpr std::uint64_t kQueryTile = 256;

RankedLists score_rounds(Context& ctx, const Eigen::Ref<const RowMatrix>& query_vectors,
                         std::span<const std::uint64_t> ids, const Eigen::Ref<const RowMatrix>& items,
                         std::uint64_t item_first_row, const ExclusionLists* exclusions,
                         const ScoringOptions& options) {
  comm::Communicator& comm = ctx.comm();
  const int me = comm.rank();
  const Eigen::Index dims = common_dimension(ctx, query_vectors, ids, items, exclusions);
  const std::size_t local_queries = static_cast<std::size_t>(query_vectors.rows());
  const std::size_t query_block = std::max<std::size_t>(1, options.query_block);
  const Eigen::Index item_block = static_cast<Eigen::Index>(std::max<std::size_t>(1, options.item_block));

  RowOwnership item_owners(comm, item_first_row, static_cast<std::uint64_t>(items.rows()));
  auto query_counts = comm::allgather_value<std::uint64_t>(comm, local_queries);
  auto query_prefix = exclusive_prefix(query_counts);
  const std::uint64_t total_queries = query_prefix.back();
  const std::uint64_t my_first = query_prefix[me];

  RankedLists result;
  result.offsets.reserve(local_queries + 1);
  result.entries.reserve(local_queries * options.k);
  if (dims < 0 || options.k == 0) {  // nothing to score anywhere, or nothing asked for
    for (std::size_t q = 0; q < local_queries; ++q) result.close_list();
    return result;
  }

  std::vector<TopKSelector> selectors;
  // Rows of the score tile: enough for an efficient matrix product, few enough for the tile to stay in cache.
  const Eigen::Index query_tile = static_cast<Eigen::Index>(
      std::min<std::uint64_t>({kQueryTile, query_block, std::max<std::uint64_t>(1, total_queries)}));
  RowMatrix scores(query_tile, item_block);
  for (std::uint64_t round_first = 0; round_first < total_queries; round_first += query_block) {
    const std::uint64_t round_end = std::min<std::uint64_t>(total_queries, round_first + query_block);
    // This rank's queries in the round: local rows [first, first + count).
    const std::uint64_t lo = std::max(round_first, my_first);
    const std::uint64_t hi = std::min(round_end, my_first + local_queries);
    const std::size_t first = lo < hi ? lo - my_first : 0;
    const std::size_t count = lo < hi ? hi - lo : 0;

    // 1. Every rank receives the round's queries, in rank order ("slots").
    RowMatrix mine =
        query_vectors.middleRows(static_cast<Eigen::Index>(first), static_cast<Eigen::Index>(count));
    std::vector<std::size_t> slot_counts;
    auto round_ids = comm::allgatherv(comm, ids.subspan(first, count), &slot_counts);
    auto round_vectors = comm::allgatherv(comm, std::span<const float>(mine.data(), mine.size()));
    std::vector<std::uint64_t> slot_prefix = exclusive_prefix(slot_counts);
    const std::size_t slots = round_ids.size();
    Eigen::Map<const RowMatrix> round_queries(round_vectors.data(), static_cast<Eigen::Index>(slots), dims);

    // 2. Excluded items go where the items are.
    auto excluded = route_exclusions(comm, item_owners, exclusions, first, count,
                                     slot_prefix[static_cast<std::size_t>(me)]);
    std::vector<const ExcludedItem*> cursor(slots + 1);
    for (std::size_t s = 0, e = 0; s <= slots; ++s) {
      while (e < excluded.size() && excluded[e].slot < s) ++e;
      cursor[s] = excluded.data() + e;
    }
    std::vector<const ExcludedItem*> cursor_end(cursor.begin() + 1, cursor.end());

    // 3. Score the round's queries against this rank's items, tile by tile: a tile of scores small enough
    //    to stay in cache between the matrix product that writes it and the selection that reads it.
    while (selectors.size() < slots) selectors.emplace_back(options.k, options.seed);
    for (std::size_t s = 0; s < slots; ++s) selectors[s].reset(round_ids[s]);
    for (Eigen::Index block_first = 0; block_first < items.rows(); block_first += item_block) {
      const Eigen::Index block_rows = std::min(item_block, items.rows() - block_first);
      const auto item_rows = items.middleRows(block_first, block_rows);
      for (Eigen::Index tile_first = 0; tile_first < static_cast<Eigen::Index>(slots);
           tile_first += query_tile) {
        const Eigen::Index tile_rows = std::min(query_tile, static_cast<Eigen::Index>(slots) - tile_first);
        scores.topLeftCorner(tile_rows, block_rows).noalias() =
            round_queries.middleRows(tile_first, tile_rows) * item_rows.transpose();
        for (Eigen::Index t = 0; t < tile_rows; ++t) {
          const std::size_t s = static_cast<std::size_t>(tile_first + t);
          offer_block(selectors[s], &scores(t, 0), static_cast<std::size_t>(block_rows),
                      static_cast<std::uint64_t>(block_first), item_first_row + block_first, cursor[s],
                      cursor_end[s]);
        }
      }
    }

    // 4. Each query's candidates return to its owner, which keeps the best K of them.
    merge_candidates_at_owners(comm, selectors, slot_prefix, ids.subspan(first, count), result);
  }
  return result;
}

}  // namespace

RowMatrix normalized_rows(const Eigen::Ref<const RowMatrix>& rows) {
  RowMatrix normalized = rows;
  for (Eigen::Index r = 0; r < normalized.rows(); ++r) {
    float norm = normalized.row(r).norm();
    if (norm > 0) normalized.row(r) /= norm;
  }
  return normalized;
}

RankedLists top_k_by_dot_product(Context& ctx, const QuerySet& queries, const FactorSlice& items,
                                 const ExclusionLists* exclusions, const ScoringOptions& options) {
  if (!options.cosine)
    return score_rounds(ctx, queries.vectors, queries.ids, items.rows, items.first_row, exclusions, options);
  RowMatrix query_rows = normalized_rows(queries.vectors);
  RowMatrix item_rows = normalized_rows(items.rows);
  return score_rounds(ctx, query_rows, queries.ids, item_rows, items.first_row, exclusions, options);
}

RankedLists similar_items(Context& ctx, const FactorSlice& items, std::span<const ItemIndex> query_items,
                          const ScoringOptions& options) {
  const std::uint64_t rows = static_cast<std::uint64_t>(items.rows.rows());
  std::string problem;
  for (ItemIndex item : query_items)
    if (item < items.first_row || item >= items.first_row + rows) {
      problem = fmt::format("similar_items: item {} is not in this rank's slice [{}, {})", item,
                            items.first_row, items.first_row + rows);
      break;
    }
  ctx.check_collectively(problem);

  RowMatrix item_rows = normalized_rows(items.rows);
  RowMatrix query_rows(static_cast<Eigen::Index>(query_items.size()), item_rows.cols());
  std::vector<std::uint64_t> ids(query_items.begin(), query_items.end());
  ExclusionLists itself;
  for (std::size_t q = 0; q < query_items.size(); ++q) {
    query_rows.row(static_cast<Eigen::Index>(q)) =
        item_rows.row(static_cast<Eigen::Index>(query_items[q] - items.first_row));
    itself.entries.push_back(query_items[q]);
    itself.close_list();
  }
  return score_rounds(ctx, query_rows, ids, item_rows, items.first_row, &itself, options);
}

}  // namespace tailflow::ops::knn
