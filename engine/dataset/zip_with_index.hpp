// zip_with_index: global positions from an exclusive prefix sum of the partition sizes.
#pragma once

#include "engine/comm/collectives.hpp"
#include "engine/dataset/dataset.hpp"
#include "engine/dataset/stage_timer.hpp"

namespace tailflow {

template <class T>
Dataset<std::pair<std::uint64_t, T>> Dataset<T>::zip_with_index() const {
  StageRecorder recorder(*ctx_, "zip_with_index", rows_.size());
  std::uint64_t first = comm::exclusive_prefix_sum(ctx_->comm(), std::uint64_t{rows_.size()});
  std::vector<std::pair<std::uint64_t, T>> out;
  out.reserve(rows_.size());
  for (std::size_t i = 0; i < rows_.size(); ++i) out.emplace_back(first + i, rows_[i]);
  recorder.set_rows_out(out.size());
  return {*ctx_, std::move(out)};
}

}  // namespace tailflow
