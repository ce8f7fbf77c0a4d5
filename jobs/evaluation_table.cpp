#include "jobs/evaluation_table.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace tailflow::jobs {

std::vector<std::string> text_table(const std::vector<ResultRow>& rows) {
  std::size_t k = 10, long_k = 20, source_width = 6, bucket_width = 6;
  if (!rows.empty()) k = rows.front().report.k, long_k = rows.front().report.long_k;
  for (const auto& row : rows) {
    source_width = std::max(source_width, row.source.size());
    bucket_width = std::max(bucket_width, row.bucket.size());
  }
  std::vector<std::string> lines;
  lines.push_back(fmt::format("{:<{}} {:>7} {:<{}} {:>6} {:>8} {:>8} {:>8} {:>8} {:>19} {:>8} {:>8} {:>7}",
                              "bucket", bucket_width, "items", "source", source_width, "users",
                              fmt::format("P@{}", k), fmt::format("R@{}", k), fmt::format("R@{}", long_k),
                              fmt::format("NDCG@{}", k), "NDCG 95% interval", fmt::format("MAP@{}", k),
                              "coverage", "missing"));
  for (const auto& row : rows) {
    const auto& r = row.report;
    lines.push_back(fmt::format(
        "{:<{}} {:>7} {:<{}} {:>6} {:>8.4f} {:>8.4f} {:>8.4f} {:>8.4f} {:>19} {:>8.4f} {:>8.4f} {:>7}",
        row.bucket, bucket_width, row.items, row.source, source_width, r.users, r.precision.mean,
        r.recall.mean, r.long_recall.mean, r.ndcg.mean,
        fmt::format("[{:.4f}, {:.4f}]", r.ndcg.low, r.ndcg.high), r.map.mean, row.coverage,
        row.items_missing));
  }
  return lines;
}

std::string markdown_table(const std::vector<ResultRow>& rows) {
  std::size_t k = 10, long_k = 20;
  if (!rows.empty()) k = rows.front().report.k, long_k = rows.front().report.long_k;
  std::string text = fmt::format(
      "| bucket | source | users | NDCG@{0} [95% interval] | MAP@{0} | Recall@{0} | Recall@{1} | coverage |\n"
      "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |\n",
      k, long_k);
  for (const auto& row : rows) {
    const auto& r = row.report;
    text += fmt::format("| {} | {} | {} | {:.4f} [{:.4f}, {:.4f}] | {:.4f} | {:.4f} | {:.4f} | {:.4f} |\n",
                        row.bucket, row.source, r.users, r.ndcg.mean, r.ndcg.low, r.ndcg.high, r.map.mean,
                        r.recall.mean, r.long_recall.mean, row.coverage);
  }
  return text;
}

}  // namespace tailflow::jobs
