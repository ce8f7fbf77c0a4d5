// Records one wide operation as a Stage in the context's metrics when it goes out of scope.
#pragma once

#include <string>

#include "engine/context.hpp"
#include "engine/dataset/shuffle.hpp"

namespace tailflow {

class StageRecorder {
 public:
  StageRecorder(Context& ctx, std::string name, std::uint64_t rows_in) : ctx_(ctx) {
    stage_.name = std::move(name);
    stage_.rows_in = rows_in;
  }
  void set_rows_out(std::uint64_t rows) { stage_.rows_out = rows; }
  void add_bytes_shuffled(std::uint64_t bytes) { stage_.bytes_shuffled += bytes; }
  void add_shuffle(const ShuffleStats& stats) {
    stage_.bytes_shuffled += stats.bytes_to_others;
    stage_.shuffle_seconds += stats.seconds;
  }
  ~StageRecorder() {
    stage_.seconds = watch_.seconds();
    ctx_.metrics().record(std::move(stage_));
  }
  StageRecorder(const StageRecorder&) = delete;
  StageRecorder& operator=(const StageRecorder&) = delete;

 private:
  Context& ctx_;
  Stage stage_;
  Stopwatch watch_;
};

}  // namespace tailflow
