// The communicator: the only door between ranks.
//
// Everything above the engine talks to other ranks through this small interface, never through MPI
// directly. Two backends implement it: MpiCommunicator (real processes) and ThreadCommunicator (ranks as
// threads of one process, so a single test binary can run an operator on 1, 2, 3 and 5 ranks).
//
// The virtual functions move raw bytes; typed helpers in collectives.hpp sit on top of them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/comm/shared_region.hpp"

namespace tailflow::comm {

// Element types that reductions understand. Byte-moving collectives do not need a type.
enum class ElementType { kInt32, kInt64, kUInt64, kFloat, kDouble };

enum class ReduceOp { kSum, kMin, kMax };

template <class T>
constexpr ElementType element_type_of();
template <>
constexpr ElementType element_type_of<std::int32_t>() {
  return ElementType::kInt32;
}
template <>
constexpr ElementType element_type_of<std::int64_t>() {
  return ElementType::kInt64;
}
template <>
constexpr ElementType element_type_of<std::uint64_t>() {
  return ElementType::kUInt64;
}
template <>
constexpr ElementType element_type_of<float>() {
  return ElementType::kFloat;
}
template <>
constexpr ElementType element_type_of<double>() {
  return ElementType::kDouble;
}

std::size_t element_size(ElementType type);

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "mpi" or "threads": shown in logs and benchmark JSON.
  virtual std::string backend_name() const = 0;

  virtual void barrier() = 0;

  // Copies `bytes` from the root's buffer into every other rank's buffer (all pass the same length).
  virtual void broadcast(void* data, std::size_t bytes, int root) = 0;

  // Element-wise reduction of `count` elements; every rank ends with the result in `data`.
  virtual void allreduce(void* data, std::size_t count, ElementType type, ReduceOp op) = 0;

  // Every rank sends `send_bytes[r]` bytes to rank r: send_bytes.size() == size(), the blocks lie one after
  // the other in `send`. Returns the bytes each rank will receive from every other rank.
  virtual std::vector<std::size_t> exchange_counts(std::span<const std::size_t> send_bytes) = 0;

  // Personalised all-to-all. `recv_bytes` must come from exchange_counts(send_bytes); `recv` must hold their
  // sum. Blocks from rank 0, 1, ... arrive one after the other.
  virtual void alltoallv(const void* send, std::span<const std::size_t> send_bytes, void* recv,
                         std::span<const std::size_t> recv_bytes) = 0;

  // Concatenation of every rank's bytes, in rank order, on every rank. `recv_bytes[r]` is what rank r sends
  // (known beforehand, e.g. from an allgather of sizes); `recv` holds their sum.
  virtual void allgatherv(const void* send, std::size_t send_bytes, void* recv,
                          std::span<const std::size_t> recv_bytes) = 0;

  // Whether all ranks can map the same memory (they run on one node): allocate_shared works only then.
  virtual bool can_share_memory() const = 0;
  // Collective: a region of Σ_r bytes_r bytes that every rank reads and writes, this rank contributing
  // `bytes` (a multiple of 64, so that every part starts 64-byte aligned). Throws where !can_share_memory().
  virtual std::unique_ptr<SharedRegion> allocate_shared(std::size_t bytes) = 0;
};

}  // namespace tailflow::comm
