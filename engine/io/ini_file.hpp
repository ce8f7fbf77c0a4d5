// INI-style configuration files that remember where each value came from, so that a bad key or value can
// be reported as "file:line". `tailflow pipeline` reads its configuration (one section per stage) this way.
//
//   # a comment (also ';'); a '#' after whitespace ends a value
//   out = runs/shop                      top-level keys (section "")
//   data = ${DATASETS:-../shared/datasets}/ml-latest-small
//   [als]
//   factors = 64
//   tags = ${data}/tags.csv              ${NAME}: an earlier top-level key, else the environment variable;
//                                        ${NAME:-default} when neither is set
//
// Keys may repeat (a multi-valued option); the caller decides what that means. Values may be quoted ("…").
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tailflow::io {

struct IniEntry {
  std::string section;  // "" for keys before the first [section]
  std::string key;
  std::string value;   // variables expanded
  std::string origin;  // "file.ini:12"
};

// Looks a variable up: nothing when it is not defined.
using VariableLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Expands ${NAME} and ${NAME:-default} in `text` with `lookup`; `origin` names the place in error messages.
// "$$" is a literal '$'.
std::string expand_variables(std::string_view text, const VariableLookup& lookup, const std::string& origin);

// Parses INI text; `source` names it in origins and errors. Variables resolve to earlier top-level keys,
// then to the environment.
std::vector<IniEntry> parse_ini(std::string_view text, const std::string& source);

// Reads and parses a file; Error if it cannot be read or is malformed (naming file and line).
std::vector<IniEntry> read_ini_file(const std::filesystem::path& path);

}  // namespace tailflow::io
