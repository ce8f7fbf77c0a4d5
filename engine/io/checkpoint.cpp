#include "engine/io/checkpoint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "engine/error.hpp"
#include "engine/io/atomic_output.hpp"

namespace tailflow::io {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPrefix = "checkpoint-";
constexpr const char* kLatest = "LATEST";
constexpr const char* kState = "state.h5";

// The iteration of a "checkpoint-000012" directory name, if it is one.
std::optional<std::uint64_t> iteration_of(const std::string& name) {
  std::string prefix = kPrefix;
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  std::string digits = name.substr(prefix.size());
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 18) return std::nullopt;
  return std::stoull(digits);
}

// Every checkpoint-* directory, newest first.
std::vector<std::pair<std::uint64_t, fs::path>> checkpoint_directories(const fs::path& directory) {
  std::vector<std::pair<std::uint64_t, fs::path>> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    auto iteration = iteration_of(entry.path().filename().string());
    if (iteration && entry.is_directory()) found.emplace_back(*iteration, entry.path());
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return found;
}

}  // namespace

std::string CheckpointWriter::directory_name(std::uint64_t iteration) {
  return fmt::format("{}{:06d}", kPrefix, iteration);
}

CheckpointWriter::CheckpointWriter(Context& ctx, const fs::path& directory, std::uint64_t iteration,
                                   const std::string& settings_fingerprint)
    : ctx_(ctx), directory_(directory), iteration_(iteration) {
  fs::path here = directory_ / directory_name(iteration);
  std::string failure;
  if (ctx.is_root()) {
    try {
      fs::create_directories(here);
      // Temporaries of a job that crashed while writing this same checkpoint.
      for (const auto& entry : fs::directory_iterator(here))
        if (entry.path().filename().string().find(".tmp-") != std::string::npos) fs::remove(entry.path());
    } catch (const std::exception& e) {
      failure = fmt::format("cannot prepare checkpoint directory '{}': {}", here.string(), e.what());
    }
  }
  ctx.check_collectively(failure);
  state_.emplace(ctx, here / kState);
  state_->set_attribute("/", "iteration", iteration);
  state_->set_attribute("/", "settings_fingerprint", settings_fingerprint);
}

void CheckpointWriter::commit(int keep) {
  state_->commit();
  std::string failure;
  if (ctx_.is_root()) {
    try {
      AtomicOutput latest(directory_ / kLatest);
      {
        std::ofstream out(latest.temporary_path());
        out << directory_name(iteration_) << '\n';
        if (!out.flush()) throw Error(fmt::format("cannot write '{}'", latest.temporary_path().string()));
      }
      latest.commit();
      // Keep the `keep` newest up to this one; later ones belong to an abandoned run and are obsolete.
      int kept = 0;
      for (const auto& [iteration, path] : checkpoint_directories(directory_)) {
        bool keep_this = iteration <= iteration_ && kept < std::max(keep, 1);
        if (keep_this) {
          ++kept;
        } else {
          fs::remove_all(path);
        }
      }
    } catch (const std::exception& e) {
      failure =
          fmt::format("cannot complete checkpoint {} in '{}': {}", iteration_, directory_.string(), e.what());
    }
  }
  ctx_.check_collectively(failure);
}

std::optional<RestoredCheckpoint> restore_latest_checkpoint(const fs::path& directory,
                                                            const std::string& settings_fingerprint) {
  if (!fs::is_directory(directory)) return std::nullopt;
  // LATEST first; then, in case it is missing or damaged, every checkpoint directory, newest first.
  std::vector<fs::path> candidates;
  std::ifstream latest(directory / kLatest);
  std::string name;
  if (latest && std::getline(latest, name) && iteration_of(name)) candidates.push_back(directory / name);
  for (const auto& entry : checkpoint_directories(directory)) candidates.push_back(entry.second);

  for (const auto& candidate : candidates) {
    std::optional<ShardedReader> state;
    try {
      state.emplace(candidate / kState);
      if (!state->master().has_attribute("/", "iteration")) continue;
    } catch (const Error&) {
      continue;  // incomplete or damaged: try the next older one
    }
    auto iteration = state->master().attribute<std::uint64_t>("/", "iteration");
    auto fingerprint = state->master().string_attribute("/", "settings_fingerprint");
    if (fingerprint != settings_fingerprint)
      throw Error(
          fmt::format("checkpoint '{}' was written with settings '{}', but this job's settings are '{}': "
                      "resume with the same "
                      "settings, or use another checkpoint directory (or remove this one) to start afresh",
                      candidate.string(), fingerprint, settings_fingerprint));
    return RestoredCheckpoint{iteration, fingerprint, std::move(*state)};
  }
  return std::nullopt;
}

}  // namespace tailflow::io
