// The cooperative stop: a signal on one rank makes every rank agree to stop at the same loop boundary.
#include "engine/stop_request.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <csignal>
#include <cstdlib>

#include "tests/support/distributed_test.hpp"

namespace tailflow {
namespace {

using testing::run_distributed;

TEST(StopRequest, NoSignalMeansNoStop) {
  run_distributed([](Context& ctx) {
    ctx.comm().barrier();
    if (ctx.is_root()) clear_stop_signal();
    ctx.comm().barrier();
    EXPECT_FALSE(stop_requested(ctx.comm()));
  });
}

TEST(StopRequest, SignalOnOneRankStopsEveryRank) {
  run_distributed([](Context& ctx) {
    ctx.comm().barrier();
    if (ctx.is_root()) clear_stop_signal();
    ctx.comm().barrier();
    // Several loop boundaries pass before the signal: nobody stops.
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(stop_requested(ctx.comm()));
    // Only the last rank's process is signalled (under mpiexec the other processes never see a flag).
    const int signalled = ctx.size() - 1;
    if (ctx.rank() == signalled) simulate_stop_signal(SIGUSR1);
    EXPECT_TRUE(stop_requested(ctx.comm()));
    if (ctx.rank() == signalled) {
      EXPECT_EQ(stop_signal_received(), SIGUSR1);
    }
    ctx.comm().barrier();
    if (ctx.rank() == signalled) clear_stop_signal();
    ctx.comm().barrier();
    EXPECT_FALSE(stop_requested(ctx.comm()));
  });
}

// A real signal reaches the handler and only sets the flag; the process goes on.
TEST(StopRequest, HandlerRecordsTheFirstSignal) {
  const int signals[4] = {SIGTERM, SIGUSR1, SIGINT, SIGALRM};
  struct sigaction saved[4] = {};
  for (int i = 0; i < 4; ++i) sigaction(signals[i], nullptr, &saved[i]);
  clear_stop_signal();
  install_stop_signal_handlers();
  std::raise(SIGUSR1);
  EXPECT_EQ(stop_signal_received(), SIGUSR1);
  clear_stop_signal();
  std::raise(SIGTERM);
  EXPECT_EQ(stop_signal_received(), SIGTERM);
  // A second signal would end the process: restore the previous handlers before anything else can arrive.
  clear_stop_signal();  // also cancels the grace deadline that SIGTERM started
  for (int i = 0; i < 4; ++i) sigaction(signals[i], &saved[i], nullptr);
}

// A rank that cannot reach a loop boundary (here: it just sleeps, as one blocked in a collective would) ends
// itself once the grace period after SIGTERM is over, saying so, instead of waiting for SIGKILL.
TEST(StopRequest, GraceDeadlineEndsARankThatCannotStop) {
  if (testing::using_mpi()) GTEST_SKIP() << "forks; runs on the threads backend only";
  EXPECT_EXIT(
      {
        setenv("TAILFLOW_STOP_GRACE_S", "1", 1);
        install_stop_signal_handlers();
        std::raise(SIGTERM);
        sleep(10);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(128 + SIGTERM), "no clean stop within 1 s");
}

// SIGUSR1 is a warning ahead of the deadline: it starts no grace period.
TEST(StopRequest, WarningSignalStartsNoDeadline) {
  if (testing::using_mpi()) GTEST_SKIP() << "forks; runs on the threads backend only";
  EXPECT_EXIT(
      {
        setenv("TAILFLOW_STOP_GRACE_S", "1", 1);
        install_stop_signal_handlers();
        std::raise(SIGUSR1);
        sleep(1);
        usleep(500 * 1000);
        std::_Exit(stop_signal_received() == SIGUSR1 ? 7 : 8);
      },
      ::testing::ExitedWithCode(7), "");
}

// Once every rank's checkpoint is complete, a further signal (srun's SIGTERM to the ranks still shutting
// down when a peer exited with 75 first) ends the process with the "stopped" status, not as killed.
TEST(StopRequest, SignalAfterTheCheckpointExitsAsStopped) {
  if (testing::using_mpi()) GTEST_SKIP() << "forks; runs on the threads backend only";
  EXPECT_EXIT(
      {
        install_stop_signal_handlers();
        std::raise(SIGUSR1);
        mark_stop_checkpointed();
        std::raise(SIGTERM);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(kExitStopped), "");
}

// Before that point a second signal still ends the process at once, the default way.
TEST(StopRequest, SecondSignalBeforeTheCheckpointKills) {
  if (testing::using_mpi()) GTEST_SKIP() << "forks; runs on the threads backend only";
  EXPECT_EXIT(
      {
        install_stop_signal_handlers();
        std::raise(SIGUSR1);
        std::raise(SIGTERM);
        std::_Exit(0);
      },
      ::testing::KilledBySignal(SIGTERM), "");
}

}  // namespace
}  // namespace tailflow
