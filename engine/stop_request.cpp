#include "engine/stop_request.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/comm/collectives.hpp"

namespace tailflow {
namespace {

// sig_atomic_t-sized lock-free atomic: the only kind of state a signal handler may touch.
std::atomic<int> received_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

// Seconds a rank may take from SIGTERM/SIGINT to its exit before it gives up on stopping cleanly (0: no
// limit), and the line it then prints (prepared in advance: a signal handler may only make calls such as
// write(2)). Under srun, a rank whose peer died waits in a collective for ever and gets only SIGTERM when the
// step is cancelled; without this deadline it would hold the job until Slurm's SIGKILL (KillWait, 30 s by
// default). mpirun ends such ranks by itself, and a Ctrl-C'd run outside Slurm should reach its checkpoint
// however long it takes: so the default is 20 s inside a Slurm job and no limit elsewhere.
unsigned stop_grace_seconds = 0;
char grace_message[256] = "";
// Set once every rank's checkpoint is written: a stop can no longer lose work.
std::atomic<bool> checkpoint_complete{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void give_up_stopping(int) {
  if (checkpoint_complete.load()) _exit(kExitStopped);
  if (write(STDERR_FILENO, grace_message, std::strlen(grace_message)) < 0) {
    // Nothing else to do: the exit below is what matters.
  }
  _exit(128 + SIGTERM);
}

// The first signal asks for a clean stop at the next loop boundary; a second one (an impatient Ctrl-C, or a
// stage with no loop to poll the flag) ends the process the default way at once. SIGUSR1 is a warning ahead
// of time (Slurm's --signal), so only SIGTERM and SIGINT start the grace deadline.
extern "C" void remember_stop_signal(int signal_number) {
  int expected = 0;
  if (!received_signal.compare_exchange_strong(expected, signal_number)) {
    if (checkpoint_complete.load()) _exit(kExitStopped);
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
    return;
  }
  if (signal_number != SIGUSR1 && stop_grace_seconds > 0) alarm(stop_grace_seconds);
}

// This process's rank as the launcher tells it (MPI is not initialised yet when the handlers go in).
std::string launcher_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID"})
    if (const char* value = std::getenv(name)) return value;
  return "0";
}

}  // namespace

void install_stop_signal_handlers() {
  stop_grace_seconds = std::getenv("SLURM_JOB_ID") != nullptr ? 20 : 0;
  if (const char* grace = std::getenv("TAILFLOW_STOP_GRACE_S"))
    stop_grace_seconds = static_cast<unsigned>(std::strtoul(grace, nullptr, 10));
  fmt::format_to_n(grace_message, sizeof(grace_message) - 1,
                   "tailflow: rank {}: no clean stop within {} s of the stop signal (waiting for a rank that "
                   "died?); exiting without a checkpoint\n",
                   launcher_rank(), stop_grace_seconds);
  struct sigaction deadline = {};
  deadline.sa_handler = give_up_stopping;
  sigemptyset(&deadline.sa_mask);
  sigaction(SIGALRM, &deadline, nullptr);
  struct sigaction action = {};
  action.sa_handler = remember_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // blocking reads and MPI progress continue; loops poll the flag
  for (int signal_number : {SIGTERM, SIGUSR1, SIGINT}) sigaction(signal_number, &action, nullptr);
}

int stop_signal_received() {
  return received_signal.load();
}

bool stop_requested(comm::Communicator& comm) {
  const int local = stop_signal_received() != 0 ? 1 : 0;
  return comm::allreduce_max(comm, local) != 0;
}

void mark_stop_checkpointed() {
  checkpoint_complete.store(true);
}

void simulate_stop_signal(int signal_number) {
  int expected = 0;
  received_signal.compare_exchange_strong(expected, signal_number);
}

void clear_stop_signal() {
  alarm(0);
  received_signal.store(0);
  checkpoint_complete.store(false);
}

}  // namespace tailflow
