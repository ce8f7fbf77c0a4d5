#include "operators/learning/distributed_sampler.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "engine/error.hpp"
#include "operators/common/seeded_hash.hpp"

namespace tailflow::ops::learning {

DistributedSampler::DistributedSampler(std::int64_t items, std::int64_t global_batch, std::uint64_t seed,
                                       int rank, int ranks)
    : items_(items), global_batch_(global_batch), seed_(seed), rank_(rank), ranks_(ranks) {
  if (items < 0 || global_batch < 1 || ranks < 1 || rank < 0 || rank >= ranks)
    throw Error(fmt::format("distributed sampler: {} items, batch {}, rank {} of {} is not a valid setting",
                            items, global_batch, rank, ranks));
}

std::int64_t DistributedSampler::batches_per_epoch() const {
  return (items_ + global_batch_ - 1) / global_batch_;
}

std::int64_t DistributedSampler::global_batch_size(std::int64_t batch) const {
  return std::min(global_batch_, items_ - batch * global_batch_);
}

std::vector<std::int64_t> DistributedSampler::local_batch(std::int64_t epoch, std::int64_t batch) const {
  std::vector<std::int64_t> indices;
  if (items_ == 0) return indices;
  const std::int64_t start = batch * global_batch_;
  const std::int64_t size = global_batch_size(batch);
  // Balanced split: rank r takes positions [r·size/N, (r+1)·size/N) of the batch.
  const std::int64_t begin = start + rank_ * size / ranks_;
  const std::int64_t end = start + (rank_ + 1) * size / ranks_;
  datagen::KeyedPermutation order(static_cast<std::uint64_t>(items_),
                                  seeded_hash(seed_, static_cast<std::uint64_t>(epoch)));
  indices.reserve(static_cast<std::size_t>(end - begin));
  for (std::int64_t position = begin; position < end; ++position)
    indices.push_back(static_cast<std::int64_t>(order(static_cast<std::uint64_t>(position))));
  return indices;
}

}  // namespace tailflow::ops::learning
