// `tailflow`: one command, one subcommand per job. Runs the same alone, under mpirun, or under srun.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "engine/comm/mpi_communicator.hpp"
#include "engine/comm/mpi_environment.hpp"
#include "engine/error.hpp"
#include "engine/huge_pages.hpp"
#include "engine/stop_request.hpp"
#include "jobs/subcommand.hpp"

namespace tailflow::jobs {
namespace {

std::string usage() {
  std::string text = fmt::format(
      "tailflow {} — recommendations for the whole catalog, long tail included\n\n"
      "usage: tailflow <subcommand> [options]      (also under mpirun -n N or srun)\n"
      "       tailflow <subcommand> --help\n\nsubcommands:\n",
      TAILFLOW_VERSION);
  for (const auto& [name, sub] : subcommand_registry())
    text += fmt::format("  {:<18} {}\n", name, sub.summary);
  return text;
}

// "bench" groups its subcommands: `tailflow bench als` is looked up as "bench als".
std::string subcommand_name(int argc, char** argv, int& consumed) {
  std::string name = argv[1];
  consumed = 2;
  if (name == "bench" && argc > 2 && argv[2][0] != '-') {
    name += std::string(" ") + argv[2];
    consumed = 3;
  }
  return name;
}

po::options_description common_options() {
  po::options_description common("common options");
  common.add_options()("help,h", "show this help")("config", po::value<std::string>(),
                                                   "read options from an INI-style file (command line wins)")(
      "verbose,v", "per-rank detail in the log")("quiet,q", "no progress lines, only results and errors");
  return common;
}

int run_subcommand(Context& ctx, const Subcommand& sub, int argc, char** argv) {
  po::options_description options(fmt::format("tailflow {} — {}\n\noptions", sub.name, sub.summary));
  sub.add_options(options);
  options.add(common_options());
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(options).run(), vm);
  if (vm.count("help")) {
    if (ctx.is_root()) std::cout << options << "\n";
    return 0;
  }
  if (vm.count("config") && !sub.reads_own_config) {
    std::string path = vm["config"].as<std::string>();
    std::ifstream config(path);
    if (!config) throw Error(fmt::format("cannot open config file '{}'", path));
    // Values already given on the command line are kept: store() never overwrites.
    po::store(po::parse_config_file(config, options, /*allow_unregistered=*/false), vm);
  }
  po::notify(vm);
  ctx.log().set_verbose(vm.count("verbose") > 0);
  ctx.log().set_quiet(vm.count("quiet") > 0);
  int status = sub.run(ctx, vm);
  if (!ctx.metrics().stages().empty()) {
    std::string table = stage_table(ctx.comm(), ctx.metrics());
    if (ctx.is_root() && vm.count("quiet") == 0) std::fputs(("\n" + table).c_str(), stderr);
  }
  return status;
}

}  // namespace
}  // namespace tailflow::jobs

int main(int argc, char** argv) {
  using namespace tailflow;
  using namespace tailflow::jobs;
  reexec_with_huge_pages(argv);
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << usage();
    return argc < 2 ? 2 : 0;
  }
  if (std::string(argv[1]) == "--version") {
    std::cout << "tailflow " << TAILFLOW_VERSION << "\n";
    return 0;
  }
  int consumed = 0;
  std::string name = subcommand_name(argc, argv, consumed);
  auto found = subcommand_registry().find(name);
  if (found == subcommand_registry().end()) {
    std::cerr << "tailflow: unknown subcommand '" << name << "'\n\n" << usage();
    return 2;
  }

  comm::MpiEnvironment mpi(argc, argv);
  install_stop_signal_handlers();
  int rank = 0;
  int size = 1;
  try {
    comm::MpiCommunicator world;
    rank = world.rank();
    size = world.size();
    Context ctx(world);
    // Subcommand options start after the subcommand's name; argv[0] stays as the program name.
    std::vector<char*> args = {argv[0]};
    for (int i = consumed; i < argc; ++i) args.push_back(argv[i]);
    try {
      return run_subcommand(ctx, found->second, static_cast<int>(args.size()), args.data());
    } catch (const StopRequested&) {
      // Every rank stops at the same point (the decision is collective). Once all have got here, every
      // checkpoint is complete, so a rank killed while it shuts down has lost nothing.
      world.barrier();
      mark_stop_checkpointed();
      throw;
    }
  } catch (const po::error& e) {
    // Every rank parsed the same options, so every rank is here: report once, end normally.
    if (rank == 0)
      std::fprintf(stderr, "tailflow %s: %s (see tailflow %s --help)\n", name.c_str(), e.what(),
                   name.c_str());
    return 2;
  } catch (const StopRequested& e) {
    // Every rank agreed to stop (stop_requested is collective) and the checkpoint is written.
    if (rank == 0) std::fprintf(stderr, "tailflow %s: stopped: %s\n", name.c_str(), e.what());
    return kExitStopped;
  } catch (const CollectiveError& e) {
    if (rank == 0) std::fprintf(stderr, "tailflow %s: error: %s\n", name.c_str(), e.what());
    return 1;
  } catch (const std::exception& e) {
    // Only this rank may know: print and take the whole job down, so no rank waits forever.
    if (size > 1)
      std::fprintf(stderr, "tailflow %s: error on rank %d of %d: %s\n", name.c_str(), rank, size, e.what());
    else
      std::fprintf(stderr, "tailflow %s: error: %s\n", name.c_str(), e.what());
    std::fflush(stderr);
    if (size > 1) comm::MpiEnvironment::abort_job(1);
    return 1;
  }
}
