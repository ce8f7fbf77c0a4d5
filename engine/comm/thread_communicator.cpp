#include "engine/comm/thread_communicator.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <thread>

#include "engine/comm/reduce_kernels.hpp"
#include "engine/error.hpp"

namespace tailflow::comm {

ThreadGroup::ThreadGroup(int size) : posted_data(size), posted_sizes(size), size_(size) {}

void ThreadGroup::throw_if_aborted() const {
  if (aborted_) throw PeerFailure(failed_rank_, failure_message_);
}

void ThreadGroup::synchronize() {
  std::unique_lock lock(mutex_);
  throw_if_aborted();
  std::uint64_t my_generation = generation_;
  if (++arrived_ == size_) {
    arrived_ = 0;
    ++generation_;
    all_arrived_.notify_all();
    return;
  }
  all_arrived_.wait(lock, [&] { return generation_ != my_generation || aborted_; });
  if (generation_ == my_generation) throw_if_aborted();
}

void ThreadGroup::abort(int failed_rank, const std::string& message) {
  std::lock_guard lock(mutex_);
  if (aborted_) return;
  aborted_ = true;
  failed_rank_ = failed_rank;
  failure_message_ = message;
  all_arrived_.notify_all();
}

void ThreadCommunicator::barrier() {
  group_.synchronize();
}

void ThreadCommunicator::broadcast(void* data, std::size_t bytes, int root) {
  group_.posted_data[rank_] = data;
  group_.synchronize();
  if (rank_ != root && bytes > 0) std::memcpy(data, group_.posted_data[root], bytes);
  group_.synchronize();
}

void ThreadCommunicator::allreduce(void* data, std::size_t count, ElementType type, ReduceOp op) {
  group_.posted_data[rank_] = data;
  group_.synchronize();
  // Reduce in rank order on every rank, so all ranks get bit-identical results.
  std::size_t bytes = count * element_size(type);
  std::vector<std::byte> result(bytes);
  if (bytes > 0) std::memcpy(result.data(), group_.posted_data[0], bytes);
  for (int r = 1; r < size(); ++r) reduce_into(result.data(), group_.posted_data[r], count, type, op);
  group_.synchronize();
  if (bytes > 0) std::memcpy(data, result.data(), bytes);
}

std::vector<std::size_t> ThreadCommunicator::exchange_counts(std::span<const std::size_t> send_bytes) {
  group_.posted_sizes[rank_] = send_bytes.data();
  group_.synchronize();
  std::vector<std::size_t> recv(size());
  for (int r = 0; r < size(); ++r) recv[r] = group_.posted_sizes[r][rank_];
  group_.synchronize();
  return recv;
}

void ThreadCommunicator::alltoallv(const void* send, std::span<const std::size_t> send_bytes, void* recv,
                                   std::span<const std::size_t> recv_bytes) {
  group_.posted_data[rank_] = send;
  group_.posted_sizes[rank_] = send_bytes.data();
  group_.synchronize();
  auto* out = static_cast<std::byte*>(recv);
  for (int r = 0; r < size(); ++r) {
    const std::size_t* their_sizes = group_.posted_sizes[r];
    std::size_t offset = 0;
    for (int d = 0; d < rank_; ++d) offset += their_sizes[d];
    if (their_sizes[rank_] != recv_bytes[r])
      throw std::logic_error("alltoallv: recv_bytes do not match what the sender posted");
    if (recv_bytes[r] > 0)
      std::memcpy(out, static_cast<const std::byte*>(group_.posted_data[r]) + offset, recv_bytes[r]);
    out += recv_bytes[r];
  }
  group_.synchronize();
}

void ThreadCommunicator::allgatherv(const void* send, std::size_t send_bytes, void* recv,
                                    std::span<const std::size_t> recv_bytes) {
  group_.posted_data[rank_] = send;
  group_.posted_sizes[rank_] = &send_bytes;
  group_.synchronize();
  auto* out = static_cast<std::byte*>(recv);
  for (int r = 0; r < size(); ++r) {
    if (*group_.posted_sizes[r] != recv_bytes[r])
      throw std::logic_error("allgatherv: recv_bytes do not match what the sender posted");
    if (recv_bytes[r] > 0) std::memcpy(out, group_.posted_data[r], recv_bytes[r]);
    out += recv_bytes[r];
  }
  group_.synchronize();
}

namespace {

// Ranks as threads share the address space already: one allocation, owned jointly by every rank's region
// (so that no rank has to wait for the others before letting go of it), and the group's barrier, whose
// mutex orders every write before it ahead of every read after it.
class ThreadSharedRegion final : public SharedRegion {
 public:
  ThreadSharedRegion(std::shared_ptr<std::byte> memory, std::size_t bytes, ThreadGroup& group)
      : SharedRegion(memory.get(), bytes), memory_(std::move(memory)), group_(group) {}

  void synchronize() override { group_.synchronize(); }

 private:
  std::shared_ptr<std::byte> memory_;
  ThreadGroup& group_;
};

}  // namespace

std::unique_ptr<SharedRegion> ThreadCommunicator::allocate_shared(std::size_t bytes) {
  if (bytes % 64 != 0) throw std::logic_error("allocate_shared: each part must be a multiple of 64 bytes");
  std::uint64_t total = bytes;
  allreduce(&total, 1, ElementType::kUInt64, ReduceOp::kSum);
  std::shared_ptr<std::byte> memory;
  if (rank_ == 0) {
    void* raw = std::aligned_alloc(64, std::max<std::uint64_t>(total, 64));
    if (!raw) throw std::bad_alloc();
    std::memset(raw, 0, total);
    memory = std::shared_ptr<std::byte>(static_cast<std::byte*>(raw), [](std::byte* p) { std::free(p); });
  }
  // Every rank copies rank 0's owner while rank 0 waits in the second synchronize.
  group_.posted_data[rank_] = &memory;
  group_.synchronize();
  if (rank_ != 0) memory = *static_cast<const std::shared_ptr<std::byte>*>(group_.posted_data[0]);
  group_.synchronize();
  return std::make_unique<ThreadSharedRegion>(std::move(memory), total, group_);
}

void run_on_threads(int ranks, const std::function<void(Communicator&)>& body) {
  if (ranks < 1) throw std::invalid_argument("run_on_threads: need at least one rank");
  ThreadGroup group(ranks);
  std::vector<std::exception_ptr> failures(ranks);
  std::vector<std::thread> threads;
  threads.reserve(ranks);
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      ThreadCommunicator comm(group, r);
      try {
        body(comm);
      } catch (const PeerFailure&) {
        // Another rank failed first; its exception is the one reported.
      } catch (const std::exception& e) {
        failures[r] = std::current_exception();
        group.abort(r, e.what());
      } catch (...) {
        failures[r] = std::current_exception();
        group.abort(r, "unknown exception");
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& failure : failures)
    if (failure) std::rethrow_exception(failure);
}

}  // namespace tailflow::comm
