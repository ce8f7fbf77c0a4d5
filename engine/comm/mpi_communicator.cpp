#include "engine/comm/mpi_communicator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <exception>
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

// An MPI-3 shared-memory window, in one passive-target epoch (lock_all) for its whole life: ranks then load
// and store into it directly, and synchronize() is the usual MPI_Win_sync · barrier · MPI_Win_sync.
class MpiSharedRegion final : public SharedRegion {
 public:
  MpiSharedRegion(std::byte* data, std::size_t bytes, MPI_Win window, MPI_Comm comm)
      : SharedRegion(data, bytes), window_(window), comm_(comm) {}

  ~MpiSharedRegion() override {
    MPI_Win_unlock_all(window_);  // local: ends this rank's epoch
    // Freeing is collective: while an exception unwinds the stack on this rank alone, the other ranks may
    // never get here, so the window is left for MPI_Finalize (or the job's abort) to reclaim.
    if (std::uncaught_exceptions() == 0) MPI_Win_free(&window_);
  }

  void synchronize() override {
    check(MPI_Win_sync(window_), "MPI_Win_sync");
    check(MPI_Barrier(comm_), "MPI_Barrier");
    check(MPI_Win_sync(window_), "MPI_Win_sync");
  }

 private:
  MPI_Win window_;
  MPI_Comm comm_;
};

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm) {
  check(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  MPI_Comm node = MPI_COMM_NULL;
  check(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node), "MPI_Comm_split_type");
  int node_size = 0;
  check(MPI_Comm_size(node, &node_size), "MPI_Comm_size");
  MPI_Comm_free(&node);
  one_node_ = node_size == size_;
}

std::unique_ptr<SharedRegion> MpiCommunicator::allocate_shared(std::size_t bytes) {
  if (!one_node_) throw std::logic_error("allocate_shared: the ranks do not share one node");
  if (bytes % 64 != 0) throw std::logic_error("allocate_shared: each part must be a multiple of 64 bytes");
  // Open MPI aligns the window to 8 bytes only: rank 0 takes 64 bytes more, and the region starts at the
  // first 64-byte boundary inside them. Parts are laid out in the region by rank, not in each rank's own
  // segment (on one node either is as close to every core).
  constexpr std::size_t kAlign = 64;
  const std::size_t segment = bytes + (rank_ == 0 ? kAlign : 0);
  void* mine = nullptr;
  MPI_Win window = MPI_WIN_NULL;
  check(MPI_Win_allocate_shared(static_cast<MPI_Aint>(segment), 1, MPI_INFO_NULL, comm_, &mine, &window),
        "MPI_Win_allocate_shared");
  std::uint64_t part = bytes, before = 0, total = bytes;
  check(MPI_Exscan(&part, &before, 1, MPI_UINT64_T, MPI_SUM, comm_), "MPI_Exscan");
  if (rank_ == 0) before = 0;  // MPI_Exscan leaves rank 0's result undefined
  check(MPI_Allreduce(MPI_IN_PLACE, &total, 1, MPI_UINT64_T, MPI_SUM, comm_), "MPI_Allreduce");
  // Rank 0's segment is never empty, so it starts the window. The segments are contiguous unless the info
  // key alloc_shared_noncontig is set, which it is not; checked all the same.
  MPI_Aint first_size = 0;
  int unit = 0;
  void* start = nullptr;
  check(MPI_Win_shared_query(window, 0, &first_size, &unit, &start), "MPI_Win_shared_query");
  auto* raw = static_cast<std::byte*>(start);
  if (raw == nullptr || (bytes > 0 && rank_ > 0 && static_cast<std::byte*>(mine) != raw + kAlign + before))
    throw std::runtime_error("MPI_Win_allocate_shared: the ranks' segments are not one contiguous region");
  const std::uintptr_t address = reinterpret_cast<std::uintptr_t>(raw);
  std::byte* base = raw + (kAlign - address % kAlign) % kAlign;
  check(MPI_Win_lock_all(MPI_MODE_NOCHECK, window), "MPI_Win_lock_all");
  auto region = std::make_unique<MpiSharedRegion>(base, total, window, comm_);
  if (bytes > 0) std::memset(base + before, 0, bytes);
  region->synchronize();
  return region;
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
