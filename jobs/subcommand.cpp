#include "jobs/subcommand.hpp"

namespace tailflow::jobs {

std::map<std::string, Subcommand>& subcommand_registry() {
  static std::map<std::string, Subcommand> registry;
  return registry;
}

}  // namespace tailflow::jobs
