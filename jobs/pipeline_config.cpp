#include "jobs/pipeline_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "engine/error.hpp"
#include "engine/io/ini_file.hpp"

namespace tailflow::jobs {

PipelineConfig PipelineConfig::read(const std::filesystem::path& path) {
  PipelineConfig config;
  config.source_ = path.string();
  for (auto& entry : io::read_ini_file(path))
    config.sections_[entry.section][entry.key].push_back({std::move(entry.value), std::move(entry.origin)});
  return config;
}

void PipelineConfig::apply_override(const std::string& assignment) {
  const std::string origin = fmt::format("--set {}", assignment);
  const auto equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0)
    throw Error(fmt::format("{}: expected SECTION.KEY=VALUE (e.g. als.factors=32) or KEY=VALUE", origin));
  std::string name = assignment.substr(0, equals);
  std::string section;
  if (const auto dot = name.find('.'); dot != std::string::npos) {
    section = name.substr(0, dot);
    name = name.substr(dot + 1);
  }
  if (name.empty()) throw Error(fmt::format("{}: no key after the section name", origin));
  set(section, name, assignment.substr(equals + 1), origin);
}

void PipelineConfig::set(const std::string& section, const std::string& key, const std::string& value,
                         const std::string& origin) {
  sections_[section][key] = {ConfigSetting{value, origin}};
}

std::optional<ConfigSetting> PipelineConfig::value(const std::string& section, const std::string& key) const {
  auto all = values(section, key);
  if (all.empty()) return std::nullopt;
  return all.back();
}

std::vector<ConfigSetting> PipelineConfig::values(const std::string& section, const std::string& key) const {
  const auto found_section = sections_.find(section);
  if (found_section == sections_.end()) return {};
  const auto found = found_section->second.find(key);
  if (found == found_section->second.end()) return {};
  return found->second;
}

bool parse_yes_no(const std::string& value, const std::string& origin) {
  std::string lower = value;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "yes" || lower == "true" || lower == "on" || lower == "1") return true;
  if (lower == "no" || lower == "false" || lower == "off" || lower == "0") return false;
  throw Error(fmt::format("{}: expected yes or no, not '{}'", origin, value));
}

}  // namespace tailflow::jobs
