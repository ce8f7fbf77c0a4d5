// sort_by: sample sort. Each rank sorts locally and offers evenly spaced sample keys; the gathered samples
// give size-1 splitters; rows move to the rank of their key range; each rank sorts what it received.
#pragma once

#include <algorithm>

#include "engine/dataset/dataset.hpp"
#include "engine/dataset/partitioners.hpp"
#include "engine/dataset/shuffle.hpp"
#include "engine/dataset/stage_timer.hpp"

namespace tailflow {

template <class T>
template <class KeyFn>
Dataset<T> Dataset<T>::sort_by(KeyFn&& key, const std::string& stage) const {
  using Key = std::decay_t<std::invoke_result_t<KeyFn&, const T&>>;
  StageRecorder recorder(*ctx_, stage, rows_.size());
  auto by_key = [&](const T& a, const T& b) { return key(a) < key(b); };
  std::vector<T> sorted = rows_;
  std::stable_sort(sorted.begin(), sorted.end(), by_key);

  // Oversampling by 16 per rank keeps the largest partition close to the average (classic sample sort).
  const std::size_t ranks = ctx_->size();
  const std::size_t samples_per_rank = std::min(sorted.size(), 16 * ranks);
  std::vector<Key> samples;
  for (std::size_t s = 0; s < samples_per_rank; ++s)
    samples.push_back(key(sorted[s * sorted.size() / samples_per_rank]));
  auto all_samples = allgather_rows(ctx_->comm(), samples);
  std::sort(all_samples.begin(), all_samples.end());
  std::vector<Key> splitters;
  for (std::size_t r = 1; r < ranks && !all_samples.empty(); ++r)
    splitters.push_back(all_samples[r * all_samples.size() / ranks]);
  if (all_samples.empty()) splitters.assign(ranks - 1, Key{});

  auto key_copy = [&key](const T& row) { return key(row); };
  RangePartitioner<Key, decltype(key_copy)> partitioner(key_copy, splitters);
  ShuffleStats stats;
  auto received = shuffle_rows(ctx_->comm(), sorted, partitioner, &stats);
  std::stable_sort(received.begin(), received.end(), by_key);
  recorder.add_shuffle(stats);
  recorder.set_rows_out(received.size());
  return {*ctx_, std::move(received)};
}

}  // namespace tailflow
