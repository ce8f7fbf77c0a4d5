#include "engine/io/sharded_reader.hpp"

#include <fmt/format.h>

#include <numeric>

#include "engine/error.hpp"
#include "engine/io/sharded_writer.hpp"

namespace tailflow::io {

namespace fs = std::filesystem;

namespace {
std::string without_leading_slash(const std::string& dataset) {
  return !dataset.empty() && dataset.front() == '/' ? dataset.substr(1) : dataset;
}
}  // namespace

RowRange balanced_share(std::uint64_t rows, int rank, int size) {
  // 128-bit products: rows * rank must not overflow for very large row counts.
  auto bound = [&](int r) {
    return static_cast<std::uint64_t>(static_cast<unsigned __int128>(rows) * static_cast<unsigned>(r) /
                                      static_cast<unsigned>(size));
  };
  return RowRange{bound(rank), bound(rank + 1) - bound(rank)};
}

ShardedReader::ShardedReader(const fs::path& master_path)
    : master_path_(master_path), master_(Hdf5File::open(master_path)) {
  std::string where = master_path_.string();
  if (!master_.has_attribute("/", "tailflow_format"))
    throw Error(
        fmt::format("'{}' is not a sharded tailflow output (it has no 'tailflow_format' attribute)", where));
  std::string format = master_.string_attribute("/", "tailflow_format");
  if (format != "sharded-1")
    throw Error(fmt::format("'{}' has format '{}'; this tailflow reads 'sharded-1'", where, format));
  auto shard_count = master_.attribute<std::uint32_t>("/", "shard_count");
  std::string write_id = master_.string_attribute("/", "write_id");

  for (const auto& dataset : master_.list_datasets()) {
    DatasetLayout l;
    l.dims = master_.dims(dataset);
    auto shard_rows = master_.vector_attribute<std::uint64_t>(dataset, "shard_rows");
    if (shard_rows.size() != shard_count || l.dims.empty() || l.dims.size() > 2)
      throw Error(fmt::format("'{}': dataset '{}' has an invalid shard layout", where, dataset));
    l.shard_first.resize(shard_count + 1, 0);
    std::partial_sum(shard_rows.begin(), shard_rows.end(), l.shard_first.begin() + 1);
    if (l.shard_first.back() != l.dims.front())
      throw Error(fmt::format("'{}': dataset '{}' has {} rows but its shards add up to {}", where, dataset,
                              l.dims.front(), l.shard_first.back()));
    layouts_.emplace(dataset, std::move(l));
  }
  for (std::uint32_t shard = 0; shard < shard_count; ++shard)
    validate_shard(static_cast<int>(shard), static_cast<int>(shard_count), write_id);
}

void ShardedReader::validate_shard(int shard, int count, const std::string& write_id) {
  fs::path path = ShardedWriter::shard_path(master_path_, shard, count);
  std::string where =
      fmt::format("shard {} of {} ('{}') of '{}'", shard, count, path.string(), master_path_.string());
  if (!fs::exists(path)) throw Error(fmt::format("{} is missing", where));
  Hdf5File file = Hdf5File::open(path);
  if (!file.has_attribute("/", "write_id") || file.string_attribute("/", "write_id") != write_id)
    throw Error(
        fmt::format("{} belongs to a different write than the master file (an interrupted or concurrent "
                    "write?); write the output again",
                    where));
  for (const auto& [dataset, l] : layouts_) {
    std::uint64_t expected = l.shard_first[shard + 1] - l.shard_first[shard];
    if (!file.is_dataset(dataset)) throw Error(fmt::format("{} has no dataset '{}'", where, dataset));
    auto dims = file.dims(dataset);
    if (dims.size() != l.dims.size() || dims.front() != expected ||
        !std::equal(dims.begin() + 1, dims.end(), l.dims.begin() + 1))
      throw Error(fmt::format("{} holds {} rows of '{}' ({}-D), the master expects {} ({}-D)", where,
                              dims.empty() ? 0 : dims.front(), dataset, dims.size(), expected,
                              l.dims.size()));
  }
  shards_.push_back(std::move(file));
}

const ShardedReader::DatasetLayout& ShardedReader::layout(const std::string& dataset) const {
  auto found = layouts_.find(without_leading_slash(dataset));
  if (found == layouts_.end())
    throw Error(fmt::format("'{}' has no dataset '{}'", master_path_.string(), dataset));
  return found->second;
}

void ShardedReader::check_range(const std::string& dataset, std::uint64_t first, std::uint64_t count,
                                std::uint64_t rows) const {
  if (first > rows || count > rows - first)
    throw Error(fmt::format("cannot read rows [{}, {}) of '{}' in '{}': it has {} rows", first, first + count,
                            dataset, master_path_.string(), rows));
}

std::vector<std::string> ShardedReader::datasets() const {
  std::vector<std::string> names;
  for (const auto& entry : layouts_) names.push_back(entry.first);
  return names;
}

bool ShardedReader::has_dataset(const std::string& dataset) const {
  return layouts_.count(without_leading_slash(dataset)) > 0;
}

std::uint64_t ShardedReader::rows(const std::string& dataset) const {
  return layout(dataset).dims.front();
}

std::uint64_t ShardedReader::cols(const std::string& dataset) const {
  const auto& dims = layout(dataset).dims;
  return dims.size() == 2 ? dims[1] : 1;
}

std::vector<std::uint64_t> ShardedReader::dims(const std::string& dataset) const {
  return layout(dataset).dims;
}

std::vector<std::string> ShardedReader::read_string_rows(const std::string& dataset, std::uint64_t first,
                                                         std::uint64_t count) const {
  std::vector<std::string> values;
  values.reserve(count);
  for_each_shard_piece(dataset, first, count,
                       [&](const Hdf5File& shard, std::uint64_t from, std::uint64_t n) {
                         auto piece = shard.read_string_rows(dataset, from, n);
                         values.insert(values.end(), std::make_move_iterator(piece.begin()),
                                       std::make_move_iterator(piece.end()));
                       });
  return values;
}

}  // namespace tailflow::io
