#include "engine/io/sharded_writer.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <numeric>
#include <random>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"

namespace tailflow::io {

namespace fs = std::filesystem;
using namespace hdf5;

namespace {

constexpr const char* kFormat = "sharded-1";

// A token that tells this write apart from every other (time, process, randomness).
std::string new_write_id() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return fmt::format("{:x}-{:x}-{:08x}", std::chrono::duration_cast<std::chrono::nanoseconds>(now).count(),
                     ::getpid(), std::random_device{}());
}

// H5Pset_virtual reads '%' in source names as a printf-style pattern; "%%" stands for a literal '%'.
std::string escape_percent(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    escaped += c;
    if (c == '%') escaped += '%';
  }
  return escaped;
}

std::string absolute_object_path(const std::string& dataset) {
  return dataset.empty() || dataset.front() != '/' ? "/" + dataset : dataset;
}

// Adds to the master file the virtual dataset that concatenates the shards' rows in rank order.
void create_virtual_dataset(Hdf5File& master, const fs::path& master_path, const std::string& dataset,
                            hid_t element_type, const std::vector<std::uint64_t>& shard_rows,
                            std::uint64_t cols) {
  Hdf5Lock lock;
  int shard_count = static_cast<int>(shard_rows.size());
  std::uint64_t total = std::accumulate(shard_rows.begin(), shard_rows.end(), std::uint64_t{0});
  bool matrix = cols > 0;
  std::vector<hsize_t> dims{total};
  if (matrix) dims.push_back(cols);
  DataspaceHandle virtual_space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  PropertyListHandle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  std::uint64_t offset = 0;
  for (int shard = 0; shard < shard_count; ++shard) {
    if (shard_rows[shard] == 0) continue;
    std::vector<hsize_t> start{offset}, count{shard_rows[shard]};
    if (matrix) {
      start.push_back(0);
      count.push_back(cols);
    }
    DataspaceHandle source_space(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
    H5Sselect_hyperslab(virtual_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    // The source is named relative to the master, so the output directory can be moved as a whole.
    std::string source_file =
        escape_percent(ShardedWriter::shard_path(master_path, shard, shard_count).filename().string());
    std::string source_dataset = escape_percent(absolute_object_path(dataset));
    if (H5Pset_virtual(dcpl.get(), virtual_space.get(), source_file.c_str(), source_dataset.c_str(),
                       source_space.get()) < 0)
      throw_error(master.path(),
                  fmt::format("cannot map shard {} into virtual dataset '{}'", shard, dataset));
    offset += shard_rows[shard];
  }
  H5Sselect_all(virtual_space.get());
  PropertyListHandle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  // With no rows at all there is nothing to map: an ordinary empty dataset reads the same.
  hid_t layout = total > 0 ? dcpl.get() : H5P_DEFAULT;
  DatasetHandle created(H5Dcreate2(master.id(), dataset.c_str(), element_type, virtual_space.get(),
                                   lcpl.get(), layout, H5P_DEFAULT));
  if (!created) throw_error(master.path(), fmt::format("cannot create virtual dataset '{}'", dataset));
  master.set_attribute(dataset, "shard_rows", shard_rows);
}

}  // namespace

fs::path ShardedWriter::shard_path(const fs::path& master_path, int shard, int shard_count) {
  fs::path stem = master_path;
  stem.replace_extension();
  return stem.concat(fmt::format(".shard-{:05d}-of-{:05d}.h5", shard, shard_count));
}

ShardedWriter::ShardedWriter(Context& ctx, fs::path master_path, WriteOptions options)
    : ctx_(ctx),
      master_path_(std::move(master_path)),
      options_(options),
      shard_output_(shard_path(master_path_, ctx.rank(), ctx.size())) {
  std::string failure;
  std::string write_id;
  try {
    if (ctx.is_root()) {
      write_id = new_write_id();
      master_output_.emplace(master_path_);
      master_.emplace(Hdf5File::create(master_output_->temporary_path()));
      master_->set_attribute("/", "tailflow_format", kFormat);
      master_->set_attribute("/", "shard_count", static_cast<std::uint32_t>(ctx.size()));
      master_->set_attribute("/", "write_id", write_id);
    }
  } catch (const std::exception& e) {
    failure = e.what();
  }
  ctx.check_collectively(failure);
  write_id_ = comm::broadcast_string(ctx.comm(), write_id, 0);
  try {
    shard_.emplace(Hdf5File::create(shard_output_.temporary_path()));
    shard_->set_attribute("/", "shard_index", static_cast<std::uint32_t>(ctx.rank()));
    shard_->set_attribute("/", "shard_count", static_cast<std::uint32_t>(ctx.size()));
    shard_->set_attribute("/", "write_id", write_id_);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  ctx.check_collectively(failure);
}

ShardedWriter::~ShardedWriter() = default;

std::uint64_t ShardedWriter::write_strings(const std::string& dataset,
                                           std::span<const std::string> local_values) {
  std::size_t longest = 0;
  for (const auto& value : local_values) longest = std::max(longest, value.size());
  return write_rows(
      dataset, std::nullopt, local_values.size(), 0, longest, [&](std::uint64_t, std::size_t width) {
        shard_->write_strings(dataset, local_values, StringLayout::kFixedLength, width, options_);
      });
}

std::uint64_t ShardedWriter::write_rows(
    const std::string& dataset, std::optional<NumberType> type, std::size_t local_values, std::uint64_t cols,
    std::size_t local_string_width,
    const std::function<void(std::uint64_t rows, std::size_t string_width)>& write_shard) {
  if (committed_)
    throw Error(fmt::format("'{}': cannot write '{}' after commit()", master_path_.string(), dataset));
  std::string failure;
  if (cols > 0 && local_values % cols != 0)
    failure = fmt::format("cannot write '{}' to '{}': rank {} has {} values, not a multiple of {} columns",
                          dataset, master_path_.string(), ctx_.rank(), local_values, cols);
  ctx_.check_collectively(failure);

  // Every rank must be writing the same dataset, type and width; a cheap fingerprint catches mix-ups.
  struct RankInfo {
    std::uint64_t rows;
    std::uint64_t signature;
    std::uint64_t string_width;
  };
  std::uint64_t signature = std::hash<std::string>{}(absolute_object_path(dataset));
  signature = signature * 31 + (type ? static_cast<std::uint64_t>(*type) + 1 : 0);
  signature = signature * 31 + cols;
  std::uint64_t local_rows = cols > 0 ? local_values / cols : local_values;
  auto infos = comm::allgather_value(ctx_.comm(), RankInfo{local_rows, signature, local_string_width});
  std::vector<std::uint64_t> shard_rows;
  std::size_t string_width = 1;
  for (int rank = 0; rank < ctx_.size(); ++rank) {
    if (infos[rank].signature != infos[0].signature)
      throw Error(fmt::format(
          "'{}': rank {} and rank 0 write different datasets at the same step (this rank writes '{}'); every "
          "rank must write the same datasets, with the same element type and column count, in the same order",
          master_path_.string(), rank, dataset));
    shard_rows.push_back(infos[rank].rows);
    string_width = std::max<std::size_t>(string_width, infos[rank].string_width);
  }

  try {
    write_shard(local_rows, string_width);
    if (master_) {
      Hdf5Lock lock;
      DatatypeHandle string_type;
      if (!type) string_type = utf8_string_type(string_width);
      create_virtual_dataset(*master_, master_path_, dataset, type ? native_type(*type) : string_type.get(),
                             shard_rows, cols);
    }
  } catch (const std::exception& e) {
    failure = e.what();
  }
  ctx_.check_collectively(failure);
  return std::accumulate(shard_rows.begin(), shard_rows.begin() + ctx_.rank(), std::uint64_t{0});
}

void ShardedWriter::commit() {
  if (committed_) throw Error(fmt::format("'{}' was already committed", master_path_.string()));
  std::string failure;
  try {
    shard_->close();
    if (master_) master_->close();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  ctx_.check_collectively(failure);
  AtomicOutput* mine[] = {&shard_output_};
  commit_collectively(ctx_, mine, master_output_ ? &*master_output_ : nullptr);
  committed_ = true;
  if (ctx_.is_root()) remove_stale_shards();
}

// Shards of an earlier output with another rank count ("x.shard-00003-of-00004.h5" after a 2-rank write)
// would otherwise linger and confuse whoever lists the directory.
void ShardedWriter::remove_stale_shards() const {
  fs::path directory = master_path_.parent_path().empty() ? fs::path(".") : master_path_.parent_path();
  std::string prefix = fs::path(master_path_).replace_extension().filename().string() + ".shard-";
  std::string current_suffix = fmt::format("-of-{:05d}.h5", ctx_.size());
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    std::string name = entry.path().filename().string();
    // prefix + "NNNNN-of-MMMMM.h5"
    if (name.size() != prefix.size() + 17 || name.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = name.substr(prefix.size());
    if (rest.compare(5, 4, "-of-") != 0 || rest.compare(14, 3, ".h5") != 0) continue;
    if (rest.find_first_not_of("0123456789", 0) != 5 || rest.find_first_not_of("0123456789", 9) != 14)
      continue;
    if (rest.substr(5) == current_suffix) continue;
    std::error_code ignored;
    fs::remove(entry.path(), ignored);
  }
}

}  // namespace tailflow::io
