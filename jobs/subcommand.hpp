// The registry of `tailflow` subcommands.
//
// Each subcommand lives in its own file and registers itself with a static SubcommandRegistration, naming
// its options and its run function. main.cpp does the rest: option parsing (command line, then --config file;
// the command line wins), --help, MPI start-up, error reporting and the final stage table.
#pragma once

#include <boost/program_options.hpp>
#include <functional>
#include <map>
#include <string>

#include "engine/context.hpp"

namespace tailflow::jobs {

namespace po = boost::program_options;

struct Subcommand {
  std::string name;     // as typed: "generate", "bench shuffle"
  std::string summary;  // one line for `tailflow --help`
  std::function<void(po::options_description&)> add_options;
  // Returns the process exit status (0 on success).
  std::function<int(Context&, const po::variables_map&)> run;
  // True when the subcommand reads its --config file itself (`pipeline`: one section per stage) instead of
  // main() reading it as more of its options.
  bool reads_own_config = false;
};

std::map<std::string, Subcommand>& subcommand_registry();

struct SubcommandRegistration {
  explicit SubcommandRegistration(Subcommand subcommand) {
    subcommand_registry().emplace(subcommand.name, std::move(subcommand));
  }
};

}  // namespace tailflow::jobs
