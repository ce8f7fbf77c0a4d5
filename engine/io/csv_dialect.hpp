// What a delimited text file looks like: its separator, whether it starts with a header, how fields are
// quoted — and how to split one line into fields under those rules.
//
// The dialect is detected from a sample of the file's first bytes, the same way on every rank, so no rank
// needs to talk to another to agree on it. Supported: separators `,` `\t` `::` `;`; RFC 4180 quoting
// ("a, b" and "say ""hi"""); CRLF line ends; a UTF-8 byte-order mark. Not supported: line breaks inside
// quoted fields — the parallel reader splits the file at line breaks, so a record must be one line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tailflow::io {

enum class HeaderMode { kAuto, kPresent, kAbsent };

struct CsvDialect {
  std::string separator = ",";
  char quote = '"';
  bool has_header = false;
};

// The separators tried by detection, in order of preference when two fit equally well.
const std::vector<std::string>& candidate_separators();

// "\t" for "tab" or "\\t" (shell-friendly spellings), otherwise the text itself. Throws Error if empty.
std::string separator_from_option(const std::string& text);
// A printable name: "','", "tab", "'::'".
std::string describe_separator(const std::string& separator);

// The 3-byte UTF-8 byte-order mark some editors write at the start of a file.
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// A line without its trailing '\r' (files written on Windows end lines with CRLF).
inline std::string_view strip_carriage_return(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

inline bool is_blank(std::string_view line) {
  for (char c : line)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}

enum class SplitStatus { kOk, kUnterminatedQuote, kTextAfterQuote };

struct SplitResult {
  SplitStatus status = SplitStatus::kOk;
  std::size_t field = 0;  // the 0-based field where splitting failed
};

// Splits one line (without its '\n' and '\r') into `fields`. Unquoted fields are trimmed of surrounding
// spaces; quoted fields lose their quotes. The views point into `line`, or into `scratch` for quoted fields
// with doubled quotes, so both must outlive `fields`. No allocation unless a field contains "".
SplitResult split_fields(std::string_view line, const CsvDialect& dialect,
                         std::vector<std::string_view>& fields, std::string& scratch);

// A human-readable reason for a failed split.
std::string describe_split_failure(const SplitResult& result, const CsvDialect& dialect);

// What detect_layout() learned from the first bytes of a file.
struct CsvLayout {
  CsvDialect dialect;
  bool empty = true;                // no non-blank line in the file
  std::vector<std::string> header;  // column names, when the file has a header
  std::uint64_t header_line = 0;    // 1-based line of the header, 0 when there is none
  std::size_t field_count = 0;      // fields per record, from the first non-blank line
  std::size_t bom_bytes = 0;        // 3 when the file starts with a UTF-8 byte-order mark
};

// Detects the layout from `sample`, the file's first bytes. `complete` says whether the sample is the whole
// file (otherwise its last, possibly cut, line is ignored). `separator` (if given) and `header` override
// detection. A header is assumed when the first line has no numeric field and either some column is numeric
// further down, or no column is (then a first line of names is the likelier reading).
CsvLayout detect_layout(std::string_view sample, bool complete, const std::optional<std::string>& separator,
                        HeaderMode header);

}  // namespace tailflow::io
