// Cooperative stop on SIGTERM / SIGUSR1 / SIGINT — what Slurm sends before it kills or requeues a job.
//
// The signal handler only sets a flag (a second signal kills the process at once). Long loops (ALS
// iterations, training epochs) call stop_requested() at their boundaries; it agrees across ranks (one
// allreduce), so every rank stops at the same iteration, writes its checkpoint and throws StopRequested.
// main() turns that into exit status kExitStopped, and a rerun with the same settings (or `--resume`)
// continues from the checkpoint. A rank that has not ended TAILFLOW_STOP_GRACE_S seconds after SIGTERM or
// SIGINT (default: 20 inside a Slurm job, else 0 = no limit) — typically one waiting in a collective for a
// rank that died — exits with status 143 and a line naming it, instead of hanging until the scheduler's
// SIGKILL.
#pragma once

#include "engine/comm/communicator.hpp"
#include "engine/error.hpp"

namespace tailflow {

// Exit status of a job that stopped on a signal after checkpointing (EX_TEMPFAIL: "try again later").
inline constexpr int kExitStopped = 75;

// Installs the handlers for SIGTERM, SIGUSR1 and SIGINT. Safe to call more than once.
void install_stop_signal_handlers();

// This rank's flag: the number of the first stop signal received, or 0.
int stop_signal_received();

// Collective: true on every rank when any rank has received a stop signal. Call it at the same loop
// boundaries on every rank.
bool stop_requested(comm::Communicator& comm);

// Called by every rank once the stopping stage's checkpoint is complete on all ranks (after a barrier).
// From then on a further SIGTERM/SIGINT or the grace deadline ends the process with kExitStopped instead of
// a signal status: under `srun --kill-on-bad-exit` the first rank to exit with 75 gets its peers SIGTERMed
// while they are still shutting down, and their work is saved already.
void mark_stop_checkpointed();

// For tests: raise or clear this process's flag as if a signal had arrived.
void simulate_stop_signal(int signal_number);
void clear_stop_signal();

// Thrown once a stage has saved its checkpoint after a stop request.
class StopRequested : public Error {
 public:
  using Error::Error;
};

}  // namespace tailflow
