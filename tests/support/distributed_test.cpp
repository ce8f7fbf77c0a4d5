#include "tests/support/distributed_test.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "engine/comm/mpi_environment.hpp"
#include "engine/comm/thread_communicator.hpp"

namespace tailflow::testing {
namespace {
comm::Communicator* g_world = nullptr;
}

bool using_mpi() {
  return g_world != nullptr;
}
void set_mpi_communicator(comm::Communicator* world) {
  g_world = world;
}

void run_distributed(const std::vector<int>& thread_rank_counts, const std::function<void(Context&)>& body) {
  if (g_world) {
    Context ctx(*g_world);
    body(ctx);
    if (::testing::Test::HasFatalFailure()) {
      // The other ranks may be waiting in a collective; end the whole job rather than hang.
      std::fprintf(stderr, "rank %d: fatal test failure, aborting the MPI job\n", g_world->rank());
      comm::MpiEnvironment::abort_job(1);
    }
    return;
  }
  for (int ranks : thread_rank_counts) {
    SCOPED_TRACE(::testing::Message() << "threads backend with " << ranks << " ranks");
    comm::run_on_threads(ranks, [&](comm::Communicator& comm) {
      Context ctx(comm);
      body(ctx);
      // ASSERT_* returned early from this rank's body: release the others with an exception.
      if (::testing::Test::HasFatalFailure()) throw std::runtime_error("fatal assertion failure");
    });
  }
}

void run_distributed(const std::function<void(Context&)>& body) {
  run_distributed({1, 2, 3, 5}, body);
}

}  // namespace tailflow::testing
