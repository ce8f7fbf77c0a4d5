// Per-stage metrics, like Spark's stage table.
//
// Every wide operation (a shuffle) and every job step records one Stage on each rank: rows in and out, bytes
// sent to other ranks, seconds. At the end of a job, stage_table() gathers them and shows, per stage, the
// totals and the slowest/fastest rank, so skew is visible at a glance.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/comm/communicator.hpp"

namespace tailflow {

struct Stage {
  std::string name;
  std::uint64_t rows_in = 0;
  std::uint64_t rows_out = 0;
  std::uint64_t bytes_shuffled = 0;  // bytes this rank sent to other ranks (not to itself)
  double seconds = 0;
  double shuffle_seconds = 0;  // part of `seconds` spent bucketing, exchanging and decoding rows
};

class StageMetrics {
 public:
  void record(Stage stage) { stages_.push_back(std::move(stage)); }
  const std::vector<Stage>& stages() const { return stages_; }
  void clear() { stages_.clear(); }

 private:
  std::vector<Stage> stages_;
};

// Collective: every rank must have recorded the same sequence of stage names. Returns the table text on
// rank 0 (empty elsewhere).
std::string stage_table(comm::Communicator& comm, const StageMetrics& metrics);

// Wall-clock stopwatch.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  void restart() { start_ = std::chrono::steady_clock::now(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace tailflow
