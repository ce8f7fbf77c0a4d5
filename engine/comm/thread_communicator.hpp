// Ranks as threads of one process.
//
// A ThreadGroup is the shared meeting point of N ThreadCommunicators. Each collective posts a pointer to the
// rank's buffer, waits until every rank has posted, copies what it needs straight from the other ranks'
// buffers, and waits again before anyone may reuse them. If one rank throws, run_on_threads() aborts the
// group: every rank blocked in (or later entering) a collective gets a PeerFailure instead of a hang.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "engine/comm/communicator.hpp"

namespace tailflow::comm {

class ThreadGroup {
 public:
  explicit ThreadGroup(int size);

  int size() const { return size_; }

  // Blocks until all ranks have arrived; throws PeerFailure if the group has been aborted.
  void synchronize();
  // Wakes every waiting rank with a PeerFailure naming `failed_rank`.
  void abort(int failed_rank, const std::string& message);

  // Scratch slots, one per rank, valid between two synchronize() calls.
  std::vector<const void*> posted_data;
  std::vector<const std::size_t*> posted_sizes;

 private:
  void throw_if_aborted() const;

  int size_;
  std::mutex mutex_;
  std::condition_variable all_arrived_;
  int arrived_ = 0;
  std::uint64_t generation_ = 0;
  bool aborted_ = false;
  int failed_rank_ = -1;
  std::string failure_message_;
};

class ThreadCommunicator final : public Communicator {
 public:
  ThreadCommunicator(ThreadGroup& group, int rank) : group_(group), rank_(rank) {}

  int rank() const override { return rank_; }
  int size() const override { return group_.size(); }
  std::string backend_name() const override { return "threads"; }

  void barrier() override;
  void broadcast(void* data, std::size_t bytes, int root) override;
  void allreduce(void* data, std::size_t count, ElementType type, ReduceOp op) override;
  std::vector<std::size_t> exchange_counts(std::span<const std::size_t> send_bytes) override;
  void alltoallv(const void* send, std::span<const std::size_t> send_bytes, void* recv,
                 std::span<const std::size_t> recv_bytes) override;
  void allgatherv(const void* send, std::size_t send_bytes, void* recv,
                  std::span<const std::size_t> recv_bytes) override;
  bool can_share_memory() const override { return true; }  // one process
  std::unique_ptr<SharedRegion> allocate_shared(std::size_t bytes) override;

 private:
  ThreadGroup& group_;
  int rank_;
};

// Runs `body` on `ranks` threads, each with its own ThreadCommunicator, and waits for all of them. If any
// rank throws, the others are released from their collectives and the first failing rank's exception is
// rethrown here.
void run_on_threads(int ranks, const std::function<void(Communicator&)>& body);

}  // namespace tailflow::comm
