#include "engine/io/parallel_text_writer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "engine/comm/collectives.hpp"

namespace tailflow::io {
namespace {

std::string errno_text(int error) {
  return std::strerror(error);
}

// An open POSIX file descriptor, closed on destruction. close() reports errors (data may only be known to be
// lost at close time on some file systems); the destructor closes silently.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { reset(); }

  bool valid() const { return fd_ >= 0; }
  int get() const { return fd_; }

  // Returns 0 or the errno of the failed close.
  int close() {
    if (fd_ < 0) return 0;
    int result = ::close(std::exchange(fd_, -1));
    return result == 0 ? 0 : errno;
  }

 private:
  void reset() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }
  int fd_ = -1;
};

// Writes all of `bytes` at `offset`; returns "" or what went wrong.
std::string write_all_at(int fd, std::string_view bytes, std::uint64_t offset, const std::string& name) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t written =
        ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (written < 0) {
      if (errno == EINTR) continue;
      return fmt::format("{}: write failed at byte {}: {}", name, offset + done, errno_text(errno));
    }
    done += static_cast<std::size_t>(written);
  }
  return {};
}

// The temporary file, removed by rank 0 unless the write went through.
class TemporaryFileGuard {
 public:
  TemporaryFileGuard(std::filesystem::path path, bool owner) : path_(std::move(path)), owner_(owner) {}
  ~TemporaryFileGuard() {
    if (owner_ && !committed_) ::unlink(path_.c_str());
  }
  void commit() { committed_ = true; }

 private:
  std::filesystem::path path_;
  bool owner_;
  bool committed_ = false;
};

}  // namespace

std::uint64_t write_file_collectively(Context& ctx, const std::filesystem::path& path,
                                      std::string_view header, std::string_view local_bytes) {
  auto& comm = ctx.comm();
  const bool root = ctx.is_root();
  const std::string name = path.string();

  // Where each rank's bytes go, and how large the file will be.
  const std::uint64_t header_bytes = comm::broadcast_value<std::uint64_t>(comm, root ? header.size() : 0, 0);
  const std::uint64_t offset =
      header_bytes + comm::exclusive_prefix_sum<std::uint64_t>(comm, local_bytes.size());
  const std::uint64_t total = header_bytes + comm::allreduce_sum<std::uint64_t>(comm, local_bytes.size());

  // One temporary name for all ranks, in the target's directory so that rename() is atomic.
  const auto tag =
      comm::broadcast_value<std::uint64_t>(comm, root ? static_cast<std::uint64_t>(::getpid()) : 0, 0);
  std::filesystem::path temporary =
      path.parent_path() / fmt::format(".{}.tmp.{}", path.filename().string(), tag);
  TemporaryFileGuard guard(temporary, root);

  // Rank 0 creates the file at its final size; then the others open it.
  FileDescriptor file;
  std::string error;
  if (root) {
    file = FileDescriptor(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!file.valid())
      error = fmt::format("cannot create {}: {}", temporary.string(), errno_text(errno));
    else if (::ftruncate(file.get(), static_cast<off_t>(total)) != 0)
      error = fmt::format("cannot size {} to {} bytes: {}", temporary.string(), total, errno_text(errno));
  }
  ctx.check_collectively(error);
  if (!root) {
    file = FileDescriptor(::open(temporary.c_str(), O_WRONLY | O_CLOEXEC));
    if (!file.valid()) error = fmt::format("cannot open {}: {}", temporary.string(), errno_text(errno));
  }
  ctx.check_collectively(error);

  if (root) error = write_all_at(file.get(), header, 0, name);
  if (error.empty()) error = write_all_at(file.get(), local_bytes, offset, name);
  if (error.empty() && ::fsync(file.get()) != 0)
    error = fmt::format("{}: fsync failed: {}", name, errno_text(errno));
  if (int close_error = file.close(); error.empty() && close_error != 0)
    error = fmt::format("{}: close failed: {}", name, errno_text(close_error));
  ctx.check_collectively(error);  // also the barrier: every rank's bytes are on disk

  if (root) {
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
      error = fmt::format("cannot rename {} to {}: {}", temporary.string(), name, errno_text(errno));
    } else {
      guard.commit();
      // Make the rename itself durable.
      FileDescriptor directory(::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                                      O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (directory.valid()) ::fsync(directory.get());
    }
  }
  ctx.check_collectively(error);
  guard.commit();
  return total;
}

}  // namespace tailflow::io
