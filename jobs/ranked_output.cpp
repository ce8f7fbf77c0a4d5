#include "jobs/ranked_output.hpp"

#include <fmt/format.h>

#include "engine/error.hpp"
#include "engine/io/parallel_text_writer.hpp"
#include "engine/io/sharded_writer.hpp"

namespace tailflow::jobs {
namespace {

bool is_hdf5_path(const std::filesystem::path& path) {
  return path.extension() == ".h5";
}

// An id as a CSV field: quoted only when it holds a separator, a quote or a line break.
void append_csv_field(fmt::memory_buffer& text, const std::string& field) {
  if (field.find_first_of(",\"\n\r") == std::string::npos) {
    text.append(field);
    return;
  }
  text.push_back('"');
  for (char c : field) {
    if (c == '"') text.push_back('"');
    text.push_back(c);
  }
  text.push_back('"');
}

void write_csv(Context& ctx, const std::filesystem::path& path, const std::array<std::string, 4>& columns,
               const std::vector<std::string>& query_ids, const ops::knn::RankedLists& lists,
               const std::vector<std::string>& item_ids) {
  fmt::memory_buffer text;
  for (std::size_t list = 0; list < lists.size(); ++list) {
    std::size_t position = 0;
    for (const auto& scored : lists[list]) {
      append_csv_field(text, query_ids[list]);
      fmt::format_to(std::back_inserter(text), ",{},", ++position);
      append_csv_field(text, item_ids[scored.item]);
      // Six significant digits: enough to read, and stable across rank counts (sums in other blocks may
      // differ in the last float bit).
      fmt::format_to(std::back_inserter(text), ",{:.6g}\n", scored.score);
    }
  }
  const std::string header = fmt::format("{},{},{},{}\n", columns[0], columns[1], columns[2], columns[3]);
  io::write_file_collectively(ctx, path, header, std::string_view(text.data(), text.size()));
}

void write_hdf5(Context& ctx, const std::filesystem::path& path, const std::array<std::string, 4>& columns,
                const std::vector<std::string>& query_ids, const ops::knn::RankedLists& lists,
                const std::vector<std::string>& item_ids) {
  std::vector<std::string> queries, items;
  std::vector<std::uint32_t> positions;
  std::vector<float> scores;
  for (std::size_t list = 0; list < lists.size(); ++list) {
    std::uint32_t position = 0;
    for (const auto& scored : lists[list]) {
      queries.push_back(query_ids[list]);
      positions.push_back(++position);
      items.push_back(item_ids[scored.item]);
      scores.push_back(scored.score);
    }
  }
  io::ShardedWriter out(ctx, path);
  out.write_strings(columns[0], queries);
  out.write<std::uint32_t>(columns[1], positions);
  out.write_strings(columns[2], items);
  out.write<float>(columns[3], scores);
  out.set_attribute("/", "version", TAILFLOW_VERSION);
  out.commit();
}

}  // namespace

void prepare_output_directory(Context& ctx, const std::filesystem::path& path) {
  std::string error;
  const auto directory = path.parent_path();
  if (ctx.is_root() && !directory.empty()) {
    std::error_code failure;
    std::filesystem::create_directories(directory, failure);
    if (failure)
      error = fmt::format("cannot create the directory of --out '{}': {}", path.string(), failure.message());
  }
  ctx.check_collectively(error);
}

void write_ranked_lists(Context& ctx, const std::filesystem::path& path,
                        const std::array<std::string, 4>& columns, const std::vector<std::string>& query_ids,
                        const ops::knn::RankedLists& lists, const std::vector<std::string>& item_ids) {
  if (query_ids.size() != lists.size())
    throw Error(fmt::format("write_ranked_lists: {} query ids for {} lists", query_ids.size(), lists.size()));
  if (is_hdf5_path(path))
    write_hdf5(ctx, path, columns, query_ids, lists, item_ids);
  else
    write_csv(ctx, path, columns, query_ids, lists, item_ids);
}

}  // namespace tailflow::jobs
