#include "operators/learning/key_value_file.hpp"

#include <fmt/format.h>

#include <charconv>
#include <fstream>

#include "engine/error.hpp"
#include "engine/io/atomic_output.hpp"

namespace tailflow::ops::learning {
namespace {

std::string trim(const std::string& text) {
  const char* space = " \t\r\n";
  auto begin = text.find_first_not_of(space);
  if (begin == std::string::npos) return "";
  auto end = text.find_last_not_of(space);
  return text.substr(begin, end - begin + 1);
}

}  // namespace

KeyValues read_key_value_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw Error(fmt::format("cannot open '{}'", path));
  KeyValues values;
  std::string line;
  std::uint64_t line_number = 0;
  while (std::getline(file, line)) {
    ++line_number;
    std::string content = trim(line);
    if (content.empty() || content.front() == '#') continue;
    auto equals = content.find('=');
    if (equals == std::string::npos) throw InputError(path, line_number, "expected 'key = value'");
    values[trim(content.substr(0, equals))] = trim(content.substr(equals + 1));
  }
  return values;
}

void write_key_value_file(const std::string& path, const KeyValues& values) {
  io::AtomicOutput output(path);
  {
    std::ofstream file(output.temporary_path());
    for (const auto& [key, value] : values) file << key << " = " << value << '\n';
    if (!file) throw Error(fmt::format("cannot write '{}'", output.temporary_path().string()));
  }
  output.commit();
}

std::string required_value(const KeyValues& values, const std::string& key) {
  auto found = values.find(key);
  if (found == values.end()) throw Error(fmt::format("missing setting '{}'", key));
  return found->second;
}

std::int64_t parse_int(const std::string& key, const std::string& text) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size())
    throw Error(fmt::format("setting '{}': '{}' is not an integer", key, text));
  return value;
}

double parse_double(const std::string& key, const std::string& text) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size())
    throw Error(fmt::format("setting '{}': '{}' is not a number", key, text));
  return value;
}

bool parse_bool(const std::string& key, const std::string& text) {
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  throw Error(fmt::format("setting '{}': '{}' is not true or false", key, text));
}

std::string format_double(double value) {
  return fmt::format("{}", value);  // fmt's shortest representation that reads back exactly
}

std::string join(const std::vector<std::string>& parts, char separator) {
  std::string text;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) text += separator;
    text += parts[i];
  }
  return text;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  if (text.empty()) return parts;
  std::size_t begin = 0;
  while (true) {
    auto end = text.find(separator, begin);
    parts.push_back(trim(text.substr(begin, end == std::string::npos ? std::string::npos : end - begin)));
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  return parts;
}

}  // namespace tailflow::ops::learning
