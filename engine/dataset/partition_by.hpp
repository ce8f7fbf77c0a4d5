// partition_by: the plain shuffle, each row to the rank its destination function names.
#pragma once

#include <stdexcept>

#include "engine/dataset/dataset.hpp"
#include "engine/dataset/shuffle.hpp"
#include "engine/dataset/stage_timer.hpp"

namespace tailflow {

template <class T>
template <class DestFn>
Dataset<T> Dataset<T>::partition_by(DestFn&& destination, const std::string& stage) const {
  StageRecorder recorder(*ctx_, stage, rows_.size());
  const int ranks = ctx_->size();
  ShuffleStats stats;
  auto received = shuffle_rows(
      ctx_->comm(), rows_,
      [&](const T& row) {
        auto d = destination(row);
        if (d < 0 || d >= ranks) throw std::out_of_range("partition_by: destination outside 0..size-1");
        return d;
      },
      &stats);
  recorder.add_shuffle(stats);
  recorder.set_rows_out(received.size());
  return {*ctx_, std::move(received)};
}

}  // namespace tailflow
