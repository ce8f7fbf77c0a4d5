// reduce_by_key: combine locally, shuffle by key hash, combine again at the key's owner.
//
// For trivially copyable rows the map-side combine writes each row straight into the send bucket of the key's
// owner, the exchange sends those buckets as they are (the local one is not copied), and the owner combines
// the blocks in rank order where they arrived: each row is written once per phase, with no separate
// bucketing pass and no copy into a new partition before the final combine.
#pragma once

#include <type_traits>

#include "engine/dataset/combine_by_key.hpp"
#include "engine/dataset/dataset.hpp"
#include "engine/dataset/shuffle.hpp"
#include "engine/dataset/stage_timer.hpp"

namespace tailflow {

template <class T>
template <class KeyFn, class ReduceFn>
Dataset<T> Dataset<T>::reduce_by_key(KeyFn&& key, ReduceFn&& reduce, const std::string& stage) const {
  StageRecorder recorder(*ctx_, stage, rows_.size());
  ShuffleStats stats;
  std::vector<T> reduced;
  if constexpr (std::is_trivially_copyable_v<T>) {
    auto buckets = combine_by_key_into_buckets(rows_, key, reduce, ctx_->size());
    auto received = exchange_buckets(ctx_->comm(), buckets, &stats);
    reduced = combine_by_key(std::span<const std::span<const T>>(received.from), key, reduce);
  } else {
    auto partial = combine_by_key(rows_, key, reduce);
    const auto ranks = static_cast<std::uint64_t>(ctx_->size());
    auto received = shuffle_rows(
        ctx_->comm(), partial, [&](const T& row) { return static_cast<int>(stable_hash(key(row)) % ranks); },
        &stats);
    reduced = combine_by_key(received, key, reduce);
  }
  recorder.add_shuffle(stats);
  recorder.set_rows_out(reduced.size());
  return {*ctx_, std::move(reduced)};
}

}  // namespace tailflow
