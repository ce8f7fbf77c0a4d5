// One stage of `tailflow pipeline` and how it decides to skip, resume or run.
//
// A stage runs one or more registered subcommands in-process (embed runs three times: content, blend,
// prior), or its own action (the report). Deciding, per stage:
//   - up to date: DIR/stage.json carries the fingerprint computed now and every output exists → skip;
//   - otherwise run. DIR/stage.pending names the fingerprint of a run that started and did not finish: when
//   it
//     matches, the stage's checkpoints come from the same settings and the subcommands get --resume; when it
//     does not (or the stage is forced), the old checkpoints are removed first, since a subcommand refuses a
//     checkpoint of other settings.
// stage.json is removed before a run and written last, after every subcommand succeeded. A StopRequested
// (SIGTERM, or a stage that ended early on purpose) passes through untouched, so the job exits with status
// 75 and a rerun resumes.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/context.hpp"
#include "jobs/stage_options.hpp"

namespace tailflow::jobs {

// One call of a subcommand.
struct Invocation {
  std::string subcommand;            // a registered subcommand name
  std::string log_name;              // its standard output goes to DIR/<log_name>.log
  std::vector<OptionValue> options;  // the config section's, then the derived ones (later entries win)
  std::set<std::string> excluded;    // options left out of the fingerprint (paths the pipeline derives)
};

struct StageSpec {
  std::string name;  // "als", "protocol-a/m3/als"
  std::string kind;  // "als": what --force, --from and --until name
  std::filesystem::path dir;
  std::vector<Invocation> invocations;
  std::function<void(Context&)> action;            // instead of invocations (the report)
  std::vector<std::string> upstream;               // names of the stages whose outputs it reads
  std::vector<std::filesystem::path> input_files;  // raw inputs: fingerprinted by path, size and time
  std::vector<std::string> settings;               // more text for the fingerprint ("figures=yes")
  std::vector<std::filesystem::path> outputs;      // all must exist for the stage to be up to date
  std::string checkpoint_subdir;                   // "checkpoints" (als), "checkpoint" (train), or ""
  // Runs after the subcommands: may throw StopRequested when the stage ended early on purpose (e.g. train's
  // --max-epochs-this-run), so that the stage is not recorded as finished.
  std::function<void(Context&, const StageSpec&)> check_finished;
};

// Options that change how a stage runs but not what it produces: never part of a fingerprint.
const std::set<std::string>& run_control_options();

// Collective: parses every invocation's options (an Error names the bad setting), without running anything.
void validate_stage(const StageSpec& stage);

// Collective: the stage's fingerprint from its options, inputs and the run ids of its upstream stages.
std::string stage_fingerprint(Context& ctx, const StageSpec& stage,
                              const std::map<std::string, std::string>& upstream_runs);

enum class StageResult { kRan, kSkipped, kNotSelected };

struct StageOutcome {
  StageResult result = StageResult::kSkipped;
  double seconds = 0;
  std::string run;  // what downstream stages chain: the id of the run that made the outputs ("none")
};

struct StageRunSettings {
  bool selected = true;  // inside --from/--until
  bool forced = false;   // --force
  bool quiet = false;    // -q: stage contexts print no progress
  bool verbose = false;  // -v
  std::string label;     // "[3/9]" in progress lines
};

// Collective: skips, resumes or runs the stage as described above. `upstream_runs`: stage name → run id.
StageOutcome run_stage(Context& ctx, const StageSpec& stage,
                       const std::map<std::string, std::string>& upstream_runs,
                       const StageRunSettings& settings);

}  // namespace tailflow::jobs
