// Which training items each rank processes in each step of data-parallel training.
//
// Every epoch visits the training set (global indices 0 .. n-1, the same on every rank) in a fresh random
// order: a keyed permutation whose key is a hash of (seed, epoch), so every rank computes the same order
// without communicating, and a resumed run sees the order an uninterrupted run would have seen. The order is
// cut into global batches of `global_batch` items (the last one may be shorter); rank r of N takes the r-th
// of N nearly equal consecutive parts of each global batch. Thus 1 rank with batch B and N ranks with
// B / N each process exactly the same global batches — the basis of their equal results.
#pragma once

#include <cstdint>
#include <vector>

#include "operators/datagen/keyed_permutation.hpp"

namespace tailflow::ops::learning {

class DistributedSampler {
 public:
  DistributedSampler(std::int64_t items, std::int64_t global_batch, std::uint64_t seed, int rank, int ranks);

  std::int64_t items() const { return items_; }
  std::int64_t batches_per_epoch() const;
  // The number of items in global batch `batch` (summed over ranks).
  std::int64_t global_batch_size(std::int64_t batch) const;

  // This rank's part of global batch `batch` of epoch `epoch`: global training indices. May be empty (more
  // ranks than items in a short last batch).
  std::vector<std::int64_t> local_batch(std::int64_t epoch, std::int64_t batch) const;

 private:
  std::int64_t items_;
  std::int64_t global_batch_;
  std::uint64_t seed_;
  int rank_;
  int ranks_;
};

}  // namespace tailflow::ops::learning
