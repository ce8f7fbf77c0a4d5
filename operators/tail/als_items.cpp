#include "operators/tail/als_items.hpp"

#include <fmt/format.h>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"

namespace tailflow::ops::tail {

AlsItems read_als_items(const io::ShardedReader& embeddings) {
  AlsItems als;
  als.path = embeddings.path();
  for (const char* dataset : {"items/ids", "items/vectors", "items/counts"})
    if (!embeddings.has_dataset(dataset))
      throw Error(fmt::format("{}: no dataset '{}' (is this an embeddings file written by `tailflow als`?)",
                              als.path.string(), dataset));
  als.ids = embeddings.read_all_strings("items/ids");
  als.dims = embeddings.cols("items/vectors");
  als.vectors = embeddings.read_all<float>("items/vectors");
  const auto counts = embeddings.read_all<std::uint32_t>("items/counts");
  als.counts.assign(counts.begin(), counts.end());
  if (embeddings.has_dataset("items/biases")) als.biases = embeddings.read_all<float>("items/biases");
  const std::size_t rows = als.ids.size();
  if (als.vectors.size() != rows * als.dims || als.counts.size() != rows ||
      (!als.biases.empty() && als.biases.size() != rows))
    throw Error(
        fmt::format("{}: items/ids has {} rows but items/vectors has {} values of {} columns and "
                    "items/counts {} rows",
                    als.path.string(), rows, als.vectors.size(), als.dims, als.counts.size()));
  als.row_of.reserve(rows);
  for (std::uint64_t row = 0; row < rows; ++row)
    if (!als.row_of.emplace(als.ids[row], row).second)
      throw Error(fmt::format("{}: item id '{}' occurs twice in items/ids", als.path.string(), als.ids[row]));
  return als;
}

std::vector<std::uint64_t> als_rows_of(const AlsItems& als, std::span<const std::string> ids) {
  std::vector<std::uint64_t> rows(ids.size(), kNotInAls);
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (auto found = als.row_of.find(ids[i]); found != als.row_of.end()) rows[i] = found->second;
  return rows;
}

FeatureAlsJoin join_features_with_als(Context& ctx, const AlsItems& als,
                                      std::span<const std::string> local_ids, std::uint64_t first_row,
                                      const std::string& features_path) {
  FeatureAlsJoin join;
  join.als_rows = als_rows_of(als, local_ids);
  join.counts.resize(local_ids.size(), 0);
  std::uint64_t matched = 0, misplaced = 0;
  // Which ALS rows this rank saw, to name an ALS item that no rank has features for.
  std::vector<std::int32_t> seen(als.rows(), 0);
  for (std::size_t i = 0; i < local_ids.size(); ++i) {
    const auto row = join.als_rows[i];
    if (row == kNotInAls) continue;
    ++matched;
    seen[row] = 1;
    join.counts[i] = als.counts[row];
    if (row != first_row + i) ++misplaced;
  }
  comm::allreduce(ctx.comm(), std::span<std::int32_t>(seen), comm::ReduceOp::kMax);
  join.matched = comm::allreduce_sum(ctx.comm(), matched);
  join.feature_rows = comm::allreduce_sum(ctx.comm(), static_cast<std::uint64_t>(local_ids.size()));
  join.same_order = comm::allreduce_sum(ctx.comm(), misplaced) == 0;
  std::string error;
  if (join.matched != als.rows()) {
    std::string example;
    for (std::uint64_t row = 0; row < als.rows() && example.empty(); ++row)
      if (!seen[row]) example = als.ids[row];
    error = fmt::format(
        "{} of the {} items in {} have no row in the features {} (e.g. item id '{}'), or features hold an id "
        "twice ({} matches): compute the features with `tailflow features --interactions` on the interaction "
        "file that ALS was trained on",
        als.rows() - std::min<std::uint64_t>(join.matched, als.rows()), als.rows(), als.path.string(),
        features_path, example.empty() ? "?" : example, join.matched);
  }
  ctx.check_collectively(ctx.is_root() ? error : std::string());
  return join;
}

}  // namespace tailflow::ops::tail
