// The command-line program, shared by its two executables: concurrent_copy (cli/main_plain.cpp)
// and concurrent_copy_mpi (cli/main_mpi.cpp, the only one that links Open MPI). What differs
// between them is given as a Program.
#pragma once

#include <atomic>
#include <string>

#include "copy_options.hpp"

namespace ccopy::dist {
class Comm;
}  // namespace ccopy::dist

namespace ccopy::cli {

struct Program {
  /// Called once the signal thread runs (so that threads it starts inherit the blocked
  /// signals) and before the command line is read. A message it returns is said, and the
  /// program exits 1.
  std::string (*start)() = nullptr;
  /// Runs a parsed copy command; run_copy() when not set.
  int (*run_copy)(const CopyCommand& command, const std::atomic<bool>& cancel) = nullptr;
  /// The ranks that share the benchmark, when it is shared (concurrent_copy_mpi): every rank
  /// runs it, rank 0 alone reports. Not set: one process runs it alone.
  dist::Comm* (*benchmark_comm)() = nullptr;
  /// Called before the program ends, by its exit code or by the signal it was sent.
  void (*before_exit)() = nullptr;
};

/// Everything main does: the subcommands, the signals, the exit code.
int program_main(int argc, char** argv, const Program& program);

/// How many processes the launcher this one was started by (mpirun, srun, mpiexec) started
/// with it, as its environment says: 1 when there is no launcher.
[[nodiscard]] unsigned launched_ranks();
/// This process's rank among them, as its environment says (OMPI_COMM_WORLD_RANK, PMIX_RANK,
/// PMI_RANK): 0 when there is no launcher.
[[nodiscard]] unsigned launched_rank();

}  // namespace ccopy::cli
