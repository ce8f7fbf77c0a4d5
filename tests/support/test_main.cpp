// GoogleTest main for tailflow. With --backend=mpi the distributed tests run on MPI_COMM_WORLD; rank 0
// prints the usual report, other ranks print only their failures, and the exit status is the worst over all
// ranks, so one failing rank fails the job.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstring>
#include <memory>

#include "engine/comm/collectives.hpp"
#include "engine/comm/mpi_communicator.hpp"
#include "engine/comm/mpi_environment.hpp"
#include "tests/support/distributed_test.hpp"

namespace {

// Prints failed assertions with the rank in front (used on ranks other than 0).
class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (result.failed())
      std::fprintf(stderr, "[rank %d] %s:%d: Failure\n%s\n", rank_,
                   result.file_name() ? result.file_name() : "?", result.line_number(), result.summary());
  }

 private:
  int rank_;
};

}  // namespace

int main(int argc, char** argv) {
  bool use_mpi = false;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--backend=mpi") == 0) use_mpi = true;
  ::testing::InitGoogleTest(&argc, argv);
  // MPI starts only under mpiexec: a singleton MPI_Init costs seconds, and ctest runs every test of the
  // threads backend as its own process.
  std::unique_ptr<tailflow::comm::MpiEnvironment> mpi;
  std::unique_ptr<tailflow::comm::MpiCommunicator> world;
  if (use_mpi) {
    mpi = std::make_unique<tailflow::comm::MpiEnvironment>(argc, argv);
    world = std::make_unique<tailflow::comm::MpiCommunicator>();
    tailflow::testing::set_mpi_communicator(world.get());
    if (world->rank() != 0) {
      auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
      delete listeners.Release(listeners.default_result_printer());
      listeners.Append(new RankFailurePrinter(world->rank()));
    }
  }
  int result = RUN_ALL_TESTS();
  if (world) result = tailflow::comm::allreduce_max(*world, result);
  world.reset();  // frees its MPI communicator before MPI_Finalize
  return result;
}
