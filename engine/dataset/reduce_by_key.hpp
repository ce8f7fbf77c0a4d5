// reduce_by_key: combine locally, shuffle by key hash, combine again at the key's owner.
#pragma once

#include "engine/dataset/combine_by_key.hpp"
#include "engine/dataset/dataset.hpp"
#include "engine/dataset/shuffle.hpp"
#include "engine/dataset/stage_timer.hpp"

namespace tailflow {

template <class T>
template <class KeyFn, class ReduceFn>
Dataset<T> Dataset<T>::reduce_by_key(KeyFn&& key, ReduceFn&& reduce, const std::string& stage) const {
  StageRecorder recorder(*ctx_, stage, rows_.size());
  auto partial = combine_by_key(rows_, key, reduce);
  const auto ranks = static_cast<std::uint64_t>(ctx_->size());
  ShuffleStats stats;
  auto received = shuffle_rows(
      ctx_->comm(), partial, [&](const T& row) { return static_cast<int>(stable_hash(key(row)) % ranks); },
      &stats);
  auto reduced = combine_by_key(received, key, reduce);
  recorder.add_shuffle(stats);
  recorder.set_rows_out(reduced.size());
  return {*ctx_, std::move(reduced)};
}

}  // namespace tailflow
