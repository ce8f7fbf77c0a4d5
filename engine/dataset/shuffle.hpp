// The shuffle: every row goes to the rank that a destination function names, in one alltoallv.
//
// This is the only place where Dataset rows cross ranks. Trivially copyable rows are bucketed by a counting
// sort straight into one send buffer and travel as raw memory; other rows are encoded with their Codec into
// per-destination byte buffers. Received rows come in rank order (all rows from rank 0 first, then rank 1,
// ...), and within one sender in their original order.
#pragma once

#include <cstdint>
#include <memory>
#include <numeric>
#include <type_traits>
#include <vector>

#include "engine/comm/collectives.hpp"
#include "engine/serialization.hpp"
#include "engine/stage_metrics.hpp"

namespace tailflow {

struct ShuffleStats {
  std::uint64_t bytes_to_others = 0;  // bytes this rank sent to other ranks
  std::uint64_t bytes_total = 0;      // including the part it kept
  double seconds = 0;                 // bucketing + exchange + decoding
};

namespace detail {

// The shuffle, with destinations stored as `Rank` (one byte suffices for up to 256 ranks).
template <class Rank, class T, class DestFn>
std::vector<T> shuffle_rows_as(comm::Communicator& comm, const std::vector<T>& rows, DestFn& destination_of,
                               ShuffleStats* stats) {
  Stopwatch watch;
  const int ranks = comm.size();
  // The destination of each row, computed once (it may be a hash of a string).
  std::vector<Rank> destination(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) destination[i] = static_cast<Rank>(destination_of(rows[i]));

  if constexpr (std::is_trivially_copyable_v<T>) {
    std::vector<std::size_t> counts(ranks, 0);
    for (auto d : destination) ++counts[d];
    std::vector<std::size_t> next(ranks, 0);
    std::exclusive_scan(counts.begin(), counts.end(), next.begin(), std::size_t{0});
    // Default-initialised (not zeroed) storage: every slot is written below.
    std::unique_ptr<T[]> send(new T[rows.size()]);
    for (std::size_t i = 0; i < rows.size(); ++i) send[next[destination[i]]++] = rows[i];
    if (stats) {
      stats->bytes_total = rows.size() * sizeof(T);
      stats->bytes_to_others = (rows.size() - counts[comm.rank()]) * sizeof(T);
    }
    auto received = comm::alltoallv(comm, std::span<const T>(send.get(), rows.size()), counts);
    if (stats) stats->seconds = watch.seconds();
    return received;
  } else {
    std::vector<std::vector<std::byte>> buffers(ranks);
    std::vector<std::size_t> rows_to(ranks, 0);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      ByteWriter writer(buffers[destination[i]]);
      Codec<T>::write(writer, rows[i]);
      ++rows_to[destination[i]];
    }
    // Each block starts with its row count, so the receiver knows how many rows to decode.
    std::vector<std::byte> send;
    std::vector<std::size_t> send_bytes(ranks);
    for (int d = 0; d < ranks; ++d) {
      ByteWriter writer(send);
      writer.write_raw<std::uint64_t>(rows_to[d]);
      writer.write_bytes(buffers[d].data(), buffers[d].size());
      send_bytes[d] = sizeof(std::uint64_t) + buffers[d].size();
      std::vector<std::byte>().swap(buffers[d]);
    }
    if (stats) {
      stats->bytes_total = send.size();
      stats->bytes_to_others = send.size() - send_bytes[comm.rank()];
    }
    auto recv_bytes = comm.exchange_counts(send_bytes);
    std::vector<std::byte> received(std::accumulate(recv_bytes.begin(), recv_bytes.end(), std::size_t{0}));
    comm.alltoallv(send.data(), send_bytes, received.data(), recv_bytes);
    std::vector<T> result;
    ByteReader reader(received.data(), received.size());
    for (int s = 0; s < ranks; ++s) {
      auto count = reader.read_raw<std::uint64_t>();
      for (std::uint64_t i = 0; i < count; ++i) result.push_back(Codec<T>::read(reader));
    }
    if (stats) stats->seconds = watch.seconds();
    return result;
  }
}

}  // namespace detail

template <class T, class DestFn>
std::vector<T> shuffle_rows(comm::Communicator& comm, const std::vector<T>& rows, DestFn&& destination_of,
                            ShuffleStats* stats = nullptr) {
  // One byte per row instead of four: a quarter of the memory traffic of the destination array.
  if (comm.size() <= 256) return detail::shuffle_rows_as<std::uint8_t>(comm, rows, destination_of, stats);
  return detail::shuffle_rows_as<std::uint32_t>(comm, rows, destination_of, stats);
}

// Every rank's rows, concatenated in rank order, on every rank.
template <class T>
std::vector<T> allgather_rows(comm::Communicator& comm, const std::vector<T>& rows) {
  if constexpr (std::is_trivially_copyable_v<T>) {
    return comm::allgatherv(comm, std::span<const T>(rows));
  } else {
    std::vector<std::byte> mine;
    ByteWriter writer(mine);
    writer.write_raw<std::uint64_t>(rows.size());
    for (const auto& row : rows) Codec<T>::write(writer, row);
    std::vector<std::size_t> counts;
    auto all = comm::allgatherv(comm, std::span<const std::byte>(mine), &counts);
    std::vector<T> result;
    ByteReader reader(all.data(), all.size());
    for (int s = 0; s < comm.size(); ++s) {
      auto count = reader.read_raw<std::uint64_t>();
      for (std::uint64_t i = 0; i < count; ++i) result.push_back(Codec<T>::read(reader));
    }
    return result;
  }
}

}  // namespace tailflow
