// Sends this process's standard output to a file for as long as the object lives (RAII).
//
// `tailflow pipeline` runs subcommands in-process; their result tables (train's summary, evaluate's table …)
// go to each stage's log file instead of the terminal, so that the pipeline's own stdout is just the final
// results table. Progress lines on stderr are not affected.
#pragma once

#include <filesystem>

namespace tailflow::jobs {

class StdoutRedirect {
 public:
  // Appends to `path`. Error if it cannot be opened.
  explicit StdoutRedirect(const std::filesystem::path& path);
  // Restores the original standard output.
  ~StdoutRedirect();
  StdoutRedirect(const StdoutRedirect&) = delete;
  StdoutRedirect& operator=(const StdoutRedirect&) = delete;

 private:
  int saved_ = -1;
};

}  // namespace tailflow::jobs
