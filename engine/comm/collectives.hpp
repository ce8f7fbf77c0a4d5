// Typed collectives on top of the byte-level Communicator.
//
// Element counts (not bytes) in and out; results are returned by value. All functions are collective: every
// rank must call them in the same order with compatible arguments. Gather and scatter are derived from
// alltoallv (only the root receives, or only the root sends), so backends implement fewer primitives.
#pragma once

#include <cstring>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/comm/communicator.hpp"

namespace tailflow::comm {

template <class T>
concept Trivial = std::is_trivially_copyable_v<T>;

namespace detail {
inline std::vector<std::size_t> to_bytes(std::span<const std::size_t> counts, std::size_t element_bytes) {
  std::vector<std::size_t> bytes(counts.size());
  for (std::size_t i = 0; i < counts.size(); ++i) bytes[i] = counts[i] * element_bytes;
  return bytes;
}
inline std::vector<std::size_t> to_counts(std::span<const std::size_t> bytes, std::size_t element_bytes) {
  std::vector<std::size_t> counts(bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) counts[i] = bytes[i] / element_bytes;
  return counts;
}
}  // namespace detail

template <Trivial T>
void broadcast(Communicator& comm, std::span<T> data, int root) {
  comm.broadcast(data.data(), data.size_bytes(), root);
}

template <Trivial T>
T broadcast_value(Communicator& comm, T value, int root) {
  comm.broadcast(&value, sizeof(T), root);
  return value;
}

// Resizes `data` on every rank to the root's size, then copies the root's contents.
template <Trivial T>
void broadcast_vector(Communicator& comm, std::vector<T>& data, int root) {
  std::uint64_t n = broadcast_value<std::uint64_t>(comm, data.size(), root);
  data.resize(n);
  comm.broadcast(data.data(), n * sizeof(T), root);
}

inline std::string broadcast_string(Communicator& comm, const std::string& text, int root) {
  std::vector<char> buffer(text.begin(), text.end());
  broadcast_vector(comm, buffer, root);
  return std::string(buffer.begin(), buffer.end());
}

template <class T>
void allreduce(Communicator& comm, std::span<T> data, ReduceOp op) {
  comm.allreduce(data.data(), data.size(), element_type_of<T>(), op);
}

template <class T>
T allreduce_value(Communicator& comm, T value, ReduceOp op) {
  comm.allreduce(&value, 1, element_type_of<T>(), op);
  return value;
}

template <class T>
T allreduce_sum(Communicator& comm, T value) {
  return allreduce_value(comm, value, ReduceOp::kSum);
}

template <class T>
T allreduce_max(Communicator& comm, T value) {
  return allreduce_value(comm, value, ReduceOp::kMax);
}

template <class T>
T allreduce_min(Communicator& comm, T value) {
  return allreduce_value(comm, value, ReduceOp::kMin);
}

// Concatenates every rank's elements in rank order; `counts`, if given, receives each rank's count.
template <Trivial T>
std::vector<T> allgatherv(Communicator& comm, std::span<const T> send,
                          std::vector<std::size_t>* counts = nullptr) {
  std::vector<std::size_t> sizes(comm.size());
  std::size_t mine = send.size() * sizeof(T);
  comm.allgatherv(&mine, sizeof(mine), sizes.data(), std::vector<std::size_t>(comm.size(), sizeof(mine)));
  std::vector<T> result(std::accumulate(sizes.begin(), sizes.end(), std::size_t{0}) / sizeof(T));
  comm.allgatherv(send.data(), mine, result.data(), sizes);
  if (counts) *counts = detail::to_counts(sizes, sizeof(T));
  return result;
}

// One value per rank, in rank order.
template <Trivial T>
std::vector<T> allgather_value(Communicator& comm, const T& value) {
  std::vector<T> result(comm.size());
  comm.allgatherv(&value, sizeof(T), result.data(), std::vector<std::size_t>(comm.size(), sizeof(T)));
  return result;
}

// Sum of `value` over ranks below this one (0 on rank 0).
template <class T>
T exclusive_prefix_sum(Communicator& comm, T value) {
  auto all = allgather_value(comm, value);
  T sum{};
  for (int r = 0; r < comm.rank(); ++r) sum += all[r];
  return sum;
}

// send_counts[r] elements go to rank r (consecutive blocks of `send`). Returns the received elements, in
// rank order; `recv_counts`, if given, receives the count from each rank.
template <Trivial T>
std::vector<T> alltoallv(Communicator& comm, std::span<const T> send,
                         std::span<const std::size_t> send_counts,
                         std::vector<std::size_t>* recv_counts = nullptr) {
  if (send_counts.size() != static_cast<std::size_t>(comm.size()))
    throw std::invalid_argument("alltoallv: send_counts must have one entry per rank");
  auto send_bytes = detail::to_bytes(send_counts, sizeof(T));
  auto recv_bytes = comm.exchange_counts(send_bytes);
  std::vector<T> result(std::accumulate(recv_bytes.begin(), recv_bytes.end(), std::size_t{0}) / sizeof(T));
  comm.alltoallv(send.data(), send_bytes, result.data(), recv_bytes);
  if (recv_counts) *recv_counts = detail::to_counts(recv_bytes, sizeof(T));
  return result;
}

// Every rank's elements, concatenated in rank order, on the root only (empty elsewhere).
template <Trivial T>
std::vector<T> gatherv(Communicator& comm, std::span<const T> send, int root,
                       std::vector<std::size_t>* counts = nullptr) {
  std::vector<std::size_t> send_counts(comm.size(), 0);
  send_counts[root] = send.size();
  return alltoallv(comm, send, std::span<const std::size_t>(send_counts), counts);
}

// The root sends counts[r] consecutive elements of `send` to rank r; other ranks pass empty spans.
template <Trivial T>
std::vector<T> scatterv(Communicator& comm, std::span<const T> send, std::span<const std::size_t> counts,
                        int root) {
  std::vector<std::size_t> send_counts(comm.size(), 0);
  if (comm.rank() == root) {
    if (counts.size() != static_cast<std::size_t>(comm.size()))
      throw std::invalid_argument("scatterv: the root must give one count per rank");
    send_counts.assign(counts.begin(), counts.end());
  }
  return alltoallv(comm, send, std::span<const std::size_t>(send_counts));
}

}  // namespace tailflow::comm
