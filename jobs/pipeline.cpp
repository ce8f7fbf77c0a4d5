// `tailflow pipeline`: the whole job from one config file, resumable.
//
//   tailflow pipeline --config cluster/configs/fashion_shop.ini [--out DIR] [--set als.factors=32 …]
//                     [--seed S] [--force STAGE|all] [--from STAGE] [--until STAGE]
//
// Stages (each a folder under OUT, each calling registered subcommands in-process):
//   generate  → OUT/data        the built-in fashion shop, when the config names no interactions
//   features  → OUT/features    content features of the catalog
//   split     → OUT/split       train.csv, test.csv
//   als       → OUT/als         embeddings.h5 of the training split
//   train     → OUT/regressor   the content → ALS-vector network
//   embed     → OUT/embeddings  content.h5, blend.h5, prior.h5
//   evaluate  → OUT/evaluation  protocol B (buckets head/tail/cold), JSON + Markdown
//   (optional [protocol-a] shots = 0,1,3: a few-shot split → als → train → embed → evaluate chain per m,
//    under OUT/protocol-a/m<m>/)
//   report    → OUT/report      results table (also printed), results.md, figures
// The config's top-level keys name the data and common settings; each stage's section holds options of its
// subcommand under their own names. A stage whose settings, inputs and upstream runs are unchanged and whose
// outputs exist is skipped (pipeline_stage.hpp); als and train checkpoint every iteration/epoch, so a killed
// pipeline resumes inside the stage it was running. Full description: docs/pipeline.md.
#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/json_reader.hpp"
#include "engine/stop_request.hpp"
#include "jobs/pipeline_config.hpp"
#include "jobs/pipeline_report.hpp"
#include "jobs/pipeline_stage.hpp"
#include "jobs/subcommand.hpp"

