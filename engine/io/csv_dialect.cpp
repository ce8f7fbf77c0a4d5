#include "engine/io/csv_dialect.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "engine/error.hpp"
#include "engine/io/parse_number.hpp"

namespace tailflow::io {

const std::vector<std::string>& candidate_separators() {
  static const std::vector<std::string> separators = {"\t", "::", ",", ";"};
  return separators;
}

std::string separator_from_option(const std::string& text) {
  if (text.empty()) throw Error("the separator must not be empty (use ',', 'tab', '::' or ';')");
  if (text == "tab" || text == "\\t" || text == "TAB") return "\t";
  return text;
}

std::string describe_separator(const std::string& separator) {
  if (separator == "\t") return "tab";
  return fmt::format("'{}'", separator);
}

namespace {

// The first occurrence of the separator in [first, last), or `last`.
const char* find_separator(const char* first, const char* last, const std::string& separator) {
  const char lead = separator[0];
  if (separator.size() == 1) {
    const void* hit = std::memchr(first, lead, static_cast<std::size_t>(last - first));
    return hit ? static_cast<const char*>(hit) : last;
  }
  const std::size_t length = separator.size();
  while (first < last) {
    const void* hit = std::memchr(first, lead, static_cast<std::size_t>(last - first));
    if (!hit) return last;
    const char* at = static_cast<const char*>(hit);
    if (static_cast<std::size_t>(last - at) >= length && std::memcmp(at, separator.data(), length) == 0)
      return at;
    first = at + 1;
  }
  return last;
}

bool starts_with_separator(const char* at, const char* last, const std::string& separator) {
  return static_cast<std::size_t>(last - at) >= separator.size() &&
         std::memcmp(at, separator.data(), separator.size()) == 0;
}

}  // namespace

SplitResult split_fields(std::string_view line, const CsvDialect& dialect,
                         std::vector<std::string_view>& fields, std::string& scratch) {
  fields.clear();
  bool scratch_ready = false;
  const char* at = line.data();
  const char* last = line.data() + line.size();
  const std::string& separator = dialect.separator;
  const char quote = dialect.quote;
  while (true) {
    const char* start = at;
    while (start < last && *start == ' ') ++start;
    if (start < last && *start == quote) {
      // Quoted field: runs to the next lone quote; "" inside stands for one quote character.
      const char* body = start + 1;
      const char* cursor = body;
      bool escaped = false;
      const char* closing = nullptr;
      while (cursor < last) {
        const void* hit = std::memchr(cursor, quote, static_cast<std::size_t>(last - cursor));
        if (!hit) break;
        const char* q = static_cast<const char*>(hit);
        if (q + 1 < last && q[1] == quote) {
          escaped = true;
          cursor = q + 2;
          continue;
        }
        closing = q;
        break;
      }
      if (!closing) return {SplitStatus::kUnterminatedQuote, fields.size()};
      if (!escaped) {
        fields.emplace_back(body, static_cast<std::size_t>(closing - body));
      } else {
        // Unescape into scratch. Reserving the whole line once keeps earlier views into scratch valid.
        if (!scratch_ready) {
          scratch.clear();
          scratch.reserve(line.size());
          scratch_ready = true;
        }
        std::size_t begin = scratch.size();
        for (const char* c = body; c < closing; ++c) {
          scratch.push_back(*c);
          if (*c == quote) ++c;  // skip the second quote of a pair
        }
        fields.emplace_back(scratch.data() + begin, scratch.size() - begin);
      }
      at = closing + 1;
      while (at < last && *at == ' ') ++at;
      if (at == last) return {};
      if (!starts_with_separator(at, last, separator))
        return {SplitStatus::kTextAfterQuote, fields.size() - 1};
      at += separator.size();
      continue;
    }
    const char* end = find_separator(at, last, separator);
    fields.push_back(trim_spaces(std::string_view(at, static_cast<std::size_t>(end - at))));
    if (end == last) return {};
    at = end + separator.size();
  }
}

std::string describe_split_failure(const SplitResult& result, const CsvDialect& dialect) {
  switch (result.status) {
    case SplitStatus::kUnterminatedQuote:
      return fmt::format(
          "field {} opens a quote ({}) that is not closed on this line (line breaks inside quoted fields are "
          "not "
          "supported: the parallel reader splits files at line breaks)",
          result.field + 1, dialect.quote);
    case SplitStatus::kTextAfterQuote:
      return fmt::format("field {} has text after its closing quote (expected the separator {})",
                         result.field + 1, describe_separator(dialect.separator));
    case SplitStatus::kOk:
      break;
  }
  return "no error";
}

namespace {

struct SampleLine {
  std::string_view text;
  std::uint64_t number;  // 1-based
};

std::vector<SampleLine> sample_lines(std::string_view sample, bool complete, std::size_t limit) {
  std::vector<SampleLine> lines;
  std::uint64_t number = 0;
  while (!sample.empty() && lines.size() < limit) {
    std::size_t end = sample.find('\n');
    if (end == std::string_view::npos && !complete) break;  // a line cut by the end of the sample
    std::string_view line = sample.substr(0, end);
    ++number;
    if (!is_blank(line)) lines.push_back({strip_carriage_return(line), number});
    if (end == std::string_view::npos) break;
    sample.remove_prefix(end + 1);
  }
  return lines;
}

// Field counts per sample line under `separator`; empty if some line cannot be split.
std::vector<std::size_t> field_counts(const std::vector<SampleLine>& lines, const std::string& separator) {
  CsvDialect dialect;
  dialect.separator = separator;
  std::vector<std::string_view> fields;
  std::string scratch;
  std::vector<std::size_t> counts;
  for (const auto& line : lines) {
    if (split_fields(line.text, dialect, fields, scratch).status != SplitStatus::kOk) return {};
    counts.push_back(fields.size());
  }
  return counts;
}

std::string choose_separator(const std::vector<SampleLine>& lines) {
  // Best: a separator that splits every line into the same number (>= 2) of fields; the most fields wins.
  std::string best;
  std::size_t best_fields = 1;
  for (const auto& candidate : candidate_separators()) {
    auto counts = field_counts(lines, candidate);
    if (counts.empty()) continue;
    bool consistent =
        std::all_of(counts.begin(), counts.end(), [&](std::size_t c) { return c == counts[0]; });
    if (consistent && counts[0] > best_fields) {
      best = candidate;
      best_fields = counts[0];
    }
  }
  if (!best.empty()) return best;
  // Otherwise the one that splits the first line most (the file has ragged rows the reader will report).
  for (const auto& candidate : candidate_separators()) {
    auto counts = field_counts({lines.front()}, candidate);
    if (!counts.empty() && counts[0] > best_fields) {
      best = candidate;
      best_fields = counts[0];
    }
  }
  return best.empty() ? std::string(",") : best;
}

bool is_numeric(std::string_view field) {
  double value;
  return parse_number(field, value) == NumberError::kNone;
}

bool looks_like_header(const std::vector<SampleLine>& lines, const CsvDialect& dialect) {
  std::vector<std::string_view> first;
  std::string first_scratch;
  if (split_fields(lines.front().text, dialect, first, first_scratch).status != SplitStatus::kOk)
    return false;
  for (auto field : first)
    if (field.empty() || is_numeric(field)) return false;
  // Names must be distinct to select columns by them.
  std::vector<std::string_view> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return false;
  // A first line of names is the likelier reading either way: if a column is numeric below it, the first line
  // is surely a header; if no column is, the names are at least as likely a header as a row of string ids.
  return true;
}

}  // namespace

CsvLayout detect_layout(std::string_view sample, bool complete, const std::optional<std::string>& separator,
                        HeaderMode header) {
  CsvLayout layout;
  if (sample.substr(0, kUtf8Bom.size()) == kUtf8Bom) {
    layout.bom_bytes = kUtf8Bom.size();
    sample.remove_prefix(kUtf8Bom.size());
  }
  auto lines = sample_lines(sample, complete, 200);
  if (lines.empty()) return layout;
  layout.empty = false;
  layout.dialect.separator = separator ? *separator : choose_separator(lines);

  std::vector<std::string_view> fields;
  std::string scratch;
  split_fields(lines.front().text, layout.dialect, fields, scratch);
  layout.field_count = fields.size();
  switch (header) {
    case HeaderMode::kPresent:
      layout.dialect.has_header = true;
      break;
    case HeaderMode::kAbsent:
      layout.dialect.has_header = false;
      break;
    case HeaderMode::kAuto:
      layout.dialect.has_header = looks_like_header(lines, layout.dialect);
      break;
  }
  if (layout.dialect.has_header) {
    layout.header.assign(fields.begin(), fields.end());
    layout.header_line = lines.front().number;
  }
  return layout;
}

}  // namespace tailflow::io
