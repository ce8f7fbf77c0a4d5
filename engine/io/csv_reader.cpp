#include "engine/io/csv_reader.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

#include "engine/comm/collectives.hpp"
#include "engine/dataset/shuffle.hpp"

namespace tailflow::io {

BadRowPolicy bad_row_policy_from_option(const std::string& text) {
  if (text == "fail") return BadRowPolicy::kFailFast;
  if (text == "skip") return BadRowPolicy::kDropMalformed;
  throw Error(fmt::format("--on-bad-row must be 'fail' or 'skip', not '{}'", text));
}

namespace {

// Long values (a whole pasted URL) would drown the message; the start is enough to recognise them.
std::string shorten(std::string_view value) {
  constexpr std::size_t kMax = 80;
  if (value.size() <= kMax) return std::string(value);
  return fmt::format("{}...", value.substr(0, kMax));
}

std::string system_error_text() {
  return std::strerror(errno);
}

// Reads exactly `bytes` bytes at `offset` (fewer only at the end of the file); returns how many it read.
std::size_t read_at(int fd, const std::string& path, char* buffer, std::size_t bytes, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < bytes) {
    ssize_t got = ::pread(fd, buffer + done, bytes - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      throw Error(fmt::format("cannot read '{}': {}", path, system_error_text()));
    }
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

// The offset just after the first '\n' at or after `offset`, or the file size if there is none.
std::uint64_t next_line_start(int fd, const std::string& path, std::uint64_t offset,
                              std::uint64_t file_bytes) {
  constexpr std::size_t kChunk = 64 * 1024;
  std::vector<char> chunk(kChunk);
  while (offset < file_bytes) {
    std::size_t got =
        read_at(fd, path, chunk.data(), std::min<std::uint64_t>(kChunk, file_bytes - offset), offset);
    if (got == 0) break;
    const void* hit = std::memchr(chunk.data(), '\n', got);
    if (hit) return offset + static_cast<std::uint64_t>(static_cast<const char*>(hit) - chunk.data()) + 1;
    offset += got;
  }
  return file_bytes;
}

// Rank r's nominal first byte: the file cut into `ranks` ranges whose sizes differ by at most one byte.
std::uint64_t nominal_offset(std::uint64_t file_bytes, int rank, int ranks) {
  std::uint64_t base = file_bytes / static_cast<std::uint64_t>(ranks);
  std::uint64_t extra = file_bytes % static_cast<std::uint64_t>(ranks);
  auto r = static_cast<std::uint64_t>(rank);
  return base * r + std::min(r, extra);
}

// The aligned byte range [begin, end) of lines that `rank` owns.
std::pair<std::uint64_t, std::uint64_t> line_range(int fd, const std::string& path, std::uint64_t file_bytes,
                                                   int rank, int ranks) {
  auto aligned_start = [&](int r) -> std::uint64_t {
    if (r == 0) return 0;
    if (r == ranks) return file_bytes;
    return next_line_start(fd, path, nominal_offset(file_bytes, r, ranks), file_bytes);
  };
  std::uint64_t begin = aligned_start(rank);
  std::uint64_t end = aligned_start(rank + 1);
  return {begin, std::max(begin, end)};
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// This rank's bytes of the file, mapped read-only (no copy out of the page cache), or read into memory where
// mapping fails.
class RangeBuffer {
 public:
  RangeBuffer(int fd, const std::string& path, std::uint64_t begin, std::uint64_t length) : length_(length) {
    if (length == 0) return;
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const std::uint64_t map_begin = begin / page * page;
    map_length_ = static_cast<std::size_t>(begin + length - map_begin);
    void* mapped = ::mmap(nullptr, map_length_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd,
                          static_cast<off_t>(map_begin));
    if (mapped != MAP_FAILED) {
      mapping_ = mapped;
      data_ = static_cast<const char*>(mapped) + (begin - map_begin);
      return;
    }
    copy_ = std::make_unique_for_overwrite<char[]>(length);
    if (read_at(fd, path, copy_.get(), length, begin) != length)
      throw Error(fmt::format("'{}' shrank while it was being read", path));
    data_ = copy_.get();
  }
  ~RangeBuffer() {
    if (mapping_) ::munmap(mapping_, map_length_);
  }
  RangeBuffer(const RangeBuffer&) = delete;
  RangeBuffer& operator=(const RangeBuffer&) = delete;

  const char* data() const { return data_; }
  std::size_t size() const { return length_; }

 private:
  std::size_t length_ = 0;
  const char* data_ = nullptr;
  void* mapping_ = nullptr;
  std::size_t map_length_ = 0;
  std::unique_ptr<char[]> copy_;
};

}  // namespace

void CsvRow::fail(std::size_t column, const std::string& what) const {
  throw InputError(reader_->path(), line_, reader_->column_label(column), what);
}

void CsvRow::fail_number(std::size_t column, NumberError error, bool integral) const {
  std::string_view value = (*fields_)[column];
  switch (error) {
    case NumberError::kEmpty:
      fail(column, fmt::format("is empty, expected {}", integral ? "an integer" : "a number"));
    case NumberError::kOutOfRange:
      fail(column, fmt::format("'{}' is out of range", shorten(value)));
    case NumberError::kNotANumber:
    case NumberError::kNone:
      break;
  }
  fail(column, fmt::format("'{}' is not {}", shorten(value), integral ? "an integer" : "a number"));
}

CsvReader::CsvReader(Context& ctx, std::string path, CsvOptions options)
    : ctx_(ctx), path_(std::move(path)), options_(std::move(options)) {
  std::string failure;
  try {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(fmt::format("cannot open '{}': {}", path_, system_error_text()));
    struct stat info {};
    if (::fstat(fd_, &info) != 0)
      throw Error(fmt::format("cannot stat '{}': {}", path_, system_error_text()));
    if (S_ISDIR(info.st_mode)) throw Error(fmt::format("'{}' is a directory, expected a file", path_));
    file_bytes_ = static_cast<std::uint64_t>(info.st_size);

    // The sample grows until it holds a few complete lines (or the whole file).
    HeaderMode header = options_.header;
    if (!options_.column_names.empty() && header == HeaderMode::kAuto) header = HeaderMode::kAbsent;
    std::size_t sample_bytes = 64 * 1024;
    while (true) {
      std::string sample(std::min<std::uint64_t>(sample_bytes, file_bytes_), '\0');
      sample.resize(read_at(fd_, path_, sample.data(), sample.size(), 0));
      bool complete = sample.size() == file_bytes_;
      layout_ = detect_layout(sample, complete, options_.separator, header);
      if (!layout_.empty || complete || sample_bytes >= (64u << 20)) break;
      sample_bytes *= 4;
    }
    if (layout_.empty) throw InputError(path_, 1, "the file is empty (no data rows)");

    if (!options_.column_names.empty()) {
      column_names_ = options_.column_names;
      column_count_ = column_names_.size();
    } else {
      column_names_ = layout_.header;
      column_count_ = layout_.field_count;
    }
  } catch (const Error& e) {
    failure = e.what();
  }
  try {
    ctx_.check_collectively(failure);
  } catch (...) {
    if (fd_ >= 0) ::close(fd_);
    throw;
  }
}

CsvReader::~CsvReader() {
  if (fd_ >= 0) ::close(fd_);
}

std::string CsvReader::column_label(std::size_t column) const {
  if (column < column_names_.size()) return column_names_[column];
  return fmt::format("column {}", column + 1);
}

std::optional<std::size_t> CsvReader::find_column(std::string_view name_or_index) const {
  for (std::size_t c = 0; c < column_names_.size(); ++c)
    if (column_names_[c] == name_or_index) return c;
  for (std::size_t c = 0; c < column_names_.size(); ++c)
    if (equal_ignoring_case(column_names_[c], name_or_index)) return c;
  std::size_t index = 0;
  const char* last = name_or_index.data() + name_or_index.size();
  auto [end, error] = std::from_chars(name_or_index.data(), last, index);
  if (!name_or_index.empty() && error == std::errc{} && end == last && index < column_count_) return index;
  return std::nullopt;
}

std::size_t CsvReader::column(std::string_view name_or_index) const {
  auto found = find_column(name_or_index);
  if (found) return *found;
  std::string known;
  for (std::size_t c = 0; c < column_count_; ++c)
    known += fmt::format("{}{}", c ? ", " : "", column_label(c));
  std::uint64_t line = layout_.header_line ? layout_.header_line : 1;
  throw CollectiveError(
      InputError(path_, line,
                 fmt::format("no column '{}'; the {} columns are: {}{}", name_or_index, column_count_, known,
                             column_names_.empty() ? " (no header: name them with --columns)" : ""))
          .what());
}

CsvReadReport CsvReader::for_each_row(const std::function<void(const CsvRow&)>& on_row) {
  CsvReadReport report;
  report.file_bytes = file_bytes_;
  std::string failure;

  // 1. Read this rank's lines into one buffer.
  std::uint64_t begin = 0;
  std::unique_ptr<RangeBuffer> buffer;
  try {
    auto [first, last] = line_range(fd_, path_, file_bytes_, ctx_.rank(), ctx_.size());
    begin = first;
    buffer = std::make_unique<RangeBuffer>(fd_, path_, first, last - first);
  } catch (const Error& e) {
    failure = e.what();
  }
  ctx_.check_collectively(failure);
  const std::size_t length = buffer->size();
  report.local_bytes = length;

  // 2. The first line number of this rank: 1 + the line breaks in all ranges before it.
  const char* data = buffer->data();
  std::uint64_t line_breaks = static_cast<std::uint64_t>(std::count(data, data + length, '\n'));
  std::uint64_t line = 1 + comm::exclusive_prefix_sum(ctx_.comm(), line_breaks);

  // 3. Parse line by line.
  std::vector<std::string> examples;
  std::vector<std::string_view> fields;
  fields.reserve(column_count_ + 4);
  std::string scratch;
  CsvRow row;
  row.reader_ = this;
  row.fields_ = &fields;
  const bool drop_malformed = options_.bad_rows == BadRowPolicy::kDropMalformed;
  const char* cursor = data;
  const char* end = data + length;
  if (begin == 0 && layout_.bom_bytes && length >= layout_.bom_bytes) cursor += layout_.bom_bytes;
  for (; cursor < end; ++line) {
    const char* newline =
        static_cast<const char*>(std::memchr(cursor, '\n', static_cast<std::size_t>(end - cursor)));
    if (!newline) newline = end;
    std::string_view text =
        strip_carriage_return(std::string_view(cursor, static_cast<std::size_t>(newline - cursor)));
    cursor = newline + 1;
    if (line == layout_.header_line || text.empty() || is_blank(text)) continue;
    try {
      SplitResult split = split_fields(text, layout_.dialect, fields, scratch);
      if (split.status != SplitStatus::kOk)
        throw InputError(path_, line, describe_split_failure(split, layout_.dialect));
      if (fields.size() != column_count_)
        throw InputError(
            path_, line,
            fmt::format("expected {} fields separated by {}, found {}: '{}'", column_count_,
                        describe_separator(layout_.dialect.separator), fields.size(), shorten(text)));
      row.line_ = line;
      on_row(row);
      ++report.local_rows;
    } catch (const InputError& e) {
      if (!drop_malformed) {
        failure = e.what();
        break;
      }
      ++report.skipped_rows;
      if (examples.size() < options_.max_examples) examples.emplace_back(e.what());
    } catch (const Error& e) {
      failure = e.what();
      break;
    }
  }
  buffer.reset();
  ctx_.check_collectively(failure);

  // 4. Totals over ranks; the first examples in file order (ranks hold consecutive parts of the file).
  std::uint64_t totals[2] = {report.local_rows, report.skipped_rows};
  comm::allreduce(ctx_.comm(), std::span<std::uint64_t>(totals), comm::ReduceOp::kSum);
  report.rows = totals[0];
  report.skipped_rows = totals[1];
  if (report.skipped_rows > 0) {
    report.skipped_examples = allgather_rows(ctx_.comm(), examples);
    if (report.skipped_examples.size() > options_.max_examples)
      report.skipped_examples.resize(options_.max_examples);
  }
  return report;
}

}  // namespace tailflow::io
