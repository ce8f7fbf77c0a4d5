// The shuffle: every row goes to the rank that a destination function names, in one alltoallv.
//
// This is the only place where Dataset rows cross ranks. Trivially copyable rows are bucketed by a counting
// sort straight into one send buffer and travel as raw memory; other rows are encoded with their Codec into
// per-destination byte buffers. Received rows come in rank order (all rows from rank 0 first, then rank 1,
// ...), and within one sender in their original order.
//
// exchange_buckets is the shuffle for rows that are already grouped by destination (reduce_by_key's
// map-side combine writes them so): it is the exchange alone — the block for this rank stays where it is,
// the blocks for other ranks go into one receive buffer that is never zero-filled, sent straight from their
// bucket when there is one such block (two ranks) and copied together first when there are several.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <span>
#include <type_traits>
#include <vector>

#include "engine/comm/collectives.hpp"
#include "engine/serialization.hpp"
#include "engine/stage_metrics.hpp"

namespace tailflow {

struct ShuffleStats {
  std::uint64_t bytes_to_others = 0;  // bytes this rank sent to other ranks
  std::uint64_t bytes_total = 0;      // including the part it kept
  // shuffle_rows: destinations + bucketing + exchange + decoding; exchange_buckets: the exchange alone.
  double seconds = 0;
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

// Asks the kernel for 2 MiB pages under a large fresh buffer: receiving into it then takes a few page
// faults instead of one per 4 KiB, a large part of the cost of fresh memory on virtual machines. A hint.
inline void advise_huge_pages(void* data, std::size_t bytes) {
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  auto first = (reinterpret_cast<std::uintptr_t>(data) + kHuge - 1) / kHuge * kHuge;
  auto last = (reinterpret_cast<std::uintptr_t>(data) + bytes) / kHuge * kHuge;
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
}

}  // namespace detail

// What exchange_buckets delivers: the rows each rank sent here, in rank order.
template <class T>
struct ReceivedRows {
  std::unique_ptr<T[]> storage;          // the rows from other ranks, back to back
  std::vector<std::span<const T>> from;  // from[s]: rank s's rows; from[rank()] views the local bucket
};

// Collective: buckets[d] goes to rank d (buckets.size() == comm.size()). The local bucket is not copied,
// so `buckets` must outlive the result.
template <class T>
ReceivedRows<T> exchange_buckets(comm::Communicator& comm, const std::vector<std::vector<T>>& buckets,
                                 ShuffleStats* stats = nullptr) {
  static_assert(std::is_trivially_copyable_v<T>, "exchange_buckets moves rows as raw memory");
  Stopwatch watch;
  const int ranks = comm.size();
  const int self = comm.rank();
  std::vector<std::size_t> send_bytes(ranks, 0);
  std::uint64_t bytes_total = 0;
  int remote_blocks = 0;
  const T* send = nullptr;
  for (int d = 0; d < ranks; ++d) {
    bytes_total += buckets[d].size() * sizeof(T);
    if (d == self || buckets[d].empty()) continue;
    send_bytes[d] = buckets[d].size() * sizeof(T);
    send = buckets[d].data();
    ++remote_blocks;
  }
  // alltoallv wants the outgoing blocks one after the other. A single one (always so on two ranks) is sent
  // from its bucket; several are first copied together.
  std::unique_ptr<T[]> packed;
  if (remote_blocks > 1) {
    packed = std::make_unique_for_overwrite<T[]>(
        std::accumulate(send_bytes.begin(), send_bytes.end(), std::size_t{0}) / sizeof(T));
    T* at = packed.get();
    for (int d = 0; d < ranks; ++d)
      if (send_bytes[d] > 0) at = std::copy(buckets[d].begin(), buckets[d].end(), at);
    send = packed.get();
  }
  auto recv_bytes = comm.exchange_counts(send_bytes);
  const std::size_t received_rows =
      std::accumulate(recv_bytes.begin(), recv_bytes.end(), std::size_t{0}) / sizeof(T);
  ReceivedRows<T> received;
  // Default-initialised (not zeroed): the exchange writes every row.
  received.storage = std::make_unique_for_overwrite<T[]>(received_rows);
  detail::advise_huge_pages(received.storage.get(), received_rows * sizeof(T));
  comm.alltoallv(send, send_bytes, received.storage.get(), recv_bytes);
  const T* at = received.storage.get();
  for (int s = 0; s < ranks; ++s) {
    if (s == self) {
      received.from.emplace_back(buckets[s]);
    } else {
      received.from.emplace_back(at, recv_bytes[s] / sizeof(T));
      at += recv_bytes[s] / sizeof(T);
    }
  }
  if (stats) {
    stats->bytes_total = bytes_total;
    stats->bytes_to_others = bytes_total - buckets[self].size() * sizeof(T);
    stats->seconds = watch.seconds();
  }
  return received;
}

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
