// One HDF5 file, with a small typed API: groups, 1-D and 2-D number datasets, string datasets, attributes.
//
//   auto file = io::Hdf5File::create("out/truth.h5");            // truncates an existing file
//   file.write_matrix<float>("items/vectors", values, rows, cols); // creates group "items" on the way
//   file.write_strings("items/ids", ids);
//   file.set_attribute("/", "seed", std::uint64_t{7});
//
//   auto in = io::Hdf5File::open("out/truth.h5");                 // read-only
//   std::vector<float> v = in.read<float>("items/vectors");       // row-major, dims(...) gives the shape
//
// Object paths are relative to the file root ("items/vectors"; a leading '/' is accepted); "/" is the root
// group itself. Matrices are stored row-major as (rows x cols) datasets, exactly how numpy/h5py show them.
// Every failure throws tailflow::Error naming the file and the object. Files are opened with the default
// (serial) driver: each rank opens its own files, collective parallel HDF5 is not used here.
//
// Thread safety: every method takes the process-wide HDF5 lock (see hdf5_handle.hpp), so ranks of the
// threads backend may use different Hdf5File objects at the same time. One Hdf5File object is not meant to be
// shared between threads.
#pragma once

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/io/hdf5_handle.hpp"

namespace tailflow::io {

// The element types that datasets and attributes can hold.
enum class NumberType { kInt8, kUInt8, kInt32, kUInt32, kInt64, kUInt64, kFloat, kDouble };

template <class T>
concept Hdf5Number = std::same_as<T, std::int8_t> || std::same_as<T, std::uint8_t> ||
    std::same_as<T, std::int32_t> || std::same_as<T, std::uint32_t> || std::same_as<T, std::int64_t> ||
    std::same_as<T, std::uint64_t> || std::same_as<T, float> || std::same_as<T, double>;

template <Hdf5Number T>
constexpr NumberType number_type_of() {
  if constexpr (std::same_as<T, std::int8_t>) return NumberType::kInt8;
  if constexpr (std::same_as<T, std::uint8_t>) return NumberType::kUInt8;
  if constexpr (std::same_as<T, std::int32_t>) return NumberType::kInt32;
  if constexpr (std::same_as<T, std::uint32_t>) return NumberType::kUInt32;
  if constexpr (std::same_as<T, std::int64_t>) return NumberType::kInt64;
  if constexpr (std::same_as<T, std::uint64_t>) return NumberType::kUInt64;
  if constexpr (std::same_as<T, float>) return NumberType::kFloat;
  if constexpr (std::same_as<T, double>) return NumberType::kDouble;
}

// How a string dataset is stored. Fixed-length strings (padded with NULs to the longest string) are compact
// and work in virtual datasets; h5py reads them as bytes (`.asstr()` decodes). Variable-length strings read
// as Python str. Both are tagged UTF-8.
enum class StringLayout { kFixedLength, kVariableLength };

struct WriteOptions {
  // 0 = contiguous and uncompressed; 1..9 = chunked, byte-shuffled and deflate-compressed at this level.
  int compression_level = 0;
};

enum class OpenMode { kReadOnly, kReadWrite };

namespace hdf5 {
// For code that calls HDF5 directly (take Hdf5Lock first): the native HDF5 type of a NumberType, the
// string type Hdf5File uses (UTF-8; fixed width, NUL-padded, or variable length when the width is 0), and
// an Error that names the file and the failed step and appends HDF5's own most specific message.
hid_t native_type(NumberType type);
DatatypeHandle utf8_string_type(std::size_t fixed_width_or_zero_for_variable);
[[noreturn]] void throw_error(const std::string& file, const std::string& what);
}  // namespace hdf5

class Hdf5File {
 public:
  // Creates (or truncates) the file. The parent directory must exist.
  static Hdf5File create(const std::filesystem::path& path);
  static Hdf5File open(const std::filesystem::path& path, OpenMode mode = OpenMode::kReadOnly);

  Hdf5File(Hdf5File&&) noexcept = default;
  Hdf5File& operator=(Hdf5File&&) noexcept = default;
  ~Hdf5File();

  const std::string& path() const { return path_; }
  bool is_open() const { return file_.valid(); }
  // Flushes and closes now, reporting errors (the destructor closes silently).
  void close();

  // --- structure --------------------------------------------------------------------------------------
  // Creates the group and any missing parents ("items/vectors" creates "items"); an existing group is fine.
  void create_group(const std::string& group_path);
  bool exists(const std::string& object_path) const;
  bool is_dataset(const std::string& object_path) const;
  // Paths of all datasets below the group, recursively, without a leading '/', sorted ("items/ids", ...).
  std::vector<std::string> list_datasets(const std::string& group_path = "/") const;
  // Shape of a dataset: {n} for 1-D, {rows, cols} for 2-D.
  std::vector<std::uint64_t> dims(const std::string& dataset) const;
  // Bytes per element of a string dataset's fixed-length type; 0 for variable-length strings.
  std::size_t string_width(const std::string& dataset) const;

