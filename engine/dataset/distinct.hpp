// distinct: deduplicate locally, shuffle by hash, deduplicate again.
#pragma once

#include <algorithm>

#include "engine/dataset/dataset.hpp"
#include "engine/dataset/shuffle.hpp"
#include "engine/dataset/stage_timer.hpp"

namespace tailflow {

template <class T>
Dataset<T> Dataset<T>::distinct(const std::string& stage) const {
  StageRecorder recorder(*ctx_, stage, rows_.size());
  auto deduplicate = [](std::vector<T>& rows) {
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  };
  std::vector<T> local = rows_;
  deduplicate(local);
  const auto ranks = static_cast<std::uint64_t>(ctx_->size());
  ShuffleStats stats;
  auto received = shuffle_rows(
      ctx_->comm(), local, [&](const T& row) { return static_cast<int>(stable_hash(row) % ranks); }, &stats);
  deduplicate(received);
  recorder.add_shuffle(stats);
  recorder.set_rows_out(received.size());
  return {*ctx_, std::move(received)};
}

}  // namespace tailflow
