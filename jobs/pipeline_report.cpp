#include "jobs/pipeline_report.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/error.hpp"
#include "engine/io/atomic_output.hpp"
#include "engine/json_reader.hpp"

extern char** environ;

namespace tailflow::jobs {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPython = "/usr/bin/python3";

struct Row {
  std::string bucket, items, source, users;
  std::string ndcg, map, recall;
};

struct Table {
  std::string heading;  // k, relevance
  std::size_t k = 10;
  std::vector<Row> rows;  // grouped by bucket, in the report's order
};

std::string number_text(const JsonValue* value) {
  if (!value || !value->is_number()) return "-";
  const double number = value->as_number();
  if (number == static_cast<double>(static_cast<std::int64_t>(number)))
    return fmt::format("{}", static_cast<std::int64_t>(number));
  return fmt::format("{}", number);
}

// "0.1234 [0.1200, 0.1270]" from {"mean", "low", "high"}; "-" when absent.
std::string estimate_text(const JsonValue& source, const char* metric) {
  const JsonValue* estimate = source.find(metric);
  if (!estimate || !estimate->is_object() || !estimate->find("mean")) return "-";
  const double mean = estimate->at("mean").as_number();
  const JsonValue* low = estimate->find("low");
  const JsonValue* high = estimate->find("high");
  if (!low || !high || !low->is_number() || !high->is_number()) return fmt::format("{:.4f}", mean);
  return fmt::format("{:.4f} [{:.4f}, {:.4f}]", mean, low->as_number(), high->as_number());
}

Table read_section(const ReportSection& section) {
  const JsonValue report = read_json_file(section.report);
  Table table;
  try {
    if (const JsonValue* k = report.find("k"); k && k->is_number())
      table.k = static_cast<std::size_t>(k->as_number());
    const JsonValue* relevance = report.find("relevance");
    table.heading = fmt::format("top {}; relevant = {}; 95% bootstrap intervals over users", table.k,
                                relevance && relevance->is_string() ? relevance->as_string() : "?");
    // ranking: bucket -> {"items": n, source -> {"users", "ndcg": {mean, low, high}, …}, …}
    for (const auto& [bucket, catalog] : report.at("ranking").members()) {
      if (!catalog.is_object()) continue;
      for (const auto& [source, result] : catalog.members()) {
        if (!result.is_object() || !result.find("ndcg")) continue;  // e.g. "items"
        table.rows.push_back(Row{bucket, number_text(catalog.find("items")), source,
                                 number_text(result.find("users")), estimate_text(result, "ndcg"),
                                 estimate_text(result, "map"), estimate_text(result, "recall")});
      }
    }
  } catch (const Error& e) {
    throw Error(
        fmt::format("{}: not an evaluation report as expected: {}", section.report.string(), e.what()));
  }
  return table;
}

std::string text_table(const std::string& title, const Table& table) {
  std::string text = fmt::format("{}\n{}\n", title, table.heading);
  const std::string ndcg = fmt::format("NDCG@{}", table.k), map = fmt::format("MAP@{}", table.k),
                    recall = fmt::format("Recall@{}", table.k);
  text += fmt::format("{:<6} {:>7} {:<12} {:>6}  {:<24} {:<24} {:<24}\n", "bucket", "items", "source",
                      "users", ndcg, map, recall);
  std::string previous;
  for (const auto& row : table.rows) {
    const bool same = row.bucket == previous;
    text += fmt::format("{:<6} {:>7} {:<12} {:>6}  {:<24} {:<24} {:<24}\n", same ? "" : row.bucket,
                        same ? "" : row.items, row.source, row.users, row.ndcg, row.map, row.recall);
    previous = row.bucket;
  }
  return text;
}

std::string markdown_table(const std::string& title, const Table& table) {
  std::string text = fmt::format("## {}\n\n{}.\n\n", title, table.heading);
  text += fmt::format("| bucket | items | source | users | NDCG@{0} | MAP@{0} | Recall@{0} |\n", table.k);
  text += "|---|---:|---|---:|---|---|---|\n";
  for (const auto& row : table.rows)
    text += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", row.bucket, row.items, row.source,
                        row.users, row.ndcg, row.map, row.recall);
  return text + "\n";
}

