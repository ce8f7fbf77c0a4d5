#include "jobs/stdout_redirect.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "engine/error.hpp"

namespace tailflow::jobs {

namespace {

// Both the C stream (fmt::print, printf) and the C++ stream may hold buffered bytes for the old target.
void flush_both() {
  std::cout.flush();
  std::fflush(stdout);
}

}  // namespace

StdoutRedirect::StdoutRedirect(const std::filesystem::path& path) {
  const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (file < 0) throw Error(fmt::format("cannot open '{}': {}", path.string(), std::strerror(errno)));
  flush_both();
  saved_ = ::dup(STDOUT_FILENO);
  if (saved_ < 0 || ::dup2(file, STDOUT_FILENO) < 0) {
    const int error = errno;
    ::close(file);
    if (saved_ >= 0) ::close(saved_);
    throw Error(
        fmt::format("cannot redirect standard output to '{}': {}", path.string(), std::strerror(error)));
  }
  ::close(file);
}

StdoutRedirect::~StdoutRedirect() {
  flush_both();
  ::dup2(saved_, STDOUT_FILENO);
  ::close(saved_);
}

}  // namespace tailflow::jobs
