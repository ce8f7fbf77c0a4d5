// The parallel CSV/TSV reader: every rank reads and parses its own byte range of one file.
//
// The file is cut into equal byte ranges, one per rank, and each cut is moved to the next line start: rank r
// (r > 0) begins right after the first '\n' at or after its nominal offset, and ends where rank r+1 begins.
// So every line belongs to exactly one rank, without any rank reading another's range. Line numbers are
// exact: each rank counts the '\n' in its range and an exclusive prefix sum over ranks gives its first line
// number, so an error names the same file:line whatever the number of ranks.
//
// Errors (unreadable or empty file, missing column, wrong field count, non-numeric value) are reported
// collectively: every rank throws a CollectiveError carrying the message of the lowest failing rank, which
// names the file, the 1-based line, the field and the value. With BadRowPolicy::kDropMalformed, malformed
// rows are skipped instead — and counted over all ranks, with the first few kept as examples for the log.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "engine/context.hpp"
#include "engine/error.hpp"
#include "engine/io/csv_dialect.hpp"
#include "engine/io/parse_number.hpp"

namespace tailflow::io {

enum class BadRowPolicy {
  kFailFast,       // the first malformed row stops the job, naming file and line
  kDropMalformed,  // malformed rows are skipped, counted and reported
};

// "fail" or "skip" (as typed after --on-bad-row). Throws Error otherwise.
BadRowPolicy bad_row_policy_from_option(const std::string& text);

struct CsvOptions {
  std::optional<std::string> separator;  // detected when absent
  HeaderMode header = HeaderMode::kAuto;
  // Names for the columns of a file without a header, in order. Giving them means "no header" unless
  // `header` says kPresent (then they replace the file's own names).
  std::vector<std::string> column_names;
  BadRowPolicy bad_rows = BadRowPolicy::kFailFast;
  std::size_t max_examples = 5;  // malformed rows kept for the log
};

// What one pass over the file saw, summed over ranks (the same on every rank) unless named local.
struct CsvReadReport {
  std::uint64_t rows = 0;                     // rows handed to the callback and accepted
  std::uint64_t skipped_rows = 0;             // malformed rows dropped (kDropMalformed only)
  std::vector<std::string> skipped_examples;  // the first few skipped rows' errors, in file order
  std::uint64_t file_bytes = 0;
  std::uint64_t local_rows = 0;
  std::uint64_t local_bytes = 0;  // size of this rank's byte range
};

class CsvReader;

// One record, valid during the callback only. Field views point into the reader's buffer.
class CsvRow {
 public:
  std::uint64_t line() const { return line_; }
  std::size_t size() const { return fields_->size(); }
  std::string_view operator[](std::size_t column) const { return (*fields_)[column]; }

  // The field as a number; throws InputError naming file, line, column and value if it is not one.
  template <Number T>
  T number(std::size_t column) const {
    T value{};
    NumberError error = parse_number((*fields_)[column], value);
    if (error != NumberError::kNone) fail_number(column, error, std::is_integral_v<T>);
    return value;
  }

  // Throws InputError for this row and column: for checks of the caller's own (unknown event, empty id).
  [[noreturn]] void fail(std::size_t column, const std::string& what) const;

 private:
  friend class CsvReader;
  [[noreturn]] void fail_number(std::size_t column, NumberError error, bool integral) const;

  const CsvReader* reader_ = nullptr;
  const std::vector<std::string_view>* fields_ = nullptr;
  std::uint64_t line_ = 0;
};

class CsvReader {
 public:
  // Collective: opens the file and detects its layout on every rank.
  CsvReader(Context& ctx, std::string path, CsvOptions options = {});
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  const std::string& path() const { return path_; }
  const CsvDialect& dialect() const { return layout_.dialect; }
  std::uint64_t file_bytes() const { return file_bytes_; }
  // Fields every record must have.
  std::size_t column_count() const { return column_count_; }
  // The header's names, or the names given in CsvOptions; empty when the columns have no names.
  const std::vector<std::string>& column_names() const { return column_names_; }
  // The name of a column for messages: its name, or "column N" (1-based) without names.
  std::string column_label(std::size_t column) const;

  // A column by name (exact, then case-insensitive) or by 0-based index ("2"); nullopt if there is none.
  std::optional<std::size_t> find_column(std::string_view name_or_index) const;
  // Like find_column, but a missing column throws CollectiveError naming the file and the columns there
  // are. Call it on every rank (it gives the same answer on every rank).
  std::size_t column(std::string_view name_or_index) const;

  // Collective: parses this rank's byte range and calls on_row for each record, in file order. A callback
  // that rejects a row throws InputError (CsvRow::number and CsvRow::fail do); under kDropMalformed the row
  // is then skipped, so a callback should finish all its checks before keeping anything from the row.
  CsvReadReport for_each_row(const std::function<void(const CsvRow&)>& on_row);

 private:
  friend class CsvRow;

  Context& ctx_;
  std::string path_;
  CsvOptions options_;
  int fd_ = -1;
  std::uint64_t file_bytes_ = 0;
  CsvLayout layout_;
  std::size_t column_count_ = 0;
  std::vector<std::string> column_names_;
};

}  // namespace tailflow::io
