// The MPI backend: a Communicator over an MPI communicator (MPI_COMM_WORLD by default, or any MPI_Comm the
// caller already has, like Cylon's communicator does).
#pragma once

#include <mpi.h>

#include "engine/comm/communicator.hpp"

namespace tailflow::comm {

class MpiCommunicator final : public Communicator {
 public:
  // Duplicates `comm`, so tailflow's messages never mix with the caller's; the duplicate is freed on
  // destruction.
  explicit MpiCommunicator(MPI_Comm comm = MPI_COMM_WORLD);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend_name() const override { return "mpi"; }
  MPI_Comm native() const { return comm_; }

  void barrier() override;
  void broadcast(void* data, std::size_t bytes, int root) override;
  void allreduce(void* data, std::size_t count, ElementType type, ReduceOp op) override;
  std::vector<std::size_t> exchange_counts(std::span<const std::size_t> send_bytes) override;
  void alltoallv(const void* send, std::span<const std::size_t> send_bytes, void* recv,
                 std::span<const std::size_t> recv_bytes) override;
  void allgatherv(const void* send, std::size_t send_bytes, void* recv,
                  std::span<const std::size_t> recv_bytes) override;
  bool can_share_memory() const override { return one_node_; }
  std::unique_ptr<SharedRegion> allocate_shared(std::size_t bytes) override;

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  bool one_node_ = false;  // MPI_COMM_TYPE_SHARED spans every rank
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace tailflow::comm
