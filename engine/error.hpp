// Exceptions that reach the user.
//
// Every error a user can cause (bad input, bad options) is an Error whose message says what to fix: which
// file, line, field and value. The job's main() prints it once and exits non-zero on every rank.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace tailflow {

// A problem the user can act on (bad option, missing file, malformed input).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Malformed input data: names the file, the 1-based line and, where known, the field.
class InputError : public Error {
 public:
  InputError(const std::string& file, std::uint64_t line, const std::string& what);
  InputError(const std::string& file, std::uint64_t line, const std::string& field, const std::string& what);

  const std::string& file() const { return file_; }
  std::uint64_t line() const { return line_; }

 private:
  std::string file_;
  std::uint64_t line_;
};

// An Error that every rank raised together (see Context::check_collectively): main() can print it once and
// end the job normally instead of aborting it.
class CollectiveError : public Error {
 public:
  using Error::Error;
};

// Raised on the healthy ranks when another rank failed, so that they stop instead of waiting forever.
class PeerFailure : public std::runtime_error {
 public:
  PeerFailure(int failed_rank, const std::string& message);
  int failed_rank() const { return failed_rank_; }
  // The failed rank's own message, without the "rank N failed" prefix.
  const std::string& peer_message() const { return peer_message_; }

 private:
  int failed_rank_;
  std::string peer_message_;
};

}  // namespace tailflow
