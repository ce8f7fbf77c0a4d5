#include "jobs/id_list_file.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>
#include <optional>

#include "engine/error.hpp"

namespace tailflow::jobs {
namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\"");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\"");
  return text.substr(first, last - first + 1);
}

std::vector<std::string> split_fields(const std::string& line, char separator) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (true) {
    const auto end = line.find(separator, start);
    fields.push_back(trimmed(line.substr(start, end == std::string::npos ? std::string::npos : end - start)));
    if (end == std::string::npos) return fields;
    start = end + 1;
  }
}

bool is_id_column_name(const std::string& field, const std::vector<std::string>& column_names) {
  const std::string name = lowercase(field);
  return std::any_of(column_names.begin(), column_names.end(),
                     [&](const std::string& candidate) { return lowercase(candidate) == name; });
}

}  // namespace

std::vector<std::string> read_id_list(const std::filesystem::path& path,
                                      const std::vector<std::string>& column_names) {
  std::ifstream in(path);
  if (!in) throw InputError(path.string(), 0, "cannot open the id list");
  std::vector<std::string> ids;
  std::unordered_set<std::string> seen;
  std::string line;
  std::uint64_t line_number = 0;
  char separator = 0;         // set when the file is a CSV/TSV with a header
  std::size_t id_column = 0;  // in a CSV/TSV
  while (std::getline(in, line)) {
    ++line_number;
    if (trimmed(line).empty()) continue;
    if (line_number == 1) {
      separator = line.find('\t') != std::string::npos ? '\t' : line.find(',') != std::string::npos ? ',' : 0;
      const auto fields = separator ? split_fields(line, separator) : std::vector<std::string>{trimmed(line)};
      const auto column = std::find_if(fields.begin(), fields.end(), [&](const std::string& field) {
        return is_id_column_name(field, column_names);
      });
      if (column != fields.end()) {
        id_column = static_cast<std::size_t>(column - fields.begin());
        continue;  // a header
      }
      if (separator)
        throw InputError(path.string(), 1,
                         fmt::format("a multi-column id list needs a header naming the id column ({})",
                                     fmt::join(column_names, ", ")));
    }
    std::string id;
    if (separator) {
      const auto fields = split_fields(line, separator);
      if (id_column >= fields.size())
        throw InputError(path.string(), line_number, fmt::format("has no column {}", id_column + 1));
      id = fields[id_column];
    } else {
      id = trimmed(line);
    }
    if (id.empty()) throw InputError(path.string(), line_number, "the id is empty");
    if (seen.insert(id).second) ids.push_back(std::move(id));
  }
  return ids;
}

std::vector<std::uint64_t> rows_with_ids(const std::vector<std::string>& row_ids,
                                         const std::unordered_set<std::string>& wanted) {
  std::vector<std::uint64_t> rows;
  for (std::size_t row = 0; row < row_ids.size(); ++row)
    if (wanted.count(row_ids[row])) rows.push_back(row);
  return rows;
}

}  // namespace tailflow::jobs
