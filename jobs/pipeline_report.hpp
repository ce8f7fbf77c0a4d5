// The last stage of `tailflow pipeline`: the results table and the figures.
//
// Reads the evaluation reports (JSON of `tailflow evaluate`), prints one table per protocol on rank 0 —
// buckets × item-vector sources × NDCG/MAP/Recall@K with 95% intervals — and writes it to
// DIR/results.txt and DIR/results.md. Then rank 0 runs the figures script, if there is one:
//   /usr/bin/python3 <scripts>/plots/make_figures.py --pipeline-out OUT --out DIR/figures
// (<scripts>: $TAILFLOW_SCRIPTS, else the source tree's scripts/ folder). A missing Python, matplotlib or
// script is a warning, not an error. The other ranks wait at a barrier.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/context.hpp"

namespace tailflow::jobs {

struct ReportSection {
  std::string title;             // "Protocol B: natural long tail"
  std::filesystem::path report;  // the JSON report of `tailflow evaluate`
};

struct ReportSettings {
  std::filesystem::path dir;           // OUT/report
  std::filesystem::path pipeline_out;  // OUT
  std::vector<ReportSection> sections;
  bool figures = true;
  std::filesystem::path figures_script;  // empty: none
};

// $TAILFLOW_SCRIPTS/plots/make_figures.py, else <source tree>/scripts/plots/make_figures.py.
std::filesystem::path default_figures_script();

// Collective: writes DIR/results.txt, DIR/results.md and the figures.
void write_report(Context& ctx, const ReportSettings& settings);

// Rank 0 prints DIR/results.txt to standard output (the table of the last report).
void print_results(Context& ctx, const std::filesystem::path& report_dir);

}  // namespace tailflow::jobs
