// concurrent_copy: the program in one process. Started by mpirun as one of several ranks, each
// rank would copy (or benchmark) the whole job by itself, over the others: it refuses, and says
// which executable shares the job.
#include <fmt/format.h>
#include <unistd.h>

#include "options.hpp"
#include "program.hpp"
#include "sys/sys.hpp"

int main(int argc, char** argv) {
  if (const unsigned ranks = ccopy::cli::launched_ranks(); ranks > 1) {
    (void)ccopy::sys::write_all(
        STDERR_FILENO,
        fmt::format("concurrent_copy: started as one of {} MPI ranks, each of which would do the "
                    "whole job: run concurrent_copy_mpi under mpirun instead\n",
                    ranks));
    return ccopy::cli::exit_usage;
  }
  return ccopy::cli::program_main(argc, argv, ccopy::cli::Program{});
}
