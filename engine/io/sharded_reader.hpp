// Reading a sharded HDF5 output (see sharded_writer.hpp) back, with any number of ranks.
//
//   io::ShardedReader in("out/embeddings.h5");          // opens the master, checks every shard
//   auto [first, count] = in.share("items/vectors", ctx.rank(), ctx.size());
//   std::vector<float> mine = in.read_rows<float>("items/vectors", first, count);  // row-major
//   double lambda = in.master().attribute<double>("/", "regularization");
//
// Not collective: each rank opens the files read-only with the serial driver and reads what it needs, so a
// file written by 4 ranks can be read by 1, 2 or 3 (resuming with another rank count).
//
// Why validate: a virtual dataset reads the rows of a missing shard as zeros, without an error. The
// constructor therefore checks that every shard exists, belongs to the same write as the master (write_id),
// and holds exactly the rows and columns the master expects; otherwise it throws an Error naming the shard.
// Reads then go to the shards directly.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/io/hdf5_file.hpp"

namespace tailflow::io {

// A contiguous range of global rows.
struct RowRange {
  std::uint64_t first = 0;
  std::uint64_t count = 0;
};

// Rank `rank`'s balanced share of `rows` rows: [rows * rank / size, rows * (rank + 1) / size).
RowRange balanced_share(std::uint64_t rows, int rank, int size);

class ShardedReader {
 public:
  explicit ShardedReader(const std::filesystem::path& master_path);

  const std::filesystem::path& path() const { return master_path_; }
  int shard_count() const { return static_cast<int>(shards_.size()); }
  // The master file: its attributes are the output's metadata (hyperparameters, versions, ...).
  const Hdf5File& master() const { return master_; }

  std::vector<std::string> datasets() const;
  bool has_dataset(const std::string& dataset) const;
  std::uint64_t rows(const std::string& dataset) const;
  // Values per row: the column count of a 2-D dataset, 1 for a 1-D dataset.
  std::uint64_t cols(const std::string& dataset) const;
  // {rows} or {rows, cols}.
  std::vector<std::uint64_t> dims(const std::string& dataset) const;

  RowRange share(const std::string& dataset, int rank, int size) const {
    return balanced_share(rows(dataset), rank, size);
  }

  // Rows [first, first + count), flattened row-major, converted to T.
  template <Hdf5Number T>
  std::vector<T> read_rows(const std::string& dataset, std::uint64_t first, std::uint64_t count) const {
    std::vector<T> values;
    values.reserve(count * cols(dataset));
    for_each_shard_piece(dataset, first, count,
                         [&](const Hdf5File& shard, std::uint64_t from, std::uint64_t n) {
                           auto piece = shard.read_rows<T>(dataset, from, n);
                           values.insert(values.end(), piece.begin(), piece.end());
                         });
    return values;
  }
  template <Hdf5Number T>
  std::vector<T> read_all(const std::string& dataset) const {
    return read_rows<T>(dataset, 0, rows(dataset));
  }
  template <Hdf5Number T>
  std::vector<T> read_share(const std::string& dataset, int rank, int size) const {
    auto range = share(dataset, rank, size);
    return read_rows<T>(dataset, range.first, range.count);
  }

  std::vector<std::string> read_string_rows(const std::string& dataset, std::uint64_t first,
                                            std::uint64_t count) const;
  std::vector<std::string> read_all_strings(const std::string& dataset) const {
    return read_string_rows(dataset, 0, rows(dataset));
  }
  std::vector<std::string> read_string_share(const std::string& dataset, int rank, int size) const {
    auto range = share(dataset, rank, size);
    return read_string_rows(dataset, range.first, range.count);
  }

 private:
  struct DatasetLayout {
    std::vector<std::uint64_t> dims;         // of the whole dataset
    std::vector<std::uint64_t> shard_first;  // first global row of each shard, plus the total at the end
  };

  const DatasetLayout& layout(const std::string& dataset) const;
  void validate_shard(int shard, int shard_count, const std::string& write_id);
  void check_range(const std::string& dataset, std::uint64_t first, std::uint64_t count,
                   std::uint64_t rows) const;
  // Calls visit(shard file, first local row, row count) for each shard holding part of the range, in order.
  template <class Visit>
  void for_each_shard_piece(const std::string& dataset, std::uint64_t first, std::uint64_t count,
                            Visit visit) const;

  std::filesystem::path master_path_;
  Hdf5File master_;
  std::vector<Hdf5File> shards_;
  std::map<std::string, DatasetLayout> layouts_;  // keyed by path without leading '/'
};

template <class Visit>
void ShardedReader::for_each_shard_piece(const std::string& dataset, std::uint64_t first, std::uint64_t count,
                                         Visit visit) const {
  const auto& l = layout(dataset);
  check_range(dataset, first, count, l.dims.front());
  std::uint64_t end = first + count;
  for (std::size_t shard = 0; shard < shards_.size() && first < end; ++shard) {
    std::uint64_t shard_begin = l.shard_first[shard], shard_end = l.shard_first[shard + 1];
    if (shard_end <= first || shard_begin == shard_end) continue;
    std::uint64_t piece_end = std::min(end, shard_end);
    visit(shards_[shard], first - shard_begin, piece_end - first);
    first = piece_end;
  }
}

}  // namespace tailflow::io