  // --- numbers ----------------------------------------------------------------------------------------
  // Writing creates the dataset (and missing parent groups); writing to an existing name is an error.
  template <Hdf5Number T>
  void write(const std::string& dataset, std::span<const T> values, const WriteOptions& options = {}) {
    write_numbers(dataset, number_type_of<T>(), values.data(), {values.size()}, options);
  }
  template <Hdf5Number T>
  void write(const std::string& dataset, const std::vector<T>& values, const WriteOptions& options = {}) {
    write(dataset, std::span<const T>(values), options);
  }
  // `row_major` holds rows * cols values, row after row.
  template <Hdf5Number T>
  void write_matrix(const std::string& dataset, std::span<const T> row_major, std::uint64_t rows,
                    std::uint64_t cols, const WriteOptions& options = {}) {
    check_matrix_size(dataset, row_major.size(), rows, cols);
    write_numbers(dataset, number_type_of<T>(), row_major.data(), {rows, cols}, options);
  }
  template <Hdf5Number T>
  void write_matrix(const std::string& dataset, const std::vector<T>& row_major, std::uint64_t rows,
                    std::uint64_t cols, const WriteOptions& options = {}) {
    write_matrix(dataset, std::span<const T>(row_major), rows, cols, options);
  }

  // The whole dataset, flattened row-major. Values are converted to T (e.g. a float dataset reads as double).
  template <Hdf5Number T>
  std::vector<T> read(const std::string& dataset) const {
    std::vector<T> values(element_count(dataset));
    read_numbers(dataset, number_type_of<T>(), values.data(), 0, kAllRows);
    return values;
  }
  // Rows [first_row, first_row + row_count) of a 1-D or 2-D dataset, flattened row-major.
  template <Hdf5Number T>
  std::vector<T> read_rows(const std::string& dataset, std::uint64_t first_row,
                           std::uint64_t row_count) const {
    std::vector<T> values(row_count * row_size(dataset));
    read_numbers(dataset, number_type_of<T>(), values.data(), first_row, row_count);
    return values;
  }

  // --- strings ----------------------------------------------------------------------------------------
  // A 1-D dataset of strings. For kFixedLength, `fixed_width` (bytes) 0 means "the longest string" (at
  // least 1); a longer string is an error. Strings must not contain NUL bytes.
  void write_strings(const std::string& dataset, std::span<const std::string> values,
                     StringLayout layout = StringLayout::kFixedLength, std::size_t fixed_width = 0,
                     const WriteOptions& options = {});
  std::vector<std::string> read_strings(const std::string& dataset) const;
  std::vector<std::string> read_string_rows(const std::string& dataset, std::uint64_t first_row,
                                            std::uint64_t row_count) const;

  // --- attributes -------------------------------------------------------------------------------------
  // On any object: "/" (the file), a group or a dataset. Setting an existing attribute replaces it.
  template <Hdf5Number T>
  void set_attribute(const std::string& object, const std::string& name, T value) {
    write_attribute(object, name, number_type_of<T>(), &value, 1, /*scalar=*/true);
  }
  template <Hdf5Number T>
  void set_attribute(const std::string& object, const std::string& name, std::span<const T> values) {
    write_attribute(object, name, number_type_of<T>(), values.data(), values.size(), /*scalar=*/false);
  }
  template <Hdf5Number T>
  void set_attribute(const std::string& object, const std::string& name, const std::vector<T>& values) {
    set_attribute(object, name, std::span<const T>(values));
  }
  // Strings are stored as variable-length UTF-8 (h5py reads them as str).
  void set_attribute(const std::string& object, const std::string& name, const std::string& value);
  void set_attribute(const std::string& object, const std::string& name, const char* value) {
    set_attribute(object, name, std::string(value));
  }

  bool has_attribute(const std::string& object, const std::string& name) const;
  std::vector<std::string> attribute_names(const std::string& object) const;
  // A scalar (or one-element) numeric attribute, converted to T.
  template <Hdf5Number T>
  T attribute(const std::string& object, const std::string& name) const {
    T value{};
    read_attribute(object, name, number_type_of<T>(), &value, /*expect_scalar=*/true);
    return value;
  }
  template <Hdf5Number T>
  std::vector<T> vector_attribute(const std::string& object, const std::string& name) const {
    std::vector<T> values(attribute_size(object, name));
    read_attribute(object, name, number_type_of<T>(), values.data(), /*expect_scalar=*/false);
    return values;
  }
  std::string string_attribute(const std::string& object, const std::string& name) const;

  // The raw identifier, for HDF5 calls this class does not wrap (take Hdf5Lock around them).
  hid_t id() const { return file_.get(); }

 private:
  static constexpr std::uint64_t kAllRows = ~std::uint64_t{0};

  Hdf5File(std::string path, hdf5::FileHandle file) : path_(std::move(path)), file_(std::move(file)) {}

  void check_matrix_size(const std::string& dataset, std::size_t values, std::uint64_t rows,
                         std::uint64_t cols) const;
  void write_numbers(const std::string& dataset, NumberType type, const void* data,
                     const std::vector<std::uint64_t>& dims, const WriteOptions& options);
  void read_numbers(const std::string& dataset, NumberType type, void* data, std::uint64_t first_row,
                    std::uint64_t row_count) const;
  std::uint64_t element_count(const std::string& dataset) const;
  std::uint64_t row_size(const std::string& dataset) const;
  void write_attribute(const std::string& object, const std::string& name, NumberType type, const void* data,
                       std::size_t count, bool scalar);
  void read_attribute(const std::string& object, const std::string& name, NumberType type, void* data,
                      bool expect_scalar) const;
  std::size_t attribute_size(const std::string& object, const std::string& name) const;

  std::string path_;
  hdf5::FileHandle file_;
};

}  // namespace tailflow::io
