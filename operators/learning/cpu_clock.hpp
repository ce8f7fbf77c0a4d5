// CPU-time clocks for per-phase timings: on a machine shared with other work, wall time says little about
// how much a phase costs, CPU time does.
#pragma once

#include <ctime>

namespace tailflow::ops::learning {

inline double cpu_clock_seconds(clockid_t clock) {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

// The whole process (every thread).
inline double process_cpu_seconds() {
  return cpu_clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

// This thread only: the work of one phase, unaffected by other processes taking turns on the cores (exact
// with one LibTorch thread per rank; LibTorch's own worker threads are not counted).
inline double thread_cpu_seconds() {
  return cpu_clock_seconds(CLOCK_THREAD_CPUTIME_ID);
}

}  // namespace tailflow::ops::learning
