#include "operators/als/block_layout.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <utility>

#include "engine/comm/collectives.hpp"
#include "engine/stage_metrics.hpp"
#include "operators/als/packed_interactions.hpp"

namespace tailflow::ops::als {
namespace {

// One cell on its way to the owner of its row.
struct Cell {
  std::uint32_t row = 0;  // internal index on the side being built
  std::uint32_t col = 0;  // internal index on the other side
  float value = 0;
};

std::vector<std::uint32_t> allreduce_counts(Context& ctx, std::vector<std::uint64_t>& local) {
  comm::allreduce(ctx.comm(), std::span<std::uint64_t>(local), comm::ReduceOp::kSum);
  std::vector<std::uint32_t> counts(local.size());
  for (std::size_t i = 0; i < local.size(); ++i) counts[i] = static_cast<std::uint32_t>(local[i]);
  return counts;
}

// Global interaction counts by original index; every rank checks its own rows first.
void count_degrees(Context& ctx, std::uint32_t users, std::uint32_t items,
                   const std::vector<Interaction>& interactions, std::vector<std::uint32_t>& user_degrees,
                   std::vector<std::uint32_t>& item_degrees) {
  std::vector<std::uint64_t> user_counts(users, 0);
  std::vector<std::uint64_t> item_counts(items, 0);
  std::string error;
  for (std::size_t i = 0; i < interactions.size(); ++i) {
    const Interaction& x = interactions[i];
    if (x.user >= users || x.item >= items) {
      error = fmt::format("ALS input row {} on rank {}: user {} / item {} outside the {} users × {} items", i,
                          ctx.rank(), x.user, x.item, users, items);
      break;
    }
    ++user_counts[x.user];
    ++item_counts[x.item];
  }
  ctx.check_collectively(error);
  user_degrees = allreduce_counts(ctx, user_counts);
  item_degrees = allreduce_counts(ctx, item_counts);
}

// A block with room for `degrees` (internal order) of this rank's rows; `cursor` points at each row's
// next free slot.
CsrBlock allocate_block(const RowRanges& ranges, int rank, const std::vector<std::uint32_t>& degrees,
                        std::vector<std::uint64_t>& cursor) {
  CsrBlock block;
  block.first_row = ranges.begin(rank);
  block.row_ptr.assign(ranges.count(rank) + 1, 0);
  for (std::uint32_t r = 0; r < ranges.count(rank); ++r)
    block.row_ptr[r + 1] = block.row_ptr[r] + degrees[block.first_row + r];
  block.cols.resize(block.row_ptr.back());
  block.values.resize(block.row_ptr.back());
  cursor.assign(block.row_ptr.begin(), block.row_ptr.end() - 1);
  return block;
}

// Sends every local cell to the owner of its row, in rounds of bounded size, and files it into `block`.
// `produce(begin, end, out)` appends the cells of local positions [begin, end); calls come in order.
template <class Produce>
std::uint64_t scatter_to_owners(Context& ctx, std::size_t local_cells, Produce&& produce,
                                const RowRanges& ranges, CsrBlock& block, std::vector<std::uint64_t>& cursor,
                                std::size_t rows_per_round) {
  auto& comm = ctx.comm();
  const int ranks = comm.size();
  const std::uint64_t my_rounds = (local_cells + rows_per_round - 1) / rows_per_round;
  const std::uint64_t rounds = comm::allreduce_max(comm, my_rounds);
  std::uint64_t bytes_sent = 0;
  std::vector<Cell> cells;
  std::vector<Cell> send;
  std::vector<std::size_t> counts(ranks);
  std::vector<std::size_t> offsets(ranks);
  for (std::uint64_t round = 0; round < rounds; ++round) {
    std::size_t begin = std::min(local_cells, round * rows_per_round);
    std::size_t end = std::min(local_cells, begin + rows_per_round);
    cells.clear();
    produce(begin, end, cells);
    std::fill(counts.begin(), counts.end(), 0);
    for (const Cell& c : cells) ++counts[ranges.owner(c.row)];
    std::exclusive_scan(counts.begin(), counts.end(), offsets.begin(), std::size_t{0});
    send.resize(cells.size());
    for (const Cell& c : cells) send[offsets[ranges.owner(c.row)]++] = c;
    bytes_sent += (cells.size() - counts[comm.rank()]) * sizeof(Cell);
    std::vector<Cell> received =
        comm::alltoallv(comm, std::span<const Cell>(send), std::span<const std::size_t>(counts));
    for (const Cell& c : received) {
      std::uint64_t slot = cursor[c.row - block.first_row]++;
      block.cols[slot] = c.col;
      block.values[slot] = c.value;
    }
  }
  return bytes_sent;
}

// Sorts each row by column (then value), so that sums over a row run in an order that does not depend on
// how the input was spread over ranks; optionally sums repeated columns into one cell.
void sort_rows(CsrBlock& block, bool merge_duplicates) {
  std::vector<std::pair<std::uint32_t, float>> row;
  std::uint64_t write = 0;
  for (std::size_t r = 0; r < block.rows(); ++r) {
    std::uint64_t begin = block.row_ptr[r];
    std::uint64_t end = block.row_ptr[r + 1];
    row.clear();
    for (std::uint64_t i = begin; i < end; ++i) row.emplace_back(block.cols[i], block.values[i]);
    std::sort(row.begin(), row.end());
    block.row_ptr[r] = write;
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (merge_duplicates && i > 0 && row[i].first == row[i - 1].first) {
        block.values[write - 1] += row[i].second;
        continue;
      }
      block.cols[write] = row[i].first;
      block.values[write] = row[i].second;
      ++write;
    }
  }
  block.row_ptr[block.rows()] = write;
  block.cols.resize(write);
  block.values.resize(write);
}

}  // namespace