namespace tailflow::jobs {
namespace {

namespace fs = std::filesystem;

// Stage kinds in running order: what --force, --from and --until name.
const std::vector<std::string> kKinds = {"generate", "features", "split",    "als",
                                         "train",    "embed",    "evaluate", "report"};

// out: output folder; dataset: a folder for ${dataset}; interactions, items: the input data (without
// interactions, `generate` makes the fashion shop); generate: yes/no; seed: every stage's --seed unless its
// section sets one; checkpoint-every: als iterations / train epochs between checkpoints.
const std::set<std::string> kTopLevelKeys = {"out",      "dataset", "interactions",    "items",
                                             "generate", "seed",    "checkpoint-every"};

// Options the pipeline sets in each stage section (paths follow from `out`).
const std::map<std::string, std::set<std::string>> kDerivedKeys = {
    {"generate", {"out"}},
    {"split", {"interactions", "out"}},
    {"als", {"interactions", "out", "resume"}},
    {"features", {"items", "out"}},
    {"train", {"embeddings", "features", "out", "resume"}},
    {"embed", {"model", "features", "out", "embeddings", "prior", "interactions"}},
    {"evaluate",
     {"train", "test", "embeddings", "out", "protocol", "probe-items", "source", "markdown", "features",
      "buckets"}},
};

// Sections that belong to the pipeline itself.
const std::map<std::string, std::set<std::string>> kOwnSections = {
    {"protocol-a", {"shots", "probe-fraction", "max-shots"}},
    {"report", {"figures", "figures-script"}},
};

const Subcommand& subcommand(const std::string& name) {
  return subcommand_registry().at(name);
}

std::string list_text(const std::vector<std::string>& names) {
  return fmt::format("{}", fmt::join(names, ", "));
}

// Every key of the config is one the pipeline knows, or an Error naming file, line and the valid keys.
void validate_config(const PipelineConfig& config) {
  for (const auto& [section, keys] : config.sections()) {
    if (section.empty()) {
      for (const auto& [key, values] : keys)
        if (!kTopLevelKeys.count(key)) {
          const std::vector<std::string> valid(kTopLevelKeys.begin(), kTopLevelKeys.end());
          throw Error(
              fmt::format("{}: unknown top-level key '{}'; top-level keys: {}; stage options go in a "
                          "[stage] section",
                          values.back().origin, key, list_text(valid)));
        }
      continue;
    }
    const std::string& first_origin = keys.begin()->second.back().origin;
    if (const auto own = kOwnSections.find(section); own != kOwnSections.end()) {
      for (const auto& [key, values] : keys)
        if (!own->second.count(key))
          throw Error(fmt::format("{}: [{}] has no key '{}'; its keys: {}", values.back().origin, section,
                                  key, list_text({own->second.begin(), own->second.end()})));
      continue;
    }
    const auto derived = kDerivedKeys.find(section);
    if (derived == kDerivedKeys.end()) {
      std::vector<std::string> sections;
      for (const auto& [name, unused] : kDerivedKeys) sections.push_back(name);
      for (const auto& [name, unused] : kOwnSections) sections.push_back(name);
      throw Error(
          fmt::format("{}: unknown section [{}]; sections: {}", first_origin, section, list_text(sections)));
    }
    const Subcommand& sub = subcommand(section);
    for (const auto& [key, values] : keys) {
      if (derived->second.count(key))
        throw Error(fmt::format(
            "{}: [{}] {} is set by the pipeline itself (see docs/pipeline.md): the input data are the "
            "top-level keys `interactions` and `items`, and every output path follows from `out`",
            values.back().origin, section, key));
      if (!has_option(sub, key)) {
        std::vector<std::string> valid;
        for (const auto& name : option_names(sub))
          if (!derived->second.count(name)) valid.push_back(name);
        throw Error(
            fmt::format("{}: [{}] has no key '{}'; the keys of [{}] are the options of `tailflow {}`: {}",
                        values.back().origin, section, key, section, section, list_text(valid)));
      }
    }
  }
}

// The pipeline's top-level settings, checked.
struct TopLevel {
  fs::path out = "out/pipeline";
  bool generate = true;
  std::optional<ConfigSetting> interactions, items, seed;
  ConfigSetting checkpoint_every{"1", "pipeline default"};
  std::vector<std::size_t> shots;  // protocol A; empty = off
  bool figures = true;
  fs::path figures_script;
};

std::vector<std::size_t> parse_shots(const ConfigSetting& setting) {
  std::vector<std::size_t> shots;
  std::string text = setting.value;
  std::replace(text.begin(), text.end(), ',', ' ');
  std::istringstream in(text);
  for (std::string word; in >> word;) {
    std::size_t used = 0;
    unsigned long value = 0;
    try {
      value = std::stoul(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || word.front() == '-')
      throw Error(fmt::format("{}: [protocol-a] shots: '{}' is not a count (expected e.g. 0,1,3)",
                              setting.origin, word));
    if (std::find(shots.begin(), shots.end(), value) == shots.end()) shots.push_back(value);
  }
  return shots;
}

TopLevel top_level(const PipelineConfig& config) {
  TopLevel top;
  if (auto out = config.value("", "out")) top.out = out->value;
  top.interactions = config.value("", "interactions");
  top.items = config.value("", "items");
  top.seed = config.value("", "seed");
  if (auto every = config.value("", "checkpoint-every")) top.checkpoint_every = *every;
  if (auto generate = config.value("", "generate")) {
    top.generate = parse_yes_no(generate->value, generate->origin + ": generate");
    if (top.generate && top.interactions)
      throw Error(fmt::format("{}: generate = yes, but {} names interactions too; use one of them",
                              generate->origin, top.interactions->origin));
    if (!top.generate && !top.interactions)
      throw Error(fmt::format("{}: generate = no needs a top-level `interactions` file", generate->origin));
  } else {
    top.generate = !top.interactions;
  }
  if (top.generate && top.items)
    throw Error(
        fmt::format("{}: `items` names a catalog, but the pipeline generates the fashion shop (no "
                    "`interactions`); name both, or neither",
                    top.items->origin));
  if (!top.generate) {
    if (!top.items)
      throw Error(
          fmt::format("{}: `interactions` is set but `items` is not: the content model needs the item "
                      "catalog (top-level key `items`)",
                      top.interactions->origin));
    for (const auto* file : {&*top.interactions, &*top.items})
      if (!fs::is_regular_file(file->value))
        throw Error(fmt::format("{}: no such file '{}' (relative paths start from the current folder{})",
                                file->origin, file->value,
                                std::getenv("DATASETS") ? "" : "; set DATASETS where the config uses it"));
  }
  if (auto shots = config.value("protocol-a", "shots")) top.shots = parse_shots(*shots);
  if (auto figures = config.value("report", "figures"))
    top.figures = parse_yes_no(figures->value, figures->origin + ": figures");
  top.figures_script = default_figures_script();
  if (auto script = config.value("report", "figures-script")) top.figures_script = script->value;
  return top;
}

OptionValue derived(const std::string& key, const std::string& value) {
  return OptionValue{key, {value}, "pipeline"};
}
OptionValue derived(const std::string& key, const fs::path& value) {
  return derived(key, value.string());
}
OptionValue derived(const std::string& key, const char* value) {
  return derived(key, std::string(value));
}
OptionValue from_setting(const std::string& key, const ConfigSetting& setting) {
  return OptionValue{key, {setting.value}, setting.origin};
}

// Builds the invocations and stages of one run.
class Planner {
 public:
  Planner(const PipelineConfig& config, TopLevel top) : config_(config), top_(std::move(top)) {}

  std::vector<StageSpec> plan() {
    const fs::path& out = top_.out;
    if (top_.generate) {
      StageSpec& generate = add_stage("generate", "generate", out / "data");
      generate.invocations.push_back(
          invocation("generate", "generate", "generate", {derived("out", generate.dir)}));
      generate.outputs = {generate.dir / "items.csv", generate.dir / "interactions.csv"};
      interactions_ = derived("interactions", generate.dir / "interactions.csv");
      items_ = derived("items", generate.dir / "items.csv");
      data_stage_ = "generate";
    } else {
      interactions_ = from_setting("interactions", *top_.interactions);
      items_ = from_setting("items", *top_.items);
    }

    StageSpec& features = add_stage("features", "features", out / "features");
    features.invocations.push_back(
        invocation("features", "features", "features", {items_, derived("out", features.dir)}));
    features.outputs = {features.dir / "features.h5"};
    depends_on_data(features);

    const Chain natural_tail = chain("", out, {});
    std::vector<ReportSection> sections;
    sections.push_back(
        {"Protocol B: natural long tail, items ranked within each popularity bucket", natural_tail.report});
    std::vector<std::string> evaluations = {natural_tail.evaluate};
    for (std::size_t m : top_.shots) {
      std::vector<OptionValue> few_shot = {derived("method", "few-shot"),
                                           derived("shots", fmt::format("{}", m))};
      for (const char* key : {"probe-fraction", "max-shots"})
        if (auto setting = config_.value("protocol-a", key)) few_shot.push_back(from_setting(key, *setting));
      const Chain chain_m =
          chain(fmt::format("protocol-a/m{}/", m), out / "protocol-a" / fmt::format("m{}", m), few_shot);
      sections.push_back(
          {fmt::format("Protocol A: few-shot probe items with m = {} training interactions each", m),
           chain_m.report});
      evaluations.push_back(chain_m.evaluate);
    }

    StageSpec& report = add_stage("report", "report", out / "report");
    report.upstream = evaluations;
    report.outputs = {report.dir / "results.txt", report.dir / "results.md"};
    report.settings = {fmt::format("figures={}", top_.figures),
                       "figures-script=" + top_.figures_script.string()};
    if (top_.figures && fs::exists(top_.figures_script)) report.input_files.push_back(top_.figures_script);
    ReportSettings report_settings{report.dir, out, sections, top_.figures, top_.figures_script};
    report.action = [report_settings](Context& ctx) { write_report(ctx, report_settings); };
    return {stages_.begin(), stages_.end()};
  }

 private:
  struct Chain {
    std::string evaluate;  // the stage name
    fs::path report;       // its JSON report
  };

  StageSpec& add_stage(const std::string& name, const std::string& kind, const fs::path& dir) {
    StageSpec stage;
    stage.name = name;
    stage.kind = kind;
    stage.dir = dir;
    stages_.push_back(std::move(stage));
    return stages_.back();
  }

  void depends_on_data(StageSpec& stage) const {
    if (!data_stage_.empty()) stage.upstream.push_back(data_stage_);
  }

  // The config section's options (plus the top-level seed and checkpoint interval where the section has
  // none), then `extra`: later entries win.
  Invocation invocation(const std::string& sub, const std::string& section, const std::string& log_name,
                        std::vector<OptionValue> extra) const {
    const Subcommand& command = subcommand(sub);
    Invocation call;
    call.subcommand = sub;
    call.log_name = log_name;
    if (const auto found = config_.sections().find(section); found != config_.sections().end())
      for (const auto& [key, values] : found->second) {
        OptionValue option{key, {}, values.back().origin};
        for (const auto& value : values) option.values.push_back(value.value);
        call.options.push_back(std::move(option));
      }
    auto section_sets = [&](const std::string& key) { return !config_.values(section, key).empty(); };
    if (top_.seed && has_option(command, "seed") && !section_sets("seed"))
      call.options.push_back(from_setting("seed", *top_.seed));
    if ((sub == "als" || sub == "train") && !section_sets("checkpoint-every"))
      call.options.push_back(from_setting("checkpoint-every", top_.checkpoint_every));
    for (auto& option : extra) {
      // Paths the pipeline derives are fingerprinted through the upstream stages that made them.
      if (option.origin == "pipeline" && kDerivedKeys.at(section).count(option.key))
        call.excluded.insert(option.key);
      call.options.push_back(std::move(option));
    }
    return call;
  }

  // split → als → train → embed → evaluate, under `dir` with stage names prefixed by `prefix`.
  Chain chain(const std::string& prefix, const fs::path& dir, const std::vector<OptionValue>& split_extra) {
    const bool protocol_a = !prefix.empty();
    StageSpec& split = add_stage(prefix + "split", "split", dir / "split");
    std::vector<OptionValue> split_options = split_extra;
    split_options.push_back(interactions_);
    split_options.push_back(derived("out", split.dir));
    split.invocations.push_back(invocation("split", "split", "split", split_options));
    split.outputs = {split.dir / "train.csv", split.dir / "test.csv"};
    if (protocol_a) split.outputs.push_back(split.dir / "probe_items.csv");
    depends_on_data(split);
    const fs::path train_csv = split.dir / "train.csv", test_csv = split.dir / "test.csv";
    const std::string split_name = split.name;

    StageSpec& als = add_stage(prefix + "als", "als", dir / "als");
    als.invocations.push_back(
        invocation("als", "als", "als", {derived("interactions", train_csv), derived("out", als.dir)}));
    als.outputs = {als.dir / "embeddings.h5"};
    als.upstream = {split_name};
    als.checkpoint_subdir = "checkpoints";
    const fs::path als_h5 = als.dir / "embeddings.h5";
    const std::string als_name = als.name;

    const fs::path features = top_.out / "features";
    StageSpec& train = add_stage(prefix + "train", "train", dir / "regressor");
    train.invocations.push_back(invocation(
        "train", "train", "train",
        {derived("embeddings", als_h5), derived("features", features), derived("out", train.dir)}));
    train.outputs = {train.dir / "model" / "model.pt", train.dir / "train_summary.json"};
    train.upstream = {als_name, "features"};
    train.checkpoint_subdir = "checkpoint";
    train.check_finished = check_training_finished;
    const fs::path model = train.dir / "model";
    const std::string train_name = train.name;

    StageSpec& embed = add_stage(prefix + "embed", "embed", dir / "embeddings");
    const fs::path content = embed.dir / "content.h5", blend = embed.dir / "blend.h5",
                   prior = embed.dir / "prior.h5";
    const std::vector<OptionValue> common = {derived("model", model), derived("features", features)};
    auto with = [&](std::vector<OptionValue> more) {
      std::vector<OptionValue> all = common;
      all.insert(all.end(), more.begin(), more.end());
      return all;
    };
    embed.invocations.push_back(
        invocation("embed", "embed", "embed-content", with({derived("out", content)})));
    embed.invocations.push_back(invocation("embed", "embed", "embed-blend",
                                           with({derived("embeddings", als_h5), derived("out", blend)})));
    embed.invocations.push_back(
        invocation("embed", "embed", "embed-prior",
                   with({derived("embeddings", als_h5), derived("prior", "yes"),
                         derived("interactions", train_csv), derived("out", prior)})));
    embed.outputs = {content, blend, prior};
    embed.upstream = {split_name, als_name, "features", train_name};
    const std::string embed_name = embed.name;

    StageSpec& evaluate = add_stage(prefix + "evaluate", "evaluate", dir / "evaluation");
    const std::string protocol = protocol_a ? "A" : "B";
    const std::string base = protocol_a ? "protocol-a" : "protocol-b";
    std::vector<OptionValue> common_evaluate = {derived("train", train_csv), derived("test", test_csv),
                                                derived("protocol", protocol)};
    if (!protocol_a) common_evaluate.push_back(derived("buckets", "yes"));
    evaluate.upstream = {split_name, als_name, embed_name};
    // One report ranks every item-vector source (ALS user vectors for all) and the baselines, content-kNN
    // included.
    std::vector<OptionValue> options = common_evaluate;
    options.push_back(derived("embeddings", als_h5));
    options.push_back(
        OptionValue{"source",
                    {"content=" + content.string(), "blend=" + blend.string(), "prior=" + prior.string()},
                    "pipeline"});
    options.push_back(derived("features", features));
    options.push_back(derived("markdown", evaluate.dir / (base + ".md")));
    const fs::path json = evaluate.dir / (base + ".json");
    options.push_back(derived("out", json));
    evaluate.invocations.push_back(invocation("evaluate", "evaluate", "evaluate-" + base, options));
    evaluate.outputs = {json, evaluate.dir / (base + ".md")};
    evaluate.upstream.push_back("features");
    Chain result;
    result.evaluate = evaluate.name;
    result.report = json;
    return result;
  }

  // train's --max-epochs-this-run ends a run early on purpose: the stage is then not finished, and the
  // pipeline stops as a preempted job would (status 75), to continue from the checkpoint next time.
  static void check_training_finished(Context& ctx, const StageSpec& stage) {
    std::string message;
    if (ctx.is_root()) {
      const JsonValue summary = read_json_file(stage.dir / "train_summary.json");
      const JsonValue* finished = summary.find("finished");
      if (finished && !finished->as_bool())
        message = fmt::format(
            "{} stopped on purpose after epoch {} (max-epochs-this-run); run the pipeline "
            "again to continue from its checkpoint",
            stage.name, static_cast<std::int64_t>(summary.at("epochs").as_number()));
    }
    message = comm::broadcast_string(ctx.comm(), message, 0);
    if (!message.empty()) throw StopRequested(message);
  }

  const PipelineConfig& config_;
  TopLevel top_;
  std::deque<StageSpec> stages_;  // a deque: adding a stage keeps references to earlier ones valid
  OptionValue interactions_, items_;
  std::string data_stage_;
};

std::size_t kind_index(const std::string& kind, const std::string& option) {
  const auto found = std::find(kKinds.begin(), kKinds.end(), kind);
  if (found == kKinds.end())
    throw Error(fmt::format("--{} {}: no such stage; stages: {}", option, kind, list_text(kKinds)));
  return static_cast<std::size_t>(found - kKinds.begin());
}

const char* result_text(StageResult result) {
  switch (result) {
    case StageResult::kRan:
      return "ran";
    case StageResult::kSkipped:
      return "skipped (unchanged)";
    case StageResult::kNotSelected:
      return "not selected";
  }
  return "?";
}

void add_options(po::options_description& options) {
  // clang-format off
  options.add_options()
    ("out", po::value<std::string>(), "output folder (overrides the config's `out`; default out/pipeline)")
    ("set", po::value<std::vector<std::string>>()->composing(),
     "change one setting: SECTION.KEY=VALUE for a stage option (e.g. als.factors=32), KEY=VALUE for a "
     "top-level key; repeatable; wins over the config file")
    ("seed", po::value<std::uint64_t>(), "the top-level seed: every stage's --seed unless its section sets one")
    ("force", po::value<std::vector<std::string>>()->composing(),
     "rerun STAGE even if unchanged (everything after it follows); 'all' reruns every stage; repeatable")
    ("from", po::value<std::string>(), "run the stages from STAGE on; earlier ones are used as they are")
    ("until", po::value<std::string>(), "run the stages up to STAGE");
  // clang-format on
}

int run_pipeline(Context& ctx, const po::variables_map& vm) {
  Stopwatch total;
  PipelineConfig config;
  std::vector<StageSpec> stages;
  fs::path out;
  std::size_t from = 0, until = kKinds.size() - 1;
  std::set<std::string> forced;
  bool force_all = false;
  try {
    if (vm.count("config")) config = PipelineConfig::read(vm["config"].as<std::string>());
    if (vm.count("set"))
      for (const auto& assignment : vm["set"].as<std::vector<std::string>>())
        config.apply_override(assignment);
    if (vm.count("out")) config.set("", "out", vm["out"].as<std::string>(), "--out");
    if (vm.count("seed")) config.set("", "seed", fmt::format("{}", vm["seed"].as<std::uint64_t>()), "--seed");
    validate_config(config);
    TopLevel top = top_level(config);
    out = top.out;
    stages = Planner(config, std::move(top)).plan();
    for (const auto& stage : stages) validate_stage(stage);
    if (vm.count("from")) from = kind_index(vm["from"].as<std::string>(), "from");
    if (vm.count("until")) until = kind_index(vm["until"].as<std::string>(), "until");
    if (from > until) throw Error("--from names a stage after --until");
    if (vm.count("force"))
      for (const auto& name : vm["force"].as<std::vector<std::string>>()) {
        if (name == "all") {
          force_all = true;
          continue;
        }
        const bool known = std::any_of(stages.begin(), stages.end(),
                                       [&](const StageSpec& s) { return s.kind == name || s.name == name; });
        if (!known)
          throw Error(
              fmt::format("--force {}: no such stage in this pipeline; stages: {}", name, list_text(kKinds)));
        forced.insert(name);
      }
  } catch (const Error& e) {
    throw CollectiveError(e.what());  // every rank read the same config and options
  }

  const bool quiet = vm.count("quiet") > 0, verbose = vm.count("verbose") > 0;
  ctx.log().info("pipeline: {} stages into {} on {} rank{}{}", stages.size(), out.string(), ctx.size(),
                 ctx.size() == 1 ? "" : "s",
                 config.source().empty() ? "" : fmt::format(" (config {})", config.source()));
  std::map<std::string, std::string> runs;
  std::vector<std::pair<std::string, StageOutcome>> outcomes;
  bool report_selected = false;
  fs::path report_dir;
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const StageSpec& stage = stages[i];
    StageRunSettings settings;
    const std::size_t kind = kind_index(stage.kind, "from");
    settings.selected = kind >= from && kind <= until;
    settings.forced = force_all || forced.count(stage.kind) || forced.count(stage.name);
    settings.quiet = quiet;
    settings.verbose = verbose;
    settings.label = fmt::format("[{}/{}]", i + 1, stages.size());
    // A stage that reruns makes its downstream stages rerun too (they chain its new run id).
    const StageOutcome outcome = run_stage(ctx, stage, runs, settings);
    runs[stage.name] = outcome.run;
    outcomes.emplace_back(stage.name, outcome);
    if (stage.kind == "report") {
      report_selected = settings.selected;
      report_dir = stage.dir;
    }
  }

  if (ctx.is_root() && !quiet) {
    std::string table = fmt::format("\n{:<26} {:<20} {:>9}\n", "pipeline stage", "result", "seconds");
    for (const auto& [name, outcome] : outcomes)
      table += fmt::format("{:<26} {:<20} {:>9.1f}\n", name, result_text(outcome.result), outcome.seconds);
    table += fmt::format("{:<26} {:<20} {:>9.1f}\n\n", "total", "", total.seconds());
    std::fputs(table.c_str(), stderr);
    std::fflush(stderr);
  }
  if (report_selected) print_results(ctx, report_dir);
  return 0;
}

const SubcommandRegistration registration{Subcommand{
    "pipeline",
    "the whole job from one config file: data, split, ALS, content model, evaluation, report (resumable)",
    add_options, run_pipeline, /*reads_own_config=*/true}};

}  // namespace
}  // namespace tailflow::jobs
