// Sharded HDF5 output: one file per rank, plus a master file that shows them as one set of datasets.
//
// Writing one HDF5 file from many ranks needs collective parallel I/O; writing one file per rank needs
// nothing but the serial library and scales with the file system. The master file ties the shards together
// with virtual datasets (HDF5 "VDS", H5Pset_virtual): `h5py.File("out/embeddings.h5")["items/vectors"][:]`
// reads the rows of every shard, concatenated in rank order, as one array.
//
//   out/embeddings.h5                          master: virtual datasets + attributes
//   out/embeddings.shard-00000-of-00004.h5     rank 0's rows of every dataset
//   ...
//   out/embeddings.shard-00003-of-00004.h5     rank 3's rows
//
//   io::ShardedWriter out(ctx, "out/embeddings.h5");               // collective
//   out.write_strings("items/ids", my_item_ids);                    // collective, my rows only
//   out.write_matrix<float>("items/vectors", my_vectors, factors);  // collective, row-major
//   out.set_attribute("/", "regularization", 0.1);                  // taken from rank 0
//   out.commit();                                                   // collective
//
// Layout details (read back by ShardedReader):
// - Every dataset is 1-D (rows) or 2-D (rows x cols); a rank may have zero rows.
// - Strings are fixed-length UTF-8 (width = the longest string over all ranks), which virtual datasets
//   support; h5py reads them as bytes (`.asstr()[:]` gives str).
// - Master attributes: "tailflow_format" = "sharded-1", "shard_count", "write_id"; each virtual dataset has
//   "shard_rows" (rows per shard). Each shard has "shard_index", "shard_count", "write_id". The reader uses
//   write_id to reject a shard left over from another write.
// - A virtual dataset reads missing shards as zeros; ShardedReader checks every shard before reading.
//
// Atomicity: every file is written under a temporary name (see atomic_output.hpp). commit() renames the
// shards once every rank has written its own, then the master. An exception before commit() removes the
// temporaries and leaves the previous output as it was. (Only a crash during the renames themselves, a
// window of milliseconds, can leave old and new shards mixed; the reader detects that via write_id.) After
// the commit, rank 0 deletes shards of an older output written with a different rank count.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/context.hpp"
#include "engine/io/atomic_output.hpp"
#include "engine/io/hdf5_file.hpp"

namespace tailflow::io {

class ShardedWriter {
 public:
  // Collective. The directory of `master_path` must exist.
  ShardedWriter(Context& ctx, std::filesystem::path master_path, WriteOptions options = {});
  // Without commit(), removes this rank's temporaries; the previous output stays as it was.
  ~ShardedWriter();
  ShardedWriter(const ShardedWriter&) = delete;
  ShardedWriter& operator=(const ShardedWriter&) = delete;

  // The shard file of `shard` among `shard_count`: "<master without extension>.shard-00002-of-00004.h5".
  static std::filesystem::path shard_path(const std::filesystem::path& master_path, int shard,
                                          int shard_count);

  // --- datasets: collective; every rank writes the same datasets in the same order, with its own rows ----
  // Each returns the global index of this rank's first row (the rows of lower ranks come first).
  template <Hdf5Number T>
  std::uint64_t write(const std::string& dataset, std::span<const T> local_values) {
    return write_rows(dataset, number_type_of<T>(), local_values.size(), 0, 0,
                      [&](std::uint64_t, std::size_t) { shard_->write<T>(dataset, local_values, options_); });
  }
  template <Hdf5Number T>
  std::uint64_t write(const std::string& dataset, const std::vector<T>& local_values) {
    return write(dataset, std::span<const T>(local_values));
  }
  // `local_row_major` holds this rank's rows, `cols` values each (cols must be the same on every rank).
  template <Hdf5Number T>
  std::uint64_t write_matrix(const std::string& dataset, std::span<const T> local_row_major,
                             std::uint64_t cols) {
    return write_rows(dataset, number_type_of<T>(), local_row_major.size(), cols, 0,
                      [&](std::uint64_t rows, std::size_t) {
                        shard_->write_matrix<T>(dataset, local_row_major, rows, cols, options_);
                      });
  }
  template <Hdf5Number T>
  std::uint64_t write_matrix(const std::string& dataset, const std::vector<T>& local_row_major,
                             std::uint64_t cols) {
    return write_matrix(dataset, std::span<const T>(local_row_major), cols);
  }
  std::uint64_t write_strings(const std::string& dataset, std::span<const std::string> local_values);

  // --- attributes of the master file: any rank may call these, rank 0's values are written -------------
  // `object` is "/" (the file), a group, or a dataset written before.
  template <class Value>
  void set_attribute(const std::string& object, const std::string& name, const Value& value) {
    if (master_) master_->set_attribute(object, name, value);
  }

  // Collective: closes the files and renames them into place (shards first, then the master).
  void commit();

  const std::filesystem::path& master_path() const { return master_path_; }

 private:
  // The collective part of every write: checks that all ranks agree on the dataset, calls `write_shard`
  // (rows, string width) to write this rank's rows and, on rank 0, adds the virtual dataset to the master.
  // `type` is empty for strings; `cols` is 0 for 1-D datasets. Returns this rank's first global row.
  std::uint64_t write_rows(
      const std::string& dataset, std::optional<NumberType> type, std::size_t local_values,
      std::uint64_t cols, std::size_t local_string_width,
      const std::function<void(std::uint64_t rows, std::size_t string_width)>& write_shard);
  void remove_stale_shards() const;

  Context& ctx_;
  std::filesystem::path master_path_;
  WriteOptions options_;
  std::string write_id_;
  // The outputs are declared before the files so that the files are closed before the temporaries go.
  AtomicOutput shard_output_;
  std::optional<AtomicOutput> master_output_;  // rank 0 only
  std::optional<Hdf5File> shard_;
  std::optional<Hdf5File> master_;  // rank 0 only
  bool committed_ = false;
};

}  // namespace tailflow::io