void write_text(const fs::path& path, const std::string& text) {
  io::AtomicOutput output(path);
  {
    std::ofstream out(output.temporary_path(), std::ios::binary);
    out << text;
    if (!out) throw Error(fmt::format("cannot write '{}'", output.temporary_path().string()));
  }
  output.commit();
}

// Runs the figures script with its output in `log`; returns a warning, or "" when it succeeded.
std::string run_figures_script(const fs::path& script, const fs::path& pipeline_out, const fs::path& figures,
                               const fs::path& log) {
  if (script.empty() || !fs::exists(script))
    return fmt::format("no figures script{}; skipping the figures",
                       script.empty() ? "" : fmt::format(" at {}", script.string()));
  if (!fs::exists(kPython)) return fmt::format("{} not found; skipping the figures", kPython);
  fs::create_directories(figures);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<std::string> arguments = {kPython, script.string(), "--pipeline-out", pipeline_out.string(),
                                        "--out", figures.string()};
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  pid_t child = 0;
  const int spawned = posix_spawn(&child, kPython, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0)
    return fmt::format("cannot start {}: {}; skipping the figures", kPython, std::strerror(spawned));
  int status = 0;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR) return fmt::format("lost the figures script: {}", std::strerror(errno));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  return fmt::format("the figures script {} (see {}); continuing without figures",
                     WIFEXITED(status) ? fmt::format("failed with status {}", WEXITSTATUS(status))
                                       : fmt::format("was killed by signal {}", WTERMSIG(status)),
                     log.string());
}

std::string figures_markdown(const fs::path& figures) {
  std::vector<std::string> names;
  std::error_code error;
  if (fs::is_directory(figures, error))
    for (const auto& entry : fs::directory_iterator(figures, error))
      if (entry.path().extension() == ".png") names.push_back(entry.path().filename().string());
  if (names.empty()) return "";
  std::sort(names.begin(), names.end());
  std::string text = "## Figures\n\n";
  for (const auto& name : names) text += fmt::format("![{0}](figures/{0})\n\n", name);
  return text;
}

}  // namespace

fs::path default_figures_script() {
  if (const char* scripts = std::getenv("TAILFLOW_SCRIPTS"); scripts && *scripts)
    return fs::path(scripts) / "plots" / "make_figures.py";
#ifdef TAILFLOW_SOURCE_DIR
  return fs::path(TAILFLOW_SOURCE_DIR) / "scripts" / "plots" / "make_figures.py";
#else
  return {};
#endif
}

void write_report(Context& ctx, const ReportSettings& settings) {
  std::string error;
  if (ctx.is_root()) {
    try {
      fs::create_directories(settings.dir);
      std::string text, markdown = "# tailflow pipeline results\n\n";
      for (const auto& section : settings.sections) {
        const Table table = read_section(section);
        if (!text.empty()) text += '\n';
        text += text_table(section.title, table);
        markdown += markdown_table(section.title, table);
      }
      // The table first, so that a failing figures script still leaves it.
      write_text(settings.dir / "results.txt", text);
      write_text(settings.dir / "results.md", markdown);
      if (settings.figures) {
        ctx.log().info("report: making the figures ({})", settings.figures_script.string());
        const std::string warning =
            run_figures_script(settings.figures_script, settings.pipeline_out, settings.dir / "figures",
                               settings.dir / "figures.log");
        if (!warning.empty()) ctx.log().info("report: warning: {}", warning);
        write_text(settings.dir / "results.md", markdown + figures_markdown(settings.dir / "figures"));
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  ctx.check_collectively(error);  // also the barrier the other ranks wait at
}

void print_results(Context& ctx, const fs::path& report_dir) {
  if (!ctx.is_root()) return;
  std::ifstream in(report_dir / "results.txt");
  if (!in) return;
  std::ostringstream text;
  text << in.rdbuf();
  fmt::print("{}", text.str());
  std::fflush(stdout);
}

}  // namespace tailflow::jobs
