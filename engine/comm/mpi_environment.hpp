// RAII ownership of the MPI library: MPI_Init_thread in the constructor, MPI_Finalize in the destructor.
#pragma once

namespace tailflow::comm {

class MpiEnvironment {
 public:
  MpiEnvironment(int& argc, char**& argv);
  ~MpiEnvironment();
  MpiEnvironment(const MpiEnvironment&) = delete;
  MpiEnvironment& operator=(const MpiEnvironment&) = delete;

  // Ends every process of the job at once; for errors that only one rank knows about.
  [[noreturn]] static void abort_job(int exit_code);
  static bool is_initialized();
};

}  // namespace tailflow::comm
