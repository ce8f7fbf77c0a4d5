// Running one test body on several ranks (Thrill's RunLocalTests idea).
//
// run_distributed(body) calls body(ctx) once per rank. When the test binary runs alone, it does so on the
// threads backend for 1, 2, 3 and 5 ranks in turn; when it runs under mpiexec with --backend=mpi, it does so
// once, on MPI_COMM_WORLD. A fatal assertion on one rank releases the others instead of letting them hang.
#pragma once

#include <functional>
#include <vector>

#include "engine/context.hpp"

namespace tailflow::testing {

void run_distributed(const std::function<void(Context&)>& body);

// Like run_distributed, but on the threads backend uses the given rank counts.
void run_distributed(const std::vector<int>& thread_rank_counts, const std::function<void(Context&)>& body);

// True when the binary runs on MPI_COMM_WORLD (set by test_main).
bool using_mpi();
void set_mpi_communicator(comm::Communicator* world);

}  // namespace tailflow::testing
