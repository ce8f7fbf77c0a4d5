// The context of one job on one rank: who we are (communicator), how we talk (logger), what we measured
// (stage metrics). Operators receive a Context& and never reach for globals.
#pragma once

#include <cstdint>
#include <string>

#include "engine/comm/communicator.hpp"
#include "engine/logger.hpp"
#include "engine/stage_metrics.hpp"

namespace tailflow {

class Context {
 public:
  explicit Context(comm::Communicator& comm, bool verbose = false)
      : comm_(comm), logger_(comm.rank(), comm.size(), verbose) {}

  comm::Communicator& comm() const { return comm_; }
  int rank() const { return comm_.rank(); }
  int size() const { return comm_.size(); }
  bool is_root() const { return comm_.rank() == 0; }

  Logger& log() { return logger_; }
  StageMetrics& metrics() { return metrics_; }

  // Collective error check. Call it on every rank after a step that may fail on some ranks only (for example
  // parsing their own byte range of a file): if any rank passes a non-empty message, every rank throws a
  // CollectiveError carrying the message of the lowest failing rank, so the whole job stops with one clear
  // message.
  void check_collectively(const std::string& error_message_or_empty);

 private:
  comm::Communicator& comm_;
  Logger logger_;
  StageMetrics metrics_;
};

}  // namespace tailflow
