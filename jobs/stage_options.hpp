// The options of one stage of `tailflow pipeline`, built the way its subcommand would parse them.
//
// A stage calls a registered subcommand in-process. Its options come from the stage's config section and from
// the values the pipeline derives (input and output paths, --resume); they are parsed with the subcommand's
// own option description, so every option of every subcommand is available in the config file and is checked
// exactly as on the command line, and defaults are the subcommand's defaults.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "jobs/subcommand.hpp"

namespace tailflow::jobs {

// One option as the pipeline hands it over: several values for a repeated (multi-valued) option; a flag takes
// yes/no.
struct OptionValue {
  std::string key;
  std::vector<std::string> values;
  std::string origin;  // "shop.ini:12", "--set als.factors=8" or "pipeline"
};

struct BuiltOptions {
  po::variables_map values;            // defaults included, notified (required options checked)
  std::vector<std::string> arguments;  // the equivalent command line, for logs and stage records
};

// The subcommand's option description (as `tailflow <name> --help` shows it).
po::options_description subcommand_options(const Subcommand& subcommand);

// The option names of a subcommand, sorted.
std::vector<std::string> option_names(const Subcommand& subcommand);

bool has_option(const Subcommand& subcommand, const std::string& key);

// Parses `options` (later entries win over earlier ones with the same key) as `tailflow <subcommand>` would.
// A bad key or value is an Error naming its origin, the config section and the valid keys.
BuiltOptions build_options(const Subcommand& subcommand, const std::string& section,
                           const std::vector<OptionValue>& options);

// Every option's effective value (defaults included) as sorted "key=value" lines, leaving out `excluded`:
// the text a stage fingerprint hashes.
std::string canonical_option_text(const po::variables_map& values, const std::set<std::string>& excluded);

}  // namespace tailflow::jobs
