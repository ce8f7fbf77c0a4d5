// ALS checkpoints: the factors of both sides keyed by original index, plus the iterations done and the loss
// history, in an io::CheckpointWriter directory.
//
// Rows are saved by original index, not by rank, so a run may resume on a different number of ranks: each
// rank reads an even share of the saved rows and sends every row to the rank that now owns it.
#pragma once

#include <filesystem>
#include <string>

#include "engine/context.hpp"
#include "operators/als/als_trainer.hpp"
#include "operators/als/block_layout.hpp"

namespace tailflow::ops::als {

// Changes whenever a setting or the data shape changes in a way that makes resuming meaningless.
std::string settings_fingerprint(const AlsOptions& options, const BlockLayout& layout);

// Collective: saves the trainer's current state as checkpoint number trainer.iterations_done().
void save_checkpoint(Context& ctx, const std::filesystem::path& directory, AlsTrainer& trainer,
                     const BlockLayout& layout, const std::string& fingerprint);

// Collective: loads the newest checkpoint into the trainer (factors, iterations done, loss history).
// Returns false when there is none; throws Error when it was written with other settings.
bool restore_checkpoint(Context& ctx, const std::filesystem::path& directory, AlsTrainer& trainer,
                        const BlockLayout& layout, const std::string& fingerprint);

}  // namespace tailflow::ops::als
