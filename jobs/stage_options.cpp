#include "jobs/stage_options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "engine/error.hpp"
#include "jobs/pipeline_config.hpp"

namespace tailflow::jobs {
namespace {

namespace style = po::command_line_style;

// Exact option names only: a config key must never be taken as an abbreviation of another option.
constexpr int kParserStyle = style::default_style & ~style::allow_guessing;

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

bool is_flag(const po::option_description& option) {
  return option.semantic()->max_tokens() == 0;
}

// The command-line tokens of one option.
std::vector<std::string> tokens_of(const po::option_description& description, const OptionValue& option) {
  const std::string name = "--" + option.key;
  if (is_flag(description)) {
    if (option.values.size() != 1)
      throw Error(fmt::format("{}: '{}' is a yes/no switch and takes one value", option.origin, option.key));
    if (parse_yes_no(option.values.front(), option.origin + ": " + option.key)) return {name};
    return {};
  }
  const bool several = description.semantic()->max_tokens() > 1;
  std::vector<std::string> values = option.values;
  if (several && values.size() == 1) values = split_words(values.front());  // "tags = a.csv b.csv"
  if (values.size() > 1) {
    std::vector<std::string> tokens;
    if (several) {  // multitoken: "--tags a.csv b.csv"
      tokens.push_back(name);
      tokens.insert(tokens.end(), values.begin(), values.end());
    } else {  // repeated: "--source=a --source=b" (the parser refuses it for a single-valued option)
      for (const auto& value : values) tokens.push_back(name + "=" + value);
    }
    return tokens;
  }
  if (values.empty()) return {};
  return {name + "=" + values.front()};  // '=' keeps values like "-1" from looking like options
}

void parse_into(const po::options_description& description, const std::vector<std::string>& tokens,
                po::variables_map& values) {
  po::store(po::command_line_parser(tokens).options(description).style(kParserStyle).run(), values);
}

std::string text_of(const boost::any& value) {
  if (value.empty()) return "(set)";
  if (const auto* v = boost::any_cast<std::string>(&value)) return *v;
  if (const auto* v = boost::any_cast<bool>(&value)) return *v ? "true" : "false";
  if (const auto* v = boost::any_cast<int>(&value)) return fmt::format("{}", *v);
  if (const auto* v = boost::any_cast<std::int64_t>(&value)) return fmt::format("{}", *v);
  if (const auto* v = boost::any_cast<std::uint64_t>(&value)) return fmt::format("{}", *v);
  if (const auto* v = boost::any_cast<std::uint32_t>(&value)) return fmt::format("{}", *v);
  if (const auto* v = boost::any_cast<double>(&value)) return fmt::format("{}", *v);
  if (const auto* v = boost::any_cast<float>(&value)) return fmt::format("{}", *v);
  if (const auto* v = boost::any_cast<std::vector<std::string>>(&value))
    return fmt::format("{}", fmt::join(*v, " "));
  throw Error(
      fmt::format("internal: an option value of type {} cannot be fingerprinted", value.type().name()));
}

}  // namespace

po::options_description subcommand_options(const Subcommand& subcommand) {
  po::options_description description(fmt::format("tailflow {}", subcommand.name));
  subcommand.add_options(description);
  return description;
}

std::vector<std::string> option_names(const Subcommand& subcommand) {
  const po::options_description description = subcommand_options(subcommand);
  std::vector<std::string> names;
  for (const auto& option : description.options()) names.push_back(option->long_name());
  std::sort(names.begin(), names.end());
  return names;
}

bool has_option(const Subcommand& subcommand, const std::string& key) {
  return subcommand_options(subcommand).find_nothrow(key, /*approx=*/false) != nullptr;
}

BuiltOptions build_options(const Subcommand& subcommand, const std::string& section,
                           const std::vector<OptionValue>& options) {
  const po::options_description description = subcommand_options(subcommand);
  // The last entry of a key wins (derived values come after the config's).
  std::map<std::string, const OptionValue*> last;
  std::vector<std::string> order;
  for (const auto& option : options) {
    if (!last.count(option.key)) order.push_back(option.key);
    last[option.key] = &option;
  }
  BuiltOptions built;
  for (const auto& key : order) {
    const OptionValue& option = *last[key];
    const auto* found = description.find_nothrow(key, /*approx=*/false);
    if (!found)
      throw Error(fmt::format(
          "{}: [{}] has no key '{}'; the keys of [{}] are the options of `tailflow {}`: {}", option.origin,
          section, key, section, subcommand.name, fmt::join(option_names(subcommand), ", ")));
    const auto tokens = tokens_of(*found, option);
    // Parse each option alone first, so that a bad value is reported at its origin.
    try {
      po::variables_map scratch;
      parse_into(description, tokens, scratch);
    } catch (const po::error& e) {
      throw Error(fmt::format("{}: [{}] {} = {}: {}", option.origin, section, key,
                              fmt::join(option.values, " "), e.what()));
    }
    built.arguments.insert(built.arguments.end(), tokens.begin(), tokens.end());
  }
  try {
    parse_into(description, built.arguments, built.values);
    po::notify(built.values);
  } catch (const po::error& e) {
    throw Error(fmt::format("[{}] (tailflow {}): {}", section, subcommand.name, e.what()));
  }
  return built;
}

std::string canonical_option_text(const po::variables_map& values, const std::set<std::string>& excluded) {
  std::string text;
  for (const auto& [key, value] : values) {  // std::map: sorted by key
    if (excluded.count(key)) continue;
    text += key + "=" + text_of(value.value()) + "\n";
  }
  return text;
}

}  // namespace tailflow::jobs