BlockLayout build_block_layout(Context& ctx, std::uint32_t users, std::uint32_t items,
                               std::vector<Interaction> interactions, const LayoutOptions& options) {
  Stopwatch watch;
  const int rank = ctx.rank();
  const int ranks = ctx.size();
  BlockLayout layout;
  layout.users = users;
  layout.items = items;

  std::vector<std::uint32_t> user_degrees;
  std::vector<std::uint32_t> item_degrees;
  count_degrees(ctx, users, items, interactions, user_degrees, item_degrees);
  layout.user_labels = DegreeRelabeling::by_descending_degree(user_degrees);
  layout.item_labels = DegreeRelabeling::by_descending_degree(item_degrees);
  std::vector<std::uint32_t> internal_user_degrees(users);
  for (std::uint32_t u = 0; u < users; ++u)
    internal_user_degrees[u] = user_degrees[layout.user_labels.to_external[u]];
  layout.user_ranges = RowRanges::balanced_by_cost(internal_user_degrees, ranks, options.row_cost);
  std::vector<std::uint32_t> internal_item_degrees(items);
  for (std::uint32_t i = 0; i < items; ++i)
    internal_item_degrees[i] = item_degrees[layout.item_labels.to_external[i]];
  layout.item_ranges = RowRanges::balanced_by_cost(internal_item_degrees, ranks, options.row_cost);
  const std::uint64_t input_rows = interactions.size();

  // Round 1: input -> owners of the users.
  std::uint64_t bytes_sent = 0;
  {
    PackedInteractions packed(std::move(interactions), layout.user_labels, layout.item_labels);
    std::vector<std::uint64_t> cursor;
    layout.user_block = allocate_block(layout.user_ranges, rank, internal_user_degrees, cursor);
    auto produce = [&](std::size_t begin, std::size_t end, std::vector<Cell>& out) {
      for (std::size_t i = begin; i < end; ++i) {
        PackedInteraction p = packed[i];
        out.push_back({p.user, p.item, p.value});
      }
    };
    bytes_sent += scatter_to_owners(ctx, packed.size(), produce, layout.user_ranges, layout.user_block,
                                    cursor, options.rows_per_round);
  }
  sort_rows(layout.user_block, options.merge_duplicates);

  // Item degrees again, after merging, so that the item blocks are allocated to their exact size.
  std::vector<std::uint64_t> merged_item_counts(items, 0);
  for (std::uint32_t col : layout.user_block.cols) ++merged_item_counts[col];
  internal_item_degrees = allreduce_counts(ctx, merged_item_counts);

  // Round 2: user blocks -> owners of the items.
  {
    std::vector<std::uint64_t> cursor;
    layout.item_block = allocate_block(layout.item_ranges, rank, internal_item_degrees, cursor);
    const CsrBlock& source = layout.user_block;
    std::size_t row = 0;
    auto produce = [&](std::size_t begin, std::size_t end, std::vector<Cell>& out) {
      for (std::size_t i = begin; i < end; ++i) {
        while (source.row_ptr[row + 1] <= i) ++row;
        out.push_back({source.cols[i], source.first_row + static_cast<std::uint32_t>(row), source.values[i]});
      }
    };
    bytes_sent += scatter_to_owners(ctx, source.nnz(), produce, layout.item_ranges, layout.item_block, cursor,
                                    options.rows_per_round);
  }
  sort_rows(layout.item_block, false);
  layout.total_nnz = comm::allreduce_sum<std::uint64_t>(ctx.comm(), layout.user_block.nnz());

  ctx.metrics().record(Stage{"als layout", input_rows, layout.user_block.nnz() + layout.item_block.nnz(),
                             bytes_sent, watch.seconds()});
  return layout;
}

}  // namespace tailflow::ops::als
