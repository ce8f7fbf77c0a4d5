// Memory that every rank maps at once, for ranks that all run on one node.
//
// A broadcast copies every rank's rows into every other rank's buffer; ranks on one node can instead keep
// one copy that all of them read and each writes its own part of. That saves the copy and, as importantly
// on a node, the cache: P private copies of a large array evict each other from the shared last-level cache.
// Rank r contributes `bytes_r` bytes; the parts lie one after the other in rank order, so an array whose rows
// are split into contiguous rank ranges lives in one region, each rank's rows exactly where they belong.
//
// Obtained from Communicator::allocate_shared (MPI: an MPI-3 shared-memory window; threads: one allocation).
// Destroying a region is collective, like creating it.
#pragma once

#include <cstddef>

namespace tailflow::comm {

class SharedRegion {
 public:
  SharedRegion(std::byte* data, std::size_t bytes) : data_(data), bytes_(bytes) {}
  virtual ~SharedRegion() = default;
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;

  // The whole region, rank 0's part first; 64-byte aligned. Zero-filled when allocated.
  std::byte* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }

  // Collective: what any rank wrote into the region before the call is visible to every rank after it, and
  // no rank leaves before every rank has arrived (so a rank may overwrite what others were reading).
  virtual void synchronize() = 0;

 private:
  std::byte* data_;
  std::size_t bytes_;
};

}  // namespace tailflow::comm
