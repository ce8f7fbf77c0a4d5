#include "engine/stop_request.hpp"

#include <atomic>
#include <csignal>

#include "engine/comm/collectives.hpp"

namespace tailflow {
namespace {

// sig_atomic_t-sized lock-free atomic: the only kind of state a signal handler may touch.
std::atomic<int> received_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

// The first signal asks for a clean stop at the next loop boundary; a second one (an impatient Ctrl-C, or a
// stage with no loop to poll the flag) ends the process the default way at once.
extern "C" void remember_stop_signal(int signal_number) {
  int expected = 0;
  if (!received_signal.compare_exchange_strong(expected, signal_number)) {
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
  }
}

}  // namespace

void install_stop_signal_handlers() {
  struct sigaction action = {};
  action.sa_handler = remember_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // blocking reads and MPI progress continue; loops poll the flag
  for (int signal_number : {SIGTERM, SIGUSR1, SIGINT}) sigaction(signal_number, &action, nullptr);
}

int stop_signal_received() { return received_signal.load(); }

bool stop_requested(comm::Communicator& comm) {
  const int local = stop_signal_received() != 0 ? 1 : 0;
  return comm::allreduce_max(comm, local) != 0;
}

void simulate_stop_signal(int signal_number) {
  int expected = 0;
  received_signal.compare_exchange_strong(expected, signal_number);
}

void clear_stop_signal() { received_signal.store(0); }

}  // namespace tailflow
