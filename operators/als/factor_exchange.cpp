#include "operators/als/factor_exchange.hpp"

#include <cstring>
#include <stdexcept>

#include "engine/comm/collectives.hpp"

namespace tailflow::ops::als {

FactorExchange::FactorExchange(Context& ctx, const RowRanges& source_ranges, const CsrBlock& block,
                               int stride, ExchangeMode requested, comm::SharedRegion* shared)
    : ranges_(source_ranges), stride_(stride), shared_(shared) {
  if ((requested == ExchangeMode::kShared) != (shared != nullptr))
    throw std::logic_error(
        "FactorExchange: a shared region goes with ExchangeMode::kShared, and only with it");
  const int rank = ctx.rank();
  const std::uint64_t row_bytes = static_cast<std::uint64_t>(stride) * sizeof(float);
  // The referenced rows that live on other ranks, ascending (hence grouped by owner).
  std::vector<bool> referenced(source_ranges.total(), false);
  for (std::uint32_t col : block.cols) referenced[col] = true;
  std::vector<std::uint32_t> needed_remote;
  for (std::uint32_t row = 0; row < source_ranges.total(); ++row)
    if (referenced[row] && (row < source_ranges.begin(rank) || row >= source_ranges.end(rank)))
      needed_remote.push_back(row);

  targeted_bytes_ = comm::allreduce_sum<std::uint64_t>(ctx.comm(), needed_remote.size()) * row_bytes;
  broadcast_bytes_ = static_cast<std::uint64_t>(ctx.size() - 1) * source_ranges.total() * row_bytes;
  mode_ = requested;
  if (mode_ == ExchangeMode::kAuto)
    mode_ = targeted_bytes_ < broadcast_bytes_ ? ExchangeMode::kTargeted : ExchangeMode::kBroadcast;
  if (mode_ == ExchangeMode::kTargeted) plan_targeted(ctx, needed_remote);
}

void FactorExchange::plan_targeted(Context& ctx, const std::vector<std::uint32_t>& needed_remote) {
  const int ranks = ctx.size();
  const std::size_t row_bytes = stride_ * sizeof(float);
  std::vector<std::size_t> request_counts(ranks, 0);
  for (std::uint32_t row : needed_remote) ++request_counts[ranges_.owner(row)];
  std::vector<std::size_t> requested_counts;
  send_rows_ = comm::alltoallv(ctx.comm(), std::span<const std::uint32_t>(needed_remote),
                               std::span<const std::size_t>(request_counts), &requested_counts);
  for (std::uint32_t& row : send_rows_) row -= ranges_.begin(ctx.rank());  // to local row numbers
  receive_rows_ = needed_remote;
  send_bytes_.resize(ranks);
  receive_bytes_.resize(ranks);
  for (int r = 0; r < ranks; ++r) {
    send_bytes_[r] = requested_counts[r] * row_bytes;
    receive_bytes_[r] = request_counts[r] * row_bytes;
  }
  send_buffer_.resize(send_rows_.size() * stride_);
  receive_buffer_.resize(receive_rows_.size() * stride_);
}

void FactorExchange::run(Context& ctx, const FactorMatrix& owned, FactorMatrix& full) {
  auto& comm = ctx.comm();
  const int rank = ctx.rank();
  const std::size_t row_bytes = stride_ * sizeof(float);
  if (mode_ == ExchangeMode::kShared) {
    shared_->synchronize();
    return;
  }
  if (mode_ == ExchangeMode::kBroadcast) {
    // Ranges are contiguous and in rank order, so rank r's rows land exactly at their place in `full`.
    std::vector<std::size_t> bytes(comm.size());
    for (int r = 0; r < comm.size(); ++r) bytes[r] = ranges_.count(r) * row_bytes;
    comm.allgatherv(owned.data(), bytes[rank], full.data(), bytes);
    return;
  }
  for (std::size_t i = 0; i < send_rows_.size(); ++i)
    std::memcpy(send_buffer_.data() + i * stride_, owned.row(send_rows_[i]), row_bytes);
  comm.alltoallv(send_buffer_.data(), send_bytes_, receive_buffer_.data(), receive_bytes_);
  for (std::size_t i = 0; i < receive_rows_.size(); ++i)
    std::memcpy(full.row(receive_rows_[i]), receive_buffer_.data() + i * stride_, row_bytes);
  if (owned.rows() > 0) std::memcpy(full.row(ranges_.begin(rank)), owned.data(), owned.rows() * row_bytes);
}

}  // namespace tailflow::ops::als
