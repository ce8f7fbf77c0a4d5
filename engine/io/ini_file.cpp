#include "engine/io/ini_file.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "engine/error.hpp"

namespace tailflow::io {
namespace {

std::string_view trim(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

// The value part of "key = value  # comment", without the comment and surrounding quotes.
std::string_view value_text(std::string_view text) {
  for (std::size_t i = 1; i < text.size(); ++i)
    if ((text[i] == '#' || text[i] == ';') && (text[i - 1] == ' ' || text[i - 1] == '\t')) {
      text = text.substr(0, i);
      break;
    }
  text = trim(text);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
  return text;
}

}  // namespace

std::string expand_variables(std::string_view text, const VariableLookup& lookup, const std::string& origin) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out += text[i];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      out += '$';
      continue;
    }
    const auto close = text.find('}', i + 2);
    if (close == std::string_view::npos) throw Error(fmt::format("{}: '${{' without a closing '}}'", origin));
    const std::string_view inside = text.substr(i + 2, close - i - 2);
    const auto dash = inside.find(":-");
    const std::string name(inside.substr(0, dash));
    if (!valid_name(name)) throw Error(fmt::format("{}: '${{{}}}' is not a variable name", origin, inside));
    if (auto value = lookup(name)) {
      out += *value;
    } else if (dash != std::string_view::npos) {
      out += expand_variables(inside.substr(dash + 2), lookup, origin);
    } else {
      throw Error(fmt::format(
          "{}: ${{{}}} is neither an earlier top-level key nor an environment variable (use ${{{}:-default}} "
          "for a fallback)",
          origin, name, name));
    }
    i = close;
  }
  return out;
}

std::vector<IniEntry> parse_ini(std::string_view text, const std::string& source) {
  std::vector<IniEntry> entries;
  std::map<std::string, std::string> top_level;
  const VariableLookup lookup = [&](const std::string& name) -> std::optional<std::string> {
    if (auto found = top_level.find(name); found != top_level.end()) return found->second;
    if (const char* value = std::getenv(name.c_str())) return std::string(value);
    return std::nullopt;
  };
  std::string section;
  std::size_t line_number = 0;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    auto end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(begin, end - begin));
    begin = end + 1;
    ++line_number;
    const std::string origin = fmt::format("{}:{}", source, line_number);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') throw Error(fmt::format("{}: a section line must look like [name]", origin));
      section = std::string(trim(line.substr(1, line.size() - 2)));
      if (!valid_name(section))
        throw Error(
            fmt::format("{}: '{}' is not a section name (letters, digits, '-', '_', '.')", origin, section));
      continue;
    }
    const auto equals = line.find('=');
    if (equals == std::string_view::npos)
      throw Error(fmt::format("{}: expected 'key = value' or '[section]', found '{}'", origin, line));
    const std::string key(trim(line.substr(0, equals)));
    if (!valid_name(key)) throw Error(fmt::format("{}: '{}' is not a key name", origin, key));
    std::string value = expand_variables(value_text(line.substr(equals + 1)), lookup, origin);
    if (section.empty()) top_level[key] = value;
    entries.push_back(IniEntry{section, key, std::move(value), origin});
  }
  return entries;
}

std::vector<IniEntry> read_ini_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(fmt::format("cannot open the config file '{}'", path.string()));
  std::ostringstream text;
  text << file.rdbuf();
  return parse_ini(text.str(), path.string());
}

}  // namespace tailflow::io
