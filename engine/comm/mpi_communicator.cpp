#include "engine/comm/mpi_communicator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <numeric>
#include <stdexcept>

namespace tailflow::comm {
namespace {

void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw std::runtime_error(fmt::format("{} failed: {}", call, std::string(text, length)));
}

MPI_Datatype mpi_type(ElementType type) {
  switch (type) {
    case ElementType::kInt32:
      return MPI_INT32_T;
    case ElementType::kInt64:
      return MPI_INT64_T;
    case ElementType::kUInt64:
      return MPI_UINT64_T;
    case ElementType::kFloat:
      return MPI_FLOAT;
    case ElementType::kDouble:
      return MPI_DOUBLE;
  }
  throw std::logic_error("unknown ElementType");
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return MPI_SUM;
    case ReduceOp::kMin:
      return MPI_MIN;
    case ReduceOp::kMax:
      return MPI_MAX;
  }
  throw std::logic_error("unknown ReduceOp");
}

// MPI counts and displacements are ints; returns false where a value does not fit.
bool to_int_layout(std::span<const std::size_t> bytes, std::vector<int>& counts, std::vector<int>& displs) {
  counts.resize(bytes.size());
  displs.resize(bytes.size());
  std::size_t offset = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] > INT_MAX || offset > INT_MAX) return false;
    counts[i] = static_cast<int>(bytes[i]);
    displs[i] = static_cast<int>(offset);
    offset += bytes[i];
  }
  return true;
}

// Largest message sent in one piece when a collective exceeds MPI's int counts.
constexpr std::size_t kChunkBytes = std::size_t{1} << 30;

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm) {
  check(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (comm_ != MPI_COMM_NULL && !finalized) MPI_Comm_free(&comm_);
}

void MpiCommunicator::barrier() {
  check(MPI_Barrier(comm_), "MPI_Barrier");
}

void MpiCommunicator::broadcast(void* data, std::size_t bytes, int root) {
  auto* cursor = static_cast<char*>(data);
  while (bytes > 0) {
    std::size_t piece = std::min(bytes, kChunkBytes);
    check(MPI_Bcast(cursor, static_cast<int>(piece), MPI_BYTE, root, comm_), "MPI_Bcast");
    cursor += piece;
    bytes -= piece;
  }
}

void MpiCommunicator::allreduce(void* data, std::size_t count, ElementType type, ReduceOp op) {
  auto* cursor = static_cast<char*>(data);
  std::size_t per_piece = kChunkBytes / element_size(type);
  while (count > 0) {
    std::size_t piece = std::min(count, per_piece);
    check(MPI_Allreduce(MPI_IN_PLACE, cursor, static_cast<int>(piece), mpi_type(type), mpi_op(op), comm_),
          "MPI_Allreduce");
    cursor += piece * element_size(type);
    count -= piece;
  }
}

std::vector<std::size_t> MpiCommunicator::exchange_counts(std::span<const std::size_t> send_bytes) {
  std::vector<std::uint64_t> send(send_bytes.begin(), send_bytes.end());
  std::vector<std::uint64_t> recv(size_);
  check(MPI_Alltoall(send.data(), 1, MPI_UINT64_T, recv.data(), 1, MPI_UINT64_T, comm_), "MPI_Alltoall");
  return std::vector<std::size_t>(recv.begin(), recv.end());
}

void MpiCommunicator::alltoallv(const void* send, std::span<const std::size_t> send_bytes, void* recv,
                                std::span<const std::size_t> recv_bytes) {
  std::vector<int> send_counts, send_displs, recv_counts, recv_displs;
  bool fits = to_int_layout(send_bytes, send_counts, send_displs) &&
              to_int_layout(recv_bytes, recv_counts, recv_displs);
  // Every rank must take the same path, so agree on it first.
  int all_fit = fits ? 1 : 0;
  check(MPI_Allreduce(MPI_IN_PLACE, &all_fit, 1, MPI_INT, MPI_MIN, comm_), "MPI_Allreduce");
  if (all_fit) {
    check(MPI_Alltoallv(send, send_counts.data(), send_displs.data(), MPI_BYTE, recv, recv_counts.data(),
                        recv_displs.data(), MPI_BYTE, comm_),
          "MPI_Alltoallv");
    return;
  }
  // Past 2 GiB per rank: point-to-point messages in chunks of kChunkBytes.
  std::vector<MPI_Request> requests;
  auto post = [&](bool sending, const std::byte* base, std::span<const std::size_t> sizes) {
    std::size_t offset = 0;
    for (int peer = 0; peer < size_; ++peer) {
      for (std::size_t done = 0; done < sizes[peer]; done += kChunkBytes) {
        int piece = static_cast<int>(std::min(kChunkBytes, sizes[peer] - done));
        MPI_Request request;
        auto* at = const_cast<std::byte*>(base + offset + done);
        if (sending)
          check(MPI_Isend(at, piece, MPI_BYTE, peer, 0, comm_, &request), "MPI_Isend");
        else
          check(MPI_Irecv(at, piece, MPI_BYTE, peer, 0, comm_, &request), "MPI_Irecv");
        requests.push_back(request);
      }
      offset += sizes[peer];
    }
  };
  post(false, static_cast<const std::byte*>(recv), recv_bytes);
  post(true, static_cast<const std::byte*>(send), send_bytes);
  check(MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
}

void MpiCommunicator::allgatherv(const void* send, std::size_t send_bytes, void* recv,
                                 std::span<const std::size_t> recv_bytes) {
  std::vector<int> counts, displs;
  if (send_bytes > INT_MAX || !to_int_layout(recv_bytes, counts, displs))
    throw std::runtime_error(
        fmt::format("allgatherv of {} bytes exceeds MPI's 2 GiB limit; gather less data (or use more ranks)",
                    std::accumulate(recv_bytes.begin(), recv_bytes.end(), std::size_t{0})));
  check(MPI_Allgatherv(send, static_cast<int>(send_bytes), MPI_BYTE, recv, counts.data(), displs.data(),
                       MPI_BYTE, comm_),
        "MPI_Allgatherv");
}

}  // namespace tailflow::comm
