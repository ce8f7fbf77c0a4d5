// Moving the fixed side's factors to the ranks whose block needs them, before each half-step.
//
// Broadcast: one allgatherv; every rank receives every row it does not own. Simple, and cheapest when
// blocks reference most rows anyway (dense data, few ranks).
// Targeted: every rank asks the owners, once, for exactly the rows its block references (Spark's
// out-blocks); each half-step is then one alltoallv of those rows. Cheapest when blocks are sparse.
// Both fill the same full-size buffer (all rows of the fixed side, indexed by internal row number), in
// which the targeted mode leaves unreferenced rows stale — the solver never reads them.
// Shared: ranks on one node keep the fixed side in one node-shared region (comm::SharedRegion) in which
// each rank's own rows are its owned matrix; nothing moves, and run() only synchronises the region.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/context.hpp"
#include "operators/als/als_options.hpp"
#include "operators/als/csr_block.hpp"
#include "operators/als/factor_matrix.hpp"
#include "operators/als/row_ranges.hpp"

namespace tailflow::ops::als {

class FactorExchange {
 public:
  // Collective. `source_ranges`: who owns which rows of the fixed side; `block`: this rank's rows of the
  // side being solved (its columns are the fixed-side rows it reads); `stride`: floats per factor row.
  // `shared`: the fixed side's node-shared region, required for (and only used by) ExchangeMode::kShared.
  // kAuto chooses between broadcast and targeted here; sharing is the caller's choice, as it decides where
  // the factors live.
  FactorExchange(Context& ctx, const RowRanges& source_ranges, const CsrBlock& block, int stride,
                 ExchangeMode requested, comm::SharedRegion* shared = nullptr);

  ExchangeMode mode() const { return mode_; }
  // Bytes that one run() moves between ranks, summed over all ranks, for either mode.
  std::uint64_t broadcast_bytes() const { return broadcast_bytes_; }
  std::uint64_t targeted_bytes() const { return targeted_bytes_; }
  std::uint64_t bytes_per_run() const {
    if (mode_ == ExchangeMode::kShared) return 0;
    return mode_ == ExchangeMode::kTargeted ? targeted_bytes_ : broadcast_bytes_;
  }

  // Collective: copies `owned` (this rank's rows of the fixed side) and the needed rows of every other
  // rank into `full` (all rows × stride). Shared: both already are views of the region; synchronises it.
  void run(Context& ctx, const FactorMatrix& owned, FactorMatrix& full);

 private:
  void plan_targeted(Context& ctx, const std::vector<std::uint32_t>& needed_remote);

  const RowRanges& ranges_;
  int stride_;
  comm::SharedRegion* shared_ = nullptr;
  ExchangeMode mode_ = ExchangeMode::kBroadcast;
  std::uint64_t broadcast_bytes_ = 0;
  std::uint64_t targeted_bytes_ = 0;
  // Targeted plan: the local rows to send, grouped by destination rank; the rows to receive, grouped by
  // source rank (ascending, as the ranges are); byte counts for alltoallv.
  std::vector<std::uint32_t> send_rows_;
  std::vector<std::uint32_t> receive_rows_;
  std::vector<std::size_t> send_bytes_;
  std::vector<std::size_t> receive_bytes_;
  std::vector<float> send_buffer_;
  std::vector<float> receive_buffer_;
};

}  // namespace tailflow::ops::als
