// group_by_key: shuffle by key hash, then hand each key's rows to the group function at once.
#pragma once

#include <algorithm>
#include <numeric>
#include <span>

#include "engine/dataset/dataset.hpp"
#include "engine/dataset/shuffle.hpp"
#include "engine/dataset/stage_timer.hpp"

namespace tailflow {

template <class T>
template <class KeyFn, class GroupFn>
auto Dataset<T>::group_by_key(KeyFn&& key, GroupFn&& group, const std::string& stage) const {
  using Key = std::decay_t<std::invoke_result_t<KeyFn&, const T&>>;
  using R = std::invoke_result_t<GroupFn&, const Key&, std::span<const T>>;
  StageRecorder recorder(*ctx_, stage, rows_.size());
  const auto ranks = static_cast<std::uint64_t>(ctx_->size());
  ShuffleStats stats;
  auto received = shuffle_rows(
      ctx_->comm(), rows_, [&](const T& row) { return static_cast<int>(stable_hash(key(row)) % ranks); },
      &stats);
  // Sorting by key brings each group together (keys need operator<).
  std::stable_sort(received.begin(), received.end(), [&](const T& a, const T& b) { return key(a) < key(b); });
  std::vector<R> out;
  for (std::size_t begin = 0; begin < received.size();) {
    Key k = key(received[begin]);
    std::size_t end = begin + 1;
    while (end < received.size() && !(k < key(received[end]))) ++end;
    out.push_back(group(k, std::span<const T>(received.data() + begin, end - begin)));
    begin = end;
  }
  recorder.add_shuffle(stats);
  recorder.set_rows_out(out.size());
  return Dataset<R>(*ctx_, std::move(out));
}

}  // namespace tailflow
