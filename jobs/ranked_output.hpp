// Writing ranked lists (recommendations, similar items) with external ids: one row per (query, position).
//
//   FILE.csv (any name not ending in .h5): header "<query>,rank,<item>,score", rank 1 = best; every rank
//   writes
//       its own queries' rows, in its row order, into one file (io::write_file_collectively), atomically.
//   FILE.h5: sharded HDF5 (master FILE.h5 + shards) with 1-D datasets <query>, rank, <item>, score of equal
//       length, the same rows as the CSV.
// The file's contents do not depend on the rank count.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/context.hpp"
#include "operators/knn/ranked_lists.hpp"

namespace tailflow::jobs {

// Collective. Creates the parent directory of `path` if missing (Error on every rank when that fails).
void prepare_output_directory(Context& ctx, const std::filesystem::path& path);

// Collective. `query_ids`: the external id of each of this rank's lists; `item_ids`: every item's external id
// (indexed by the global item row); `columns`: the names of the query, rank, item and score columns.
void write_ranked_lists(Context& ctx, const std::filesystem::path& path,
                        const std::array<std::string, 4>& columns, const std::vector<std::string>& query_ids,
                        const ops::knn::RankedLists& lists, const std::vector<std::string>& item_ids);

}  // namespace tailflow::jobs
