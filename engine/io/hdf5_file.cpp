#include "engine/io/hdf5_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "engine/error.hpp"

namespace tailflow::io {

namespace hdf5 {

std::recursive_mutex& library_mutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

Hdf5Lock::Hdf5Lock() : guard_(library_mutex()) {
  static std::once_flag quiet;
  // HDF5 would print its whole error stack to stderr on every failure; we raise our own messages instead.
  std::call_once(quiet, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

}  // namespace hdf5

using namespace hdf5;

namespace {
std::string take_hdf5_error_detail();
}  // namespace

hid_t hdf5::native_type(NumberType type) {
  switch (type) {
    case NumberType::kInt8:
      return H5T_NATIVE_INT8;
    case NumberType::kUInt8:
      return H5T_NATIVE_UINT8;
    case NumberType::kInt32:
      return H5T_NATIVE_INT32;
    case NumberType::kUInt32:
      return H5T_NATIVE_UINT32;
    case NumberType::kInt64:
      return H5T_NATIVE_INT64;
    case NumberType::kUInt64:
      return H5T_NATIVE_UINT64;
    case NumberType::kFloat:
      return H5T_NATIVE_FLOAT;
    case NumberType::kDouble:
      return H5T_NATIVE_DOUBLE;
  }
  return -1;
}

DatatypeHandle hdf5::utf8_string_type(std::size_t fixed_width_or_zero_for_variable) {
  DatatypeHandle type(H5Tcopy(H5T_C_S1));
  if (fixed_width_or_zero_for_variable == 0) {
    H5Tset_size(type.get(), H5T_VARIABLE);
  } else {
    H5Tset_size(type.get(), fixed_width_or_zero_for_variable);
    H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  }
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

void hdf5::throw_error(const std::string& file, const std::string& what) {
  throw Error(fmt::format("HDF5 file '{}': {}: {}", file, what, take_hdf5_error_detail()));
}

namespace {

// Object paths for messages: "items/vectors", or "/" for the root.
std::string display_name(const std::string& object) {
  if (object.empty() || object == "/") return "/";
  return object.front() == '/' ? object.substr(1) : object;
}

// The most specific message on HDF5's error stack (e.g. "name already exists"), then clears the stack.
std::string take_hdf5_error_detail() {
  std::vector<std::string> messages;
  auto collect = [](unsigned, const H5E_error2_t* error, void* data) -> herr_t {
    auto* out = static_cast<std::vector<std::string>*>(data);
    char minor[256] = {0};
    H5Eget_msg(error->min_num, nullptr, minor, sizeof(minor));
    std::string text = error->desc ? error->desc : "";
    if (minor[0] != '\0' && text.find(minor) == std::string::npos)
      text = text.empty() ? std::string(minor) : fmt::format("{} ({})", text, minor);
    out->push_back(std::move(text));
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect, &messages);
  H5Eclear2(H5E_DEFAULT);
  for (const auto& message : messages)
    if (!message.empty()) return message;
  return "unknown HDF5 error";
}

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw_error(file, what);
}

[[noreturn]] void fail_plain(const std::string& file, const std::string& what) {
  H5Eclear2(H5E_DEFAULT);
  throw Error(fmt::format("HDF5 file '{}': {}", file, what));
}

// Link creation that also creates missing parent groups.
PropertyListHandle link_creation_with_parents() {
  PropertyListHandle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  return lcpl;
}

DataspaceHandle simple_space(const std::vector<std::uint64_t>& dims) {
  std::vector<hsize_t> h(dims.begin(), dims.end());
  return DataspaceHandle(H5Screate_simple(static_cast<int>(h.size()), h.data(), nullptr));
}

std::vector<std::uint64_t> space_dims(hid_t space) {
  int rank = H5Sget_simple_extent_ndims(space);
  if (rank <= 0) return {};
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return {dims.begin(), dims.end()};
}

}  // namespace

// --- opening and closing -------------------------------------------------------------------------------

Hdf5File Hdf5File::create(const std::filesystem::path& path) {
  Hdf5Lock lock;
  std::string name = path.string();
  auto parent = path.parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent))
    fail_plain(name, fmt::format("cannot create the file: directory '{}' does not exist", parent.string()));
  FileHandle file(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  if (!file) fail(name, "cannot create the file");
  return Hdf5File(name, std::move(file));
}

Hdf5File Hdf5File::open(const std::filesystem::path& path, OpenMode mode) {
  Hdf5Lock lock;
  std::string name = path.string();
  if (!std::filesystem::exists(path)) fail_plain(name, "the file does not exist");
  unsigned flags = mode == OpenMode::kReadOnly ? H5F_ACC_RDONLY : H5F_ACC_RDWR;
  FileHandle file(H5Fopen(name.c_str(), flags, H5P_DEFAULT));
  if (!file) fail(name, "cannot open the file (is it an HDF5 file?)");
  return Hdf5File(name, std::move(file));
}

Hdf5File::~Hdf5File() = default;

void Hdf5File::close() {
  if (!file_) return;
  Hdf5Lock lock;
  bool flushed = H5Fflush(file_.get(), H5F_SCOPE_LOCAL) >= 0;
  bool closed = H5Fclose(file_.release()) >= 0;
  if (!flushed || !closed) fail(path_, "cannot write the file to disk");
}

// --- structure -----------------------------------------------------------------------------------------

void Hdf5File::create_group(const std::string& group_path) {
  Hdf5Lock lock;
  if (display_name(group_path) == "/") return;
  if (exists(group_path)) {
    if (H5Oexists_by_name(file_.get(), group_path.c_str(), H5P_DEFAULT) > 0) {
      H5O_info_t info;
      if (H5Oget_info_by_name2(file_.get(), group_path.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) >= 0 &&
          info.type == H5O_TYPE_GROUP)
        return;
    }
    fail_plain(path_, fmt::format("cannot create group '{}': a non-group object has that name",
                                  display_name(group_path)));
  }
  auto lcpl = link_creation_with_parents();
  GroupHandle group(H5Gcreate2(file_.get(), group_path.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!group) fail(path_, fmt::format("cannot create group '{}'", display_name(group_path)));
}

bool Hdf5File::exists(const std::string& object_path) const {
  Hdf5Lock lock;
  std::string name = display_name(object_path);
  if (name == "/") return true;
  // H5Lexists fails (rather than returning false) when a parent is missing, so walk the path.
  std::string prefix;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t slash = name.find('/', start);
    std::string part = name.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    prefix += (prefix.empty() ? "" : "/") + part;
    if (H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

bool Hdf5File::is_dataset(const std::string& object_path) const {
  Hdf5Lock lock;
  if (!exists(object_path)) return false;
  H5O_info_t info;
  if (H5Oget_info_by_name2(file_.get(), object_path.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  return info.type == H5O_TYPE_DATASET;
}

std::vector<std::string> Hdf5File::list_datasets(const std::string& group_path) const {
  Hdf5Lock lock;
  ObjectHandle group(H5Oopen(file_.get(), group_path.empty() ? "/" : group_path.c_str(), H5P_DEFAULT));
  if (!group) fail(path_, fmt::format("cannot open group '{}'", display_name(group_path)));
  struct Visit {
    std::string prefix;
    std::vector<std::string> names;
  } visit{display_name(group_path) == "/" ? "" : display_name(group_path) + "/", {}};
  auto collect = [](hid_t, const char* name, const H5O_info_t* info, void* data) -> herr_t {
    auto* v = static_cast<Visit*>(data);
    if (info->type == H5O_TYPE_DATASET) v->names.push_back(v->prefix + name);
    return 0;
  };
  if (H5Ovisit2(group.get(), H5_INDEX_NAME, H5_ITER_INC, collect, &visit, H5O_INFO_BASIC) < 0)
    fail(path_, fmt::format("cannot list the datasets of group '{}'", display_name(group_path)));
  std::sort(visit.names.begin(), visit.names.end());
  return visit.names;
}

namespace {
DatasetHandle open_dataset(hid_t file, const std::string& path, const std::string& dataset) {
  DatasetHandle handle(H5Dopen2(file, dataset.c_str(), H5P_DEFAULT));
  if (!handle) fail(path, fmt::format("cannot open dataset '{}'", display_name(dataset)));
  return handle;
}
}  // namespace

std::vector<std::uint64_t> Hdf5File::dims(const std::string& dataset) const {
  Hdf5Lock lock;
  auto handle = open_dataset(file_.get(), path_, dataset);
  DataspaceHandle space(H5Dget_space(handle.get()));
  return space_dims(space.get());
}

std::uint64_t Hdf5File::element_count(const std::string& dataset) const {
  auto shape = dims(dataset);
  return std::accumulate(shape.begin(), shape.end(), std::uint64_t{1}, std::multiplies<>());
}

std::uint64_t Hdf5File::row_size(const std::string& dataset) const {
  auto shape = dims(dataset);
  if (shape.empty())
    fail_plain(path_, fmt::format("dataset '{}' is a scalar, it has no rows", display_name(dataset)));
  return std::accumulate(shape.begin() + 1, shape.end(), std::uint64_t{1}, std::multiplies<>());
}

std::size_t Hdf5File::string_width(const std::string& dataset) const {
  Hdf5Lock lock;
  auto handle = open_dataset(file_.get(), path_, dataset);
  DatatypeHandle type(H5Dget_type(handle.get()));
  if (H5Tget_class(type.get()) != H5T_STRING)
    fail_plain(path_, fmt::format("dataset '{}' does not hold strings", display_name(dataset)));
  if (H5Tis_variable_str(type.get()) > 0) return 0;
  return H5Tget_size(type.get());
}

// --- numbers -------------------------------------------------------------------------------------------

void Hdf5File::check_matrix_size(const std::string& dataset, std::size_t values, std::uint64_t rows,
                                 std::uint64_t cols) const {
  if (values != rows * cols)
    throw Error(fmt::format("HDF5 file '{}': cannot write dataset '{}': {} values do not make {} x {} matrix",
                            path_, display_name(dataset), values, rows, cols));
}

namespace {

// Dataset creation properties: contiguous, or chunks of about 1 MiB, byte-shuffled and deflated.
PropertyListHandle creation_properties(const std::vector<std::uint64_t>& dims, std::size_t element_bytes,
                                       const WriteOptions& options) {
  PropertyListHandle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  bool empty = std::find(dims.begin(), dims.end(), 0) != dims.end();
  if (options.compression_level > 0 && !dims.empty() && !empty) {
    std::vector<hsize_t> chunk(dims.begin(), dims.end());
    std::uint64_t row_bytes = element_bytes;
    for (std::size_t i = 1; i < dims.size(); ++i) row_bytes *= dims[i];
    chunk[0] = std::clamp<std::uint64_t>((std::uint64_t{1} << 20) / std::max<std::uint64_t>(row_bytes, 1), 1,
                                         dims[0]);
    H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
    H5Pset_shuffle(dcpl.get());
    H5Pset_deflate(dcpl.get(), static_cast<unsigned>(std::min(options.compression_level, 9)));
  }
  return dcpl;
}

}  // namespace

void Hdf5File::write_numbers(const std::string& dataset, NumberType type, const void* data,
                             const std::vector<std::uint64_t>& dims, const WriteOptions& options) {
  Hdf5Lock lock;
  hid_t mem_type = native_type(type);
  auto space = simple_space(dims);
  auto lcpl = link_creation_with_parents();
  auto dcpl = creation_properties(dims, H5Tget_size(mem_type), options);
  DatasetHandle handle(
      H5Dcreate2(file_.get(), dataset.c_str(), mem_type, space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT));
  if (!handle) fail(path_, fmt::format("cannot create dataset '{}'", display_name(dataset)));
  bool empty = std::find(dims.begin(), dims.end(), 0) != dims.end();
  if (!empty && H5Dwrite(handle.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail(path_, fmt::format("cannot write dataset '{}'", display_name(dataset)));
}

namespace {

// Selects rows [first, first + count) of the dataset's first dimension; returns the matching memory space.
// count == kAll means every row.
DataspaceHandle select_rows(const std::string& path, const std::string& dataset, hid_t file_space,
                            std::uint64_t first, std::uint64_t count, std::uint64_t all_rows_marker) {
  auto dims = space_dims(file_space);
  if (dims.empty())
    fail_plain(path, fmt::format("dataset '{}' is a scalar, it has no rows", display_name(dataset)));
  if (count == all_rows_marker) return simple_space(dims);
  if (first > dims[0] || count > dims[0] - first)
    fail_plain(path, fmt::format("cannot read rows [{}, {}) of dataset '{}': it has {} rows", first,
                                 first + count, display_name(dataset), dims[0]));
  std::vector<hsize_t> start(dims.size(), 0), extent(dims.begin(), dims.end());
  start[0] = first;
  extent[0] = count;
  if (count > 0)
    H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, extent.data(), nullptr);
  std::vector<std::uint64_t> memory_dims(extent.begin(), extent.end());
  return simple_space(memory_dims);
}

}  // namespace

void Hdf5File::read_numbers(const std::string& dataset, NumberType type, void* data, std::uint64_t first_row,
                            std::uint64_t row_count) const {
  Hdf5Lock lock;
  auto handle = open_dataset(file_.get(), path_, dataset);
  DatatypeHandle file_type(H5Dget_type(handle.get()));
  H5T_class_t type_class = H5Tget_class(file_type.get());
  if (type_class != H5T_INTEGER && type_class != H5T_FLOAT)
    fail_plain(path_, fmt::format("dataset '{}' does not hold numbers", display_name(dataset)));
  DataspaceHandle file_space(H5Dget_space(handle.get()));
  auto memory_space = select_rows(path_, dataset, file_space.get(), first_row, row_count, kAllRows);
  if (H5Sget_simple_extent_npoints(memory_space.get()) == 0) return;
  if (H5Dread(handle.get(), native_type(type), memory_space.get(), file_space.get(), H5P_DEFAULT, data) < 0)
    fail(path_, fmt::format("cannot read dataset '{}'", display_name(dataset)));
}

// --- strings -------------------------------------------------------------------------------------------

void Hdf5File::write_strings(const std::string& dataset, std::span<const std::string> values,
                             StringLayout layout, std::size_t fixed_width, const WriteOptions& options) {
  Hdf5Lock lock;
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values[i].find('\0') != std::string::npos)
      fail_plain(path_, fmt::format("cannot write dataset '{}': string {} contains a NUL byte",
                                    display_name(dataset), i));
  std::vector<std::uint64_t> dims{values.size()};
  auto space = simple_space(dims);
  auto lcpl = link_creation_with_parents();

  if (layout == StringLayout::kVariableLength) {
    auto type = utf8_string_type(0);
    auto dcpl = creation_properties(dims, sizeof(char*), options);
    DatasetHandle handle(H5Dcreate2(file_.get(), dataset.c_str(), type.get(), space.get(), lcpl.get(),
                                    dcpl.get(), H5P_DEFAULT));
    if (!handle) fail(path_, fmt::format("cannot create dataset '{}'", display_name(dataset)));
    std::vector<const char*> pointers(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) pointers[i] = values[i].c_str();
    if (!values.empty() &&
        H5Dwrite(handle.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) < 0)
      fail(path_, fmt::format("cannot write dataset '{}'", display_name(dataset)));
    return;
  }

  std::size_t longest = 0;
  for (const auto& value : values) longest = std::max(longest, value.size());
  std::size_t width = fixed_width == 0 ? std::max<std::size_t>(longest, 1) : fixed_width;
  if (longest > width)
    fail_plain(path_, fmt::format("cannot write dataset '{}': a string of {} bytes exceeds the width of {}",
                                  display_name(dataset), longest, width));
  auto type = utf8_string_type(width);
  auto dcpl = creation_properties(dims, width, options);
  DatasetHandle handle(
      H5Dcreate2(file_.get(), dataset.c_str(), type.get(), space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT));
  if (!handle) fail(path_, fmt::format("cannot create dataset '{}'", display_name(dataset)));
  std::vector<char> buffer(values.size() * width, '\0');
  for (std::size_t i = 0; i < values.size(); ++i)
    std::memcpy(&buffer[i * width], values[i].data(), values[i].size());
  if (!values.empty() && H5Dwrite(handle.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
    fail(path_, fmt::format("cannot write dataset '{}'", display_name(dataset)));
}

std::vector<std::string> Hdf5File::read_strings(const std::string& dataset) const {
  return read_string_rows(dataset, 0, kAllRows);
}

std::vector<std::string> Hdf5File::read_string_rows(const std::string& dataset, std::uint64_t first_row,
                                                    std::uint64_t row_count) const {
  Hdf5Lock lock;
  auto handle = open_dataset(file_.get(), path_, dataset);
  DatatypeHandle file_type(H5Dget_type(handle.get()));
  if (H5Tget_class(file_type.get()) != H5T_STRING)
    fail_plain(path_, fmt::format("dataset '{}' does not hold strings", display_name(dataset)));
  DataspaceHandle file_space(H5Dget_space(handle.get()));
  if (space_dims(file_space.get()).size() != 1)
    fail_plain(path_, fmt::format("string dataset '{}' is not 1-D", display_name(dataset)));
  auto memory_space = select_rows(path_, dataset, file_space.get(), first_row, row_count, kAllRows);
  auto count = static_cast<std::size_t>(H5Sget_simple_extent_npoints(memory_space.get()));
  std::vector<std::string> values(count);
  if (count == 0) return values;

  if (H5Tis_variable_str(file_type.get()) > 0) {
    auto type = utf8_string_type(0);
    std::vector<char*> pointers(count, nullptr);
    if (H5Dread(handle.get(), type.get(), memory_space.get(), file_space.get(), H5P_DEFAULT,
                pointers.data()) < 0)
      fail(path_, fmt::format("cannot read dataset '{}'", display_name(dataset)));
    for (std::size_t i = 0; i < count; ++i) values[i] = pointers[i] ? pointers[i] : "";
    H5Dvlen_reclaim(type.get(), memory_space.get(), H5P_DEFAULT, pointers.data());
    return values;
  }
  std::size_t width = H5Tget_size(file_type.get());
  auto type = utf8_string_type(width);
  std::vector<char> buffer(count * width, '\0');
  if (H5Dread(handle.get(), type.get(), memory_space.get(), file_space.get(), H5P_DEFAULT, buffer.data()) < 0)
    fail(path_, fmt::format("cannot read dataset '{}'", display_name(dataset)));
  for (std::size_t i = 0; i < count; ++i) {
    const char* start = &buffer[i * width];
    values[i].assign(start, strnlen(start, width));
  }
  return values;
}

// --- attributes ----------------------------------------------------------------------------------------

namespace {

ObjectHandle open_object(hid_t file, const std::string& path, const std::string& object) {
  ObjectHandle handle(H5Oopen(file, object.empty() ? "/" : object.c_str(), H5P_DEFAULT));
  if (!handle) fail(path, fmt::format("cannot open object '{}'", display_name(object)));
  return handle;
}

AttributeHandle open_attribute(hid_t file, const std::string& path, const std::string& object,
                               const std::string& name) {
  auto owner = open_object(file, path, object);
  if (H5Aexists(owner.get(), name.c_str()) <= 0)
    fail_plain(path, fmt::format("object '{}' has no attribute '{}'", display_name(object), name));
  AttributeHandle attribute(H5Aopen(owner.get(), name.c_str(), H5P_DEFAULT));
  if (!attribute) fail(path, fmt::format("cannot open attribute '{}' of '{}'", name, display_name(object)));
  return attribute;
}

// Creates the attribute, replacing an existing one of the same name.
AttributeHandle create_attribute(hid_t file, const std::string& path, const std::string& object,
                                 const std::string& name, hid_t type, hid_t space) {
  auto owner = open_object(file, path, object);
  if (H5Aexists(owner.get(), name.c_str()) > 0 && H5Adelete(owner.get(), name.c_str()) < 0)
    fail(path, fmt::format("cannot replace attribute '{}' of '{}'", name, display_name(object)));
  AttributeHandle attribute(H5Acreate2(owner.get(), name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT));
  if (!attribute) fail(path, fmt::format("cannot create attribute '{}' of '{}'", name, display_name(object)));
  return attribute;
}

}  // namespace

void Hdf5File::write_attribute(const std::string& object, const std::string& name, NumberType type,
                               const void* data, std::size_t count, bool scalar) {
  Hdf5Lock lock;
  DataspaceHandle space(scalar       ? H5Screate(H5S_SCALAR)
                        : count == 0 ? H5Screate(H5S_NULL)
                                     : H5Screate_simple(1, std::vector<hsize_t>{count}.data(), nullptr));
  auto attribute = create_attribute(file_.get(), path_, object, name, native_type(type), space.get());
  if (count > 0 && H5Awrite(attribute.get(), native_type(type), data) < 0)
    fail(path_, fmt::format("cannot write attribute '{}' of '{}'", name, display_name(object)));
}

void Hdf5File::set_attribute(const std::string& object, const std::string& name, const std::string& value) {
  Hdf5Lock lock;
  if (value.find('\0') != std::string::npos)
    fail_plain(path_, fmt::format("cannot write attribute '{}': the string contains a NUL byte", name));
  DataspaceHandle space(H5Screate(H5S_SCALAR));
  auto type = utf8_string_type(0);
  auto attribute = create_attribute(file_.get(), path_, object, name, type.get(), space.get());
  const char* text = value.c_str();
  if (H5Awrite(attribute.get(), type.get(), &text) < 0)
    fail(path_, fmt::format("cannot write attribute '{}' of '{}'", name, display_name(object)));
}

bool Hdf5File::has_attribute(const std::string& object, const std::string& name) const {
  Hdf5Lock lock;
  auto owner = open_object(file_.get(), path_, object);
  htri_t found = H5Aexists(owner.get(), name.c_str());
  H5Eclear2(H5E_DEFAULT);
  return found > 0;
}

std::vector<std::string> Hdf5File::attribute_names(const std::string& object) const {
  Hdf5Lock lock;
  auto owner = open_object(file_.get(), path_, object);
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->push_back(name);
    return 0;
  };
  if (H5Aiterate2(owner.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names) < 0)
    fail(path_, fmt::format("cannot list the attributes of '{}'", display_name(object)));
  return names;
}

std::size_t Hdf5File::attribute_size(const std::string& object, const std::string& name) const {
  Hdf5Lock lock;
  auto attribute = open_attribute(file_.get(), path_, object, name);
  DataspaceHandle space(H5Aget_space(attribute.get()));
  hssize_t points = H5Sget_simple_extent_npoints(space.get());
  return points < 0 ? 0 : static_cast<std::size_t>(points);
}

void Hdf5File::read_attribute(const std::string& object, const std::string& name, NumberType type, void* data,
                              bool expect_scalar) const {
  Hdf5Lock lock;
  auto attribute = open_attribute(file_.get(), path_, object, name);
  DatatypeHandle file_type(H5Aget_type(attribute.get()));
  H5T_class_t type_class = H5Tget_class(file_type.get());
  if (type_class != H5T_INTEGER && type_class != H5T_FLOAT)
    fail_plain(path_, fmt::format("attribute '{}' of '{}' is not a number", name, display_name(object)));
  DataspaceHandle space(H5Aget_space(attribute.get()));
  hssize_t points = H5Sget_simple_extent_npoints(space.get());
  if (expect_scalar && points != 1)
    fail_plain(path_, fmt::format("attribute '{}' of '{}' holds {} values, not one", name,
                                  display_name(object), points));
  if (points > 0 && H5Aread(attribute.get(), native_type(type), data) < 0)
    fail(path_, fmt::format("cannot read attribute '{}' of '{}'", name, display_name(object)));
}

std::string Hdf5File::string_attribute(const std::string& object, const std::string& name) const {
  Hdf5Lock lock;
  auto attribute = open_attribute(file_.get(), path_, object, name);
  DatatypeHandle file_type(H5Aget_type(attribute.get()));
  if (H5Tget_class(file_type.get()) != H5T_STRING)
    fail_plain(path_, fmt::format("attribute '{}' of '{}' is not a string", name, display_name(object)));
  DataspaceHandle space(H5Aget_space(attribute.get()));
  if (H5Sget_simple_extent_npoints(space.get()) != 1)
    fail_plain(path_,
               fmt::format("attribute '{}' of '{}' is not a single string", name, display_name(object)));
  if (H5Tis_variable_str(file_type.get()) > 0) {
    auto type = utf8_string_type(0);
    char* text = nullptr;
    if (H5Aread(attribute.get(), type.get(), &text) < 0)
      fail(path_, fmt::format("cannot read attribute '{}' of '{}'", name, display_name(object)));
    std::string value = text ? text : "";
    H5free_memory(text);
    return value;
  }
  std::size_t width = H5Tget_size(file_type.get());
  auto type = utf8_string_type(width);
  std::vector<char> buffer(width, '\0');
  if (H5Aread(attribute.get(), type.get(), buffer.data()) < 0)
    fail(path_, fmt::format("cannot read attribute '{}' of '{}'", name, display_name(object)));
  return std::string(buffer.data(), strnlen(buffer.data(), width));
}

}  // namespace tailflow::io
