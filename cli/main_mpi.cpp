// concurrent_copy_mpi: the program as one rank of several that mpirun (or srun) started. The
// ranks share the copy command's job (src/dist/shared_copy.hpp) and the benchmark's copies
// (run_benchmark() given the Comm); rank 0 alone prints, and every rank exits with the same
// code. The only executable that links Open MPI.
#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <memory>

#include "ccopy/engine.hpp"
#include "copy_command.hpp"
#include "dist/mpi_comm.hpp"
#include "dist/shared_copy.hpp"
#include "dist/shared_verify.hpp"
#include "options.hpp"
#include "program.hpp"
#include "signals.hpp"
#include "sys/sys.hpp"

namespace {

using namespace ccopy;
using namespace ccopy::cli;

int g_argc = 0;
char** g_argv = nullptr;
std::unique_ptr<dist::MpiComm> g_comm;
int g_stdout = -1;  // a copy of the rank's own stdout, for -v

void say(const std::string& line) {
  (void)sys::write_all(STDERR_FILENO, "concurrent_copy: " + line + "\n");
}

// Rank 0 speaks for all: the other ranks' stdout and stderr go to /dev/null. Their errors reach
// rank 0 as they happen (src/dist/relay.hpp), or in their results.
std::string start() {
  g_comm = std::make_unique<dist::MpiComm>(&g_argc, &g_argv);
  if (!g_comm->started()) return "cannot start MPI: " + g_comm->problem();
  // The copy command and the benchmark are shared among ranks; the tree command run by every
  // rank at once would be N generators competing for one directory.
  const std::string command = g_argc > 1 ? g_argv[1] : "";
  const bool tree =
      command == "tree" || (command == "help" && g_argc > 2 && std::string(g_argv[2]) == "tree");
  if (tree && g_comm->size() > 1) {
    if (g_comm->rank() != 0) ::dup2(::open("/dev/null", O_WRONLY | O_CLOEXEC), STDERR_FILENO);
    return fmt::format(
        "only the copy command and the benchmark are shared among MPI ranks, not the tree "
        "command: run it with one rank (mpirun -np 1) or with concurrent_copy ({} ranks were "
        "started)",
        g_comm->size());
  }
  // mpirun binds each rank to one core by default (two ranks or fewer): a rank's engine threads
  // would then share that core.
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (g_comm->rank() == 0 && ::sched_getaffinity(0, sizeof cpus, &cpus) == 0 && online > 1 &&
      CPU_COUNT(&cpus) == 1)
    say(
        fmt::format("note: rank 0 may use 1 of the {} CPUs, as mpirun bound it to one core: "
                    "--bind-to none lets each rank's engine threads use them all",
                    online));
  if (g_comm->rank() != 0) {
    g_stdout = ::dup(STDOUT_FILENO);
    const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) {
      ::dup2(null, STDOUT_FILENO);
      ::dup2(null, STDERR_FILENO);
      ::close(null);
    }
  }
  return {};
}

// The first non-empty message of any rank, said by rank 0, naming the rank when it is not 0.
bool any_problem(dist::Comm& comm, const std::string& mine) {
  const std::vector<std::string> all = comm.gather(comm.host_name() + "\n" + mine, 0);
  bool found = false;
  for (std::size_t r = 0; r < all.size() && !found; ++r) {
    const std::size_t nl = all[r].find('\n');
    if (nl + 1 == all[r].size()) continue;
    found = true;
    const std::string what = all[r].substr(nl + 1);
    say(r == 0 ? what : fmt::format("rank {} on host {}: {}", r, all[r].substr(0, nl), what));
  }
  return comm.max(found ? 1 : 0) != 0;
}

int run_copy_shared(const CopyCommand& given, const std::atomic<bool>& cancel) {
  dist::Comm& comm = *g_comm;
  std::vector<CopyRoot> roots;
  if (any_problem(comm, resolve_roots(given, roots))) return exit_failed;
  if (any_problem(comm, dist::check_same_roots(comm, roots))) return exit_failed;
  std::string unavailable;
  if (given.engine != "auto") {
    if (const EngineInfo* info = find_engine(given.engine); info != nullptr) {
      const Availability a = info->probe();
      if (!a.available)
        unavailable = fmt::format("the {} engine cannot run here: {}", given.engine, a.reason);
    }
  }
  if (any_problem(comm, unavailable)) return exit_failed;
  CopyCommand command = given;
  if (comm.rank() != 0) {
    // Rank 0 writes the JSON summary and draws the progress line; each rank lists the entries
    // it copied itself (-v). Every rank verifies its part (--verify).
    command.json.clear();
    command.progress = CopyCommand::Progress::off;
    if (command.verbose && g_stdout >= 0) ::dup2(g_stdout, STDOUT_FILENO);
  }
  CopyFunctions functions;
  functions.copy = [&comm](const std::vector<CopyRoot>& r, Engine& engine,
                           const EngineOptions& engine_options, const CopyOptions& options,
                           CopyObserver& observer, CopyProgress* progress) {
    return dist::copy_tree_shared(comm, r, engine, engine_options, options, observer, progress);
  };
  functions.verify = [&comm, &cancel](const std::string& source, const std::string& copy,
                                      const VerifyOptions& options, VerifyResult& out) {
    return dist::verify_copy_shared(comm, source, copy, options, out, &cancel);
  };
  const int code = run_copy(command, cancel, functions);
  return static_cast<int>(comm.max(static_cast<std::uint64_t>(code)));
}

dist::Comm* benchmark_comm() { return g_comm.get(); }

void finish() {
  if (g_comm && caught_signal() != 0) g_comm->abandon();
  g_comm.reset();
}

}  // namespace

int main(int argc, char** argv) {
  g_argc = argc;
  g_argv = argv;
  // The menu is dispatched before MPI starts: the launcher's environment tells the ranks.
  if (argc > 1 && std::string(argv[1]) == "menu" && launched_ranks() > 1) {
    if (launched_rank() == 0)
      say(
          fmt::format("the interactive menu cannot be shared by {} MPI ranks: run it with "
                      "concurrent_copy, or the benchmark under mpirun with its options",
                      launched_ranks()));
    return exit_usage;
  }
  Program program;
  program.start = start;
  program.run_copy = run_copy_shared;
  program.benchmark_comm = benchmark_comm;
  program.before_exit = finish;
  return program_main(argc, argv, program);
}
