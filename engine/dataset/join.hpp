// join: both sides shuffled by key hash, then a sort-merge join on each rank.
#pragma once

#include <algorithm>

#include "engine/dataset/dataset.hpp"
#include "engine/dataset/shuffle.hpp"
#include "engine/dataset/stage_timer.hpp"

namespace tailflow {

template <class T>
template <class U, class KeyA, class KeyB, class CombineFn>
auto Dataset<T>::join(const Dataset<U>& other, KeyA&& key_a, KeyB&& key_b, CombineFn&& combine,
                      const std::string& stage) const {
  using R = std::invoke_result_t<CombineFn&, const T&, const U&>;
  StageRecorder recorder(*ctx_, stage, rows_.size() + other.local().size());
  const auto ranks = static_cast<std::uint64_t>(ctx_->size());
  ShuffleStats stats_a, stats_b;
  auto left = shuffle_rows(
      ctx_->comm(), rows_, [&](const T& row) { return static_cast<int>(stable_hash(key_a(row)) % ranks); },
      &stats_a);
  auto right = shuffle_rows(
      ctx_->comm(), other.local(),
      [&](const U& row) { return static_cast<int>(stable_hash(key_b(row)) % ranks); }, &stats_b);
  std::stable_sort(left.begin(), left.end(), [&](const T& a, const T& b) { return key_a(a) < key_a(b); });
  std::stable_sort(right.begin(), right.end(), [&](const U& a, const U& b) { return key_b(a) < key_b(b); });
  std::vector<R> out;
  std::size_t i = 0, j = 0;
  while (i < left.size() && j < right.size()) {
    auto ka = key_a(left[i]);
    auto kb = key_b(right[j]);
    if (ka < kb) {
      ++i;
    } else if (kb < ka) {
      ++j;
    } else {
      // Every pair of the two equal-key runs.
      std::size_t i_end = i, j_end = j;
      while (i_end < left.size() && !(ka < key_a(left[i_end]))) ++i_end;
      while (j_end < right.size() && !(kb < key_b(right[j_end]))) ++j_end;
      for (std::size_t a = i; a < i_end; ++a)
        for (std::size_t b = j; b < j_end; ++b) out.push_back(combine(left[a], right[b]));
      i = i_end;
      j = j_end;
    }
  }
  recorder.add_shuffle(stats_a);
  recorder.add_shuffle(stats_b);
  recorder.set_rows_out(out.size());
  return Dataset<R>(*ctx_, std::move(out));
}

}  // namespace tailflow
