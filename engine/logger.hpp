// Rank-aware logging with fmt.
//
// info() prints on rank 0 only (the summary a user reads); rank_info() prints on every rank with a "[r/n]"
// prefix (for per-rank detail); debug() is like rank_info() but only when verbose. Lines go to stderr so that
// stdout stays clean for results.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <string>

namespace tailflow {

class Logger {
 public:
  Logger(int rank, int size, bool verbose = false) : rank_(rank), size_(size), verbose_(verbose) {}

  template <class... Args>
  void info(fmt::format_string<Args...> format, Args&&... args) const {
    if (rank_ == 0) write(fmt::format(format, std::forward<Args>(args)...));
  }
  template <class... Args>
  void rank_info(fmt::format_string<Args...> format, Args&&... args) const {
    write(prefix() + fmt::format(format, std::forward<Args>(args)...));
  }
  template <class... Args>
  void debug(fmt::format_string<Args...> format, Args&&... args) const {
    if (verbose_) write(prefix() + fmt::format(format, std::forward<Args>(args)...));
  }

  bool verbose() const { return verbose_; }
  void set_verbose(bool verbose) { verbose_ = verbose; }
  void set_quiet(bool quiet) { quiet_ = quiet; }

 private:
  std::string prefix() const { return fmt::format("[{}/{}] ", rank_, size_); }
  void write(const std::string& line) const {
    if (quiet_) return;
    std::fputs((line + "\n").c_str(), stderr);
  }

  int rank_;
  int size_;
  bool verbose_;
  bool quiet_ = false;
};

}  // namespace tailflow
