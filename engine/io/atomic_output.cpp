#include "engine/io/atomic_output.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"

namespace tailflow::io {

namespace fs = std::filesystem;

namespace {

fs::path unique_temporary_for(const fs::path& final_path) {
  // Unique per process (pid) and per object (counter); threads-backend ranks share the pid.
  static std::atomic<std::uint64_t> counter{0};
  return fs::path(final_path).concat(fmt::format(".tmp-{}-{}", ::getpid(), counter.fetch_add(1)));
}

void check_parent_directory(const fs::path& final_path) {
  auto parent = final_path.parent_path();
  if (!parent.empty() && !fs::is_directory(parent))
    throw Error(fmt::format("cannot write '{}': directory '{}' does not exist", final_path.string(),
                            parent.string()));
}

// fsync on a path (file or directory).
void sync_path(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0)
    throw Error(fmt::format("cannot open '{}' to sync it: {}", path.string(), std::strerror(errno)));
  int status = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  // Some file systems cannot sync directories (EINVAL); the rename itself is still atomic there.
  if (status != 0 && !(directory && saved == EINVAL))
    throw Error(fmt::format("cannot write '{}' to disk: {}", path.string(), std::strerror(saved)));
}

void remove_quietly(const fs::path& path) {
  std::error_code ignored;
  fs::remove(path, ignored);
}

}  // namespace

// --- AtomicOutput --------------------------------------------------------------------------------------

AtomicOutput::AtomicOutput(fs::path final_path)
    : final_path_(std::move(final_path)), temporary_path_(unique_temporary_for(final_path_)) {
  check_parent_directory(final_path_);
}

AtomicOutput::~AtomicOutput() {
  if (!committed_ && !temporary_path_.empty()) remove_quietly(temporary_path_);
}

AtomicOutput::AtomicOutput(AtomicOutput&& other) noexcept
    : final_path_(std::move(other.final_path_)),
      temporary_path_(std::exchange(other.temporary_path_, {})),
      committed_(other.committed_) {}

AtomicOutput& AtomicOutput::operator=(AtomicOutput&& other) noexcept {
  if (this != &other) {
    if (!committed_ && !temporary_path_.empty()) remove_quietly(temporary_path_);
    final_path_ = std::move(other.final_path_);
    temporary_path_ = std::exchange(other.temporary_path_, {});
    committed_ = other.committed_;
  }
  return *this;
}

void AtomicOutput::sync_to_disk() const {
  if (committed_ || temporary_path_.empty())
    throw Error(fmt::format("output '{}' was already committed or discarded", final_path_.string()));
  if (!fs::exists(temporary_path_))
    throw Error(fmt::format("cannot commit '{}': nothing was written to its temporary file '{}'",
                            final_path_.string(), temporary_path_.string()));
  sync_path(temporary_path_, /*directory=*/false);
}

void AtomicOutput::rename_into_place() {
  if (::rename(temporary_path_.c_str(), final_path_.c_str()) != 0)
    throw Error(fmt::format("cannot rename '{}' to '{}': {}", temporary_path_.string(), final_path_.string(),
                            std::strerror(errno)));
  committed_ = true;
  auto parent = final_path_.parent_path();
  sync_path(parent.empty() ? fs::path(".") : parent, /*directory=*/true);
}

void AtomicOutput::commit() {
  sync_to_disk();
  rename_into_place();
}

void AtomicOutput::discard() {
  if (!committed_ && !temporary_path_.empty()) remove_quietly(temporary_path_);
  temporary_path_.clear();
}

// --- collective commit ---------------------------------------------------------------------------------

void commit_collectively(Context& ctx, std::span<AtomicOutput* const> rank_outputs,
                         AtomicOutput* root_output) {
  // Phase 1: every rank makes its files durable; any failure stops everyone before anything is renamed.
  std::string failure;
  try {
    for (auto* output : rank_outputs) output->sync_to_disk();
    if (ctx.is_root() && root_output) root_output->sync_to_disk();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  ctx.check_collectively(failure);

  // Phase 2: every rank renames its own files; then, once all have, rank 0 renames the root output.
  try {
    for (auto* output : rank_outputs) output->rename_into_place();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  ctx.check_collectively(failure);
  try {
    if (ctx.is_root() && root_output) root_output->rename_into_place();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  ctx.check_collectively(failure);
}

// --- SharedAtomicOutput --------------------------------------------------------------------------------

SharedAtomicOutput::SharedAtomicOutput(Context& ctx, fs::path final_path)
    : ctx_(ctx), final_path_(std::move(final_path)) {
  std::string failure;
  std::string temporary;
  if (ctx.is_root()) {
    try {
      check_parent_directory(final_path_);
      temporary = unique_temporary_for(final_path_).string();
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  ctx.check_collectively(failure);
  temporary_path_ = comm::broadcast_string(ctx.comm(), temporary, 0);
}

SharedAtomicOutput::~SharedAtomicOutput() {
  if (!committed_ && ctx_.is_root()) remove_quietly(temporary_path_);
}

void SharedAtomicOutput::commit() {
  ctx_.comm().barrier();  // every rank has finished writing and closed the file
  std::string failure;
  if (ctx_.is_root()) {
    try {
      sync_path(temporary_path_, /*directory=*/false);
      if (::rename(temporary_path_.c_str(), final_path_.c_str()) != 0)
        throw Error(fmt::format("cannot rename '{}' to '{}': {}", temporary_path_.string(),
                                final_path_.string(), std::strerror(errno)));
      auto parent = final_path_.parent_path();
      sync_path(parent.empty() ? fs::path(".") : parent, /*directory=*/true);
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  ctx_.check_collectively(failure);
  committed_ = true;
}

}  // namespace tailflow::io
