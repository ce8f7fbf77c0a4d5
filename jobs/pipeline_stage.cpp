#include "jobs/pipeline_stage.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/json_writer.hpp"
#include "engine/stage_metrics.hpp"
#include "engine/stop_request.hpp"
#include "jobs/stage_fingerprint.hpp"
#include "jobs/stdout_redirect.hpp"

namespace tailflow::jobs {
namespace {

namespace fs = std::filesystem;

const Subcommand& registered(const std::string& name) {
  const auto found = subcommand_registry().find(name);
  if (found == subcommand_registry().end()) throw Error(fmt::format("internal: no subcommand '{}'", name));
  return found->second;
}

// The options of one call, with what this run adds (--force for the features cache, --resume).
BuiltOptions options_for_run(const Invocation& invocation, bool forced, bool resume) {
  const Subcommand& subcommand = registered(invocation.subcommand);
  std::vector<OptionValue> options = invocation.options;
  if (forced && has_option(subcommand, "force")) options.push_back({"force", {"yes"}, "pipeline"});
  if (resume && has_option(subcommand, "resume")) options.push_back({"resume", {"yes"}, "pipeline"});
  return build_options(subcommand, invocation.subcommand, options);
}

// Raw input files named in the config (paths the pipeline derives are fingerprinted through upstream stages).
std::vector<fs::path> files_named_by(const Invocation& invocation) {
  std::vector<fs::path> files;
  for (const auto& option : invocation.options) {
    if (option.origin == "pipeline") continue;
    for (const auto& value : option.values) {
      std::istringstream words(value);
      for (std::string word; words >> word;) {
        std::error_code error;
        if (fs::is_regular_file(word, error)) files.emplace_back(word);
      }
    }
  }
  return files;
}

std::string now_text() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string short_fingerprint(const std::string& fingerprint) {
  return fingerprint.substr(0, 12);
}

// Runs `step` on rank 0; its Error becomes one CollectiveError on every rank.
template <class Step>
void on_root(Context& ctx, Step&& step) {
  std::string error;
  if (ctx.is_root()) {
    try {
      step();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  ctx.check_collectively(error);
}

bool broadcast_flag(Context& ctx, bool flag) {
  std::uint64_t value = flag ? 1 : 0;
  comm::broadcast(ctx.comm(), std::span<std::uint64_t>(&value, 1), 0);
  return value != 0;
}

}  // namespace

const std::set<std::string>& run_control_options() {
  static const std::set<std::string> options = {"resume", "checkpoint-every", "max-epochs-this-run",
                                                "threads-per-rank", "force"};
  return options;
}

void validate_stage(const StageSpec& stage) {
  for (const auto& invocation : stage.invocations) options_for_run(invocation, false, false);
}

std::string stage_fingerprint(Context& ctx, const StageSpec& stage,
                              const std::map<std::string, std::string>& upstream_runs) {
  std::string fingerprint;
  on_root(ctx, [&] {
    FingerprintBuilder builder;
    builder.add("stage", stage.name);
    for (const auto& invocation : stage.invocations) {
      std::set<std::string> excluded = invocation.excluded;
      excluded.insert(run_control_options().begin(), run_control_options().end());
      const BuiltOptions built = options_for_run(invocation, false, false);
      builder.add("options of " + invocation.subcommand + " " + invocation.log_name,
                  canonical_option_text(built.values, excluded));
      for (const auto& file : files_named_by(invocation)) builder.add_file(file);
    }
    for (const auto& name : stage.upstream) {
      const auto found = upstream_runs.find(name);
      builder.add("upstream " + name, found == upstream_runs.end() ? "none" : found->second);
    }
    for (const auto& file : stage.input_files) builder.add_file(file);
    for (const auto& setting : stage.settings) builder.add("setting", setting);
    fingerprint = builder.hex();
  });
  return comm::broadcast_string(ctx.comm(), fingerprint, 0);
}

StageOutcome run_stage(Context& ctx, const StageSpec& stage,
                       const std::map<std::string, std::string>& upstream_runs,
                       const StageRunSettings& settings) {
  StageOutcome outcome;
  const std::string fingerprint = stage_fingerprint(ctx, stage, upstream_runs);
  std::string recorded, recorded_run;
  bool outputs_exist = true;
  if (ctx.is_root()) {
    if (auto record = read_stage_record(stage.dir)) {
      recorded = record->fingerprint;
      recorded_run = record->run;
    }
    for (const auto& output : stage.outputs) outputs_exist = outputs_exist && fs::exists(output);
  }
  recorded = comm::broadcast_string(ctx.comm(), recorded, 0);
  recorded_run = comm::broadcast_string(ctx.comm(), recorded_run, 0);
  outputs_exist = broadcast_flag(ctx, outputs_exist);

  if (!settings.selected) {
    // Left as it is; downstream stages chain what its outputs were made with.
    ctx.log().info("pipeline: {} skip {}: outside --from/--until{}", settings.label, stage.name,
                   recorded.empty() ? " (it has not finished a run yet)" : "");
    outcome.result = StageResult::kNotSelected;
    outcome.run = recorded_run.empty() ? "none" : recorded_run;
    return outcome;
  }
  if (!settings.forced && recorded == fingerprint && outputs_exist) {
    ctx.log().info("pipeline: {} skip {}: unchanged (fingerprint {})", settings.label, stage.name,
                   short_fingerprint(fingerprint));
    outcome.result = StageResult::kSkipped;
    outcome.run = recorded_run;
    return outcome;
  }

  // Prepare: no record while running; resume only from checkpoints of these very settings.
  const fs::path pending_path = stage.dir / "stage.pending";
  bool resume = false;
  on_root(ctx, [&] {
    fs::create_directories(stage.dir);
    fs::remove(stage_record_path(stage.dir));
    std::string pending;
    if (std::ifstream in(pending_path); in) std::getline(in, pending);
    const fs::path checkpoints =
        stage.checkpoint_subdir.empty() ? fs::path() : stage.dir / stage.checkpoint_subdir;
    resume = !settings.forced && !checkpoints.empty() && pending == fingerprint && fs::exists(checkpoints);
    if (!checkpoints.empty() && !resume) fs::remove_all(checkpoints);
    for (const auto& invocation : stage.invocations) fs::remove(stage.dir / (invocation.log_name + ".log"));
    std::ofstream out(pending_path, std::ios::trunc);
    out << fingerprint << "\n";
    if (!out) throw Error(fmt::format("cannot write '{}'", pending_path.string()));
  });
  resume = broadcast_flag(ctx, resume);
  const char* why = settings.forced           ? "forced"
                    : recorded.empty()        ? "no record of a finished run"
                    : recorded != fingerprint ? "settings or inputs changed"
                                              : "outputs missing";
  ctx.log().info("pipeline: {} run {} ({}{}; fingerprint {})", settings.label, stage.name, why,
                 resume ? "; resuming from its checkpoint" : "", short_fingerprint(fingerprint));

  Stopwatch watch;
  std::vector<std::string> commands;
  for (const auto& invocation : stage.invocations) {
    const Subcommand& subcommand = registered(invocation.subcommand);
    const BuiltOptions built = options_for_run(invocation, settings.forced, resume);
    const std::string command =
        fmt::format("tailflow {} {}", invocation.subcommand, fmt::join(built.arguments, " "));
    ctx.log().debug("pipeline: {}", command);
    commands.push_back(command);
    Context stage_ctx(ctx.comm(), settings.verbose);
    stage_ctx.log().set_quiet(settings.quiet);
    int status = 0;
    try {
      std::optional<StdoutRedirect> redirect;
      if (ctx.is_root()) redirect.emplace(stage.dir / (invocation.log_name + ".log"));
      status = subcommand.run(stage_ctx, built.values);
    } catch (const StopRequested&) {
      // Not handled here: the job ends with status 75 and the next run resumes this stage.
      ctx.log().info("pipeline: {} {} stopped after {:.1f} s; run the pipeline again to resume it",
                     settings.label, stage.name, watch.seconds());
      throw;
    }
    status = comm::allreduce_max(ctx.comm(), status);
    if (status != 0)
      throw CollectiveError(fmt::format("pipeline: stage {}: `{}` ended with status {} (its output: {})",
                                        stage.name, command, status,
                                        (stage.dir / (invocation.log_name + ".log")).string()));
  }
  if (stage.action) stage.action(ctx);
  if (stage.check_finished) stage.check_finished(ctx, stage);
  outcome.seconds = watch.seconds();
  outcome.result = StageResult::kRan;
  std::string run;
  if (ctx.is_root()) run = new_run_id(fingerprint);
  outcome.run = comm::broadcast_string(ctx.comm(), run, 0);

  on_root(ctx, [&] {
    JsonObject upstream;
    for (const auto& name : stage.upstream) {
      const auto found = upstream_runs.find(name);
      upstream.add(name, found == upstream_runs.end() ? std::string("none") : found->second);
    }
    std::vector<JsonObject> command_list;
    for (const auto& command : commands) command_list.push_back(JsonObject().add("command", command));
    JsonObject record;
    record.add("stage", stage.name)
        .add("fingerprint", fingerprint)
        .add("run", outcome.run)
        .add("seconds", outcome.seconds)
        .add("finished_at", now_text())
        .add("ranks", ctx.size())
        .add("resumed", resume)
        .add("upstream", upstream)
        .add("commands", command_list)
        .add("version", TAILFLOW_VERSION);
    write_stage_record(stage.dir, record);
    fs::remove(pending_path);
  });
  ctx.log().info("pipeline: {} done {} in {:.1f} s", settings.label, stage.name, outcome.seconds);
  return outcome;
}

}  // namespace tailflow::jobs
