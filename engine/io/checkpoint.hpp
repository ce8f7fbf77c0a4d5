// Checkpoints: named state saved every few iterations so a long job can resume after a crash.
//
// Layout of a checkpoint directory:
//
//   DIR/checkpoint-000012/state.h5 (+ state.shard-*.h5)   one sharded output per checkpoint
//   DIR/LATEST                                            "checkpoint-000012", written (atomically) last
//
// Saving (collective):
//   io::CheckpointWriter checkpoint(ctx, dir, iteration, settings_fingerprint);
//   checkpoint.state().write_matrix<float>("user_factors", my_user_rows, factors);
//   checkpoint.state().set_attribute("/", "loss", loss_history);
//   checkpoint.commit();   // keeps the 2 newest checkpoints by default
//
// Resuming (any rank, any rank count; not collective):
//   if (auto restored = io::restore_latest_checkpoint(dir, settings_fingerprint)) {
//     iteration = restored->iteration;
//     auto mine = restored->state.read_share<float>("user_factors", ctx.rank(), ctx.size());
//   }
//
// Why this survives a crash at any moment: a checkpoint's files become visible only through the atomic
// sharded commit, and LATEST is replaced only after that. If LATEST is missing or names a damaged
// checkpoint, the newest checkpoint-* directory whose state validates is used instead.
//
// The settings fingerprint is any string that changes when the job's settings change (e.g. a hash of the
// options that affect the result): resuming with different settings is refused with a clear Error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "engine/context.hpp"
#include "engine/io/sharded_reader.hpp"
#include "engine/io/sharded_writer.hpp"

namespace tailflow::io {

class CheckpointWriter {
 public:
  // Collective. Creates `directory` if needed.
  CheckpointWriter(Context& ctx, const std::filesystem::path& directory, std::uint64_t iteration,
                   const std::string& settings_fingerprint);

  // Where the arrays and scalar attributes of the state go (see ShardedWriter).
  ShardedWriter& state() { return *state_; }

  // Collective: commits the state, points LATEST at it, then removes all but the `keep` newest checkpoints.
  void commit(int keep = 2);

  // "checkpoint-000012"
  static std::string directory_name(std::uint64_t iteration);

 private:
  Context& ctx_;
  std::filesystem::path directory_;
  std::uint64_t iteration_;
  std::optional<ShardedWriter> state_;
};

struct RestoredCheckpoint {
  std::uint64_t iteration;
  std::string settings_fingerprint;
  ShardedReader state;  // validated: every shard is present and complete
};

// The newest complete checkpoint in `directory`, or nothing if there is none (or no such directory).
// Throws Error if it was written with another settings fingerprint. Not collective.
std::optional<RestoredCheckpoint> restore_latest_checkpoint(const std::filesystem::path& directory,
                                                            const std::string& settings_fingerprint);

}  // namespace tailflow::io
