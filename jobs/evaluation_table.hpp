// The results table of `tailflow evaluate`: one row per (bucket, source), as aligned text for the terminal
// and as Markdown for reports. Both show the same rows and figures.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "operators/metrics/ranking_metrics.hpp"

namespace tailflow::jobs {

struct ResultRow {
  std::string bucket;  // catalog: all, head, tail, cold, probe
  std::uint64_t items = 0;
  std::string source;
  ops::metrics::RankingReport report;
  double coverage = 0;              // of the top-K lists
  std::uint64_t items_missing = 0;  // catalog items the source has no vector for (ranked last)
};

// Aligned columns: bucket, items, source, users, P@K, R@K, R@L, NDCG@K, its 95% interval, MAP@K, coverage,
// missing. One string per line, header first.
std::vector<std::string> text_table(const std::vector<ResultRow>& rows);

// A GitHub-flavoured Markdown table: bucket, source, users, NDCG@K [95% interval], MAP@K, Recall@K, Recall@L,
// coverage. Ends with a newline.
std::string markdown_table(const std::vector<ResultRow>& rows);

}  // namespace tailflow::jobs
