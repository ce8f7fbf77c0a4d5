// The configuration of `tailflow pipeline`: top-level settings plus one section per stage, read from an INI
// file (engine/io/ini_file.hpp) and changed by command-line overrides. Every setting remembers its origin
// ("shop.ini:12" or "--set als.factors=32") so that errors can point at it.
//
//   out = out/shop          top-level: where everything goes, the input data, seeds, …
//   [als]                   a stage section: keys are the option names of `tailflow als`
//   factors = 64
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tailflow::jobs {

struct ConfigSetting {
  std::string value;
  std::string origin;
};

class PipelineConfig {
 public:
  // An empty configuration (all defaults).
  PipelineConfig() = default;
  // Error naming the file and line for malformed text.
  static PipelineConfig read(const std::filesystem::path& path);

  // "section.key=value" or "key=value" (top level), as given to --set: replaces every value of that key.
  void apply_override(const std::string& assignment);
  // Replaces every value of `key` in `section` ("" = top level) by `value`.
  void set(const std::string& section, const std::string& key, const std::string& value,
           const std::string& origin);

  // The last value of a key, if set.
  std::optional<ConfigSetting> value(const std::string& section, const std::string& key) const;
  // Every value of a key in order (keys may repeat for multi-valued options).
  std::vector<ConfigSetting> values(const std::string& section, const std::string& key) const;
  bool has_section(const std::string& section) const { return sections_.count(section) > 0; }

  // section -> key -> values, for validation and for building a stage's options.
  const std::map<std::string, std::map<std::string, std::vector<ConfigSetting>>>& sections() const {
    return sections_;
  }
  // The file it was read from, or "" when there is none.
  const std::string& source() const { return source_; }

 private:
  std::map<std::string, std::map<std::string, std::vector<ConfigSetting>>> sections_;
  std::string source_;
};

// "yes"/"true"/"on"/"1" → true, "no"/"false"/"off"/"0" → false; Error naming `origin` otherwise.
bool parse_yes_no(const std::string& value, const std::string& origin);

}  // namespace tailflow::jobs
