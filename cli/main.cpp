// concurrent_copy: the command-line benchmark. Parses flags, runs the benchmark, prints the
// report and the exports, and turns the outcome into an exit code.
//
// Errors at this edge, one convention: every problem becomes one line on stderr starting with
// "concurrent_copy: " and an exit code (options.hpp). The library returns Error values; an
// exception that still reaches main (memory or a thread the system refused inside the runner)
// is caught here, after the runner's destructors have removed its workspace, and reported the
// same way. Signals stop the run, which cleans up; the process then dies of the signal.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "ccopy/report.hpp"
#include "copy_command.hpp"
#include "copy_options.hpp"
#include "dist/comm.hpp"
#include "exports.hpp"
#include "menu.hpp"
#include "options.hpp"
#include "program.hpp"
#include "progress.hpp"
#include "signals.hpp"
#include "sys/sys.hpp"
#include "tree_command.hpp"

namespace {

using namespace ccopy;
using namespace ccopy::cli;

// The streams that were closed when the program started (sys::occupy_closed_standard_streams).
int g_closed_streams = 0;
constexpr int kStdoutWasClosed = 2;
// Whether the interruption was reported with what became of the files.
bool g_interruption_reported = false;

// Messages go to stderr unbuffered, one write each, so that they survive whatever follows.
void say(const std::string& line) {
  (void)sys::write_all(STDERR_FILENO, "concurrent_copy: " + line + "\n");
}

int usage_error(const std::string& message) {
  say(message + "\nRun 'concurrent_copy --help' for usage.");
  return exit_usage;
}

int failure(const std::string& message) {
  say(message);
  return exit_failed;
}

// Refuses, before anything runs, a directory the benchmark could not work in: one that does
// not exist or cannot be written, and one on a file system that cannot hold files (/proc,
// /sys). The message names where the directory came from: -dir, or TMPDIR when no -dir was
// given. A full file system is left to the space check, which says how much is missing.
std::string check_directory(const CommandLine& command) {
  const std::string& dir = command.config.directory;
  const std::string where = fmt::format("{} {}", command.directory_origin, dir);
  if (const long rc = sys::check_writable_directory(dir); rc < 0)
    return fmt::format("{}: {}", where, sys::error_text(static_cast<int>(-rc)));
  const long rc = sys::probe_file_creation(dir);
  if (rc < 0 && rc != -ENOSPC && rc != -EDQUOT)
    return fmt::format("{}: cannot hold files (creating one there fails: {})", where,
                       sys::error_text(static_cast<int>(-rc)));
  return {};
}

// "generated files removed", or where -keep left them: every workspace (or -fs image) the run
// kept, named by the runner as soon as it was made.
std::string what_became_of_the_files(const BenchmarkResult& result) {
  if (!result.config.keep) return "generated files removed";
  const std::vector<std::string>& kept = result.kept_directories;
  if (kept.empty())
    return fmt::format("the generated files are kept (-keep) under {}", result.config.directory);
  std::string text = "the generated files are kept (-keep) in " + kept.front();
  for (std::size_t i = 1; i < kept.size(); ++i) text += ", " + kept[i];
  return text;
}

// The console report as the run goes: each scenario's results as soon as it finishes (with
// the header before the first), then the rest once the run is over; and the exports, rewritten
// after every scenario so that a long sweep leaves its results even if it is killed. A part that
// cannot be written is said once, and makes the run fail.
class Results {
 public:
  explicit Results(const std::vector<Export>& exports)
      : exports_(exports),
        fd_(std::any_of(exports.begin(), exports.end(), [](const Export& e) { return e.path == "-"; })
                ? STDERR_FILENO
                : STDOUT_FILENO),
        stream_(text_) {}

  void scenario_done(const BenchmarkResult& so_far, std::size_t index) {
    stream_.scenario_done(so_far, index);
    flush_console();
    for (const Export& e : exports_)
      if (e.path != "-") (void)write_output(e.flag, e.format, e.path, so_far);
  }

  bool finish(const BenchmarkResult& result) {
    stream_.finish(result);
    flush_console();
    for (const Export& e : exports_) {
      if (std::string problem = write_output(e.flag, e.format, e.path, result); !problem.empty()) {
        say(problem);
        written_ = false;
      }
    }
    return written_;
  }

 private:
  void flush_console() {
    const std::string text = text_.str();
    text_.str({});
    if (!written_ || text.empty()) return;
    if (std::string problem = write_to_stream("the report", fd_, text); !problem.empty()) {
      say(problem);
      written_ = false;
    }
  }

  const std::vector<Export>& exports_;
  int fd_;
  std::ostringstream text_;
  report::ConsoleStream stream_;
  bool written_ = true;
};

// The checks before the run (on rank 0 when ranks share it): 0, or the exit code of the
// problem, said.
int check_run(CommandLine& command, const dist::Comm* comm, std::vector<Export>& exports,
              std::vector<std::string>& notes) {
  BenchmarkConfig& config = command.config;
  if (comm != nullptr && comm->size() > 1) {
    for (const Scenario& s : config.scenarios) {
      if (!s.fs) continue;
      // One line, as the other refusals under mpirun: a usage error that depends on the launch.
      say(
          fmt::format("-fs cannot be used by {} MPI ranks: its file system is a loop mount, which "
                      "belongs to one host (run it with mpirun -np 1 or with concurrent_copy)",
                      comm->size()));
      return exit_usage;
    }
  }
  if (std::string problem = check_directory(command); !problem.empty()) return usage_error(problem);
  exports = requested_exports(command);
  if (std::string problem = check_export_paths(exports); !problem.empty())
    return usage_error(problem);
  if (Error e = resolve_modes(config.mode, config.engines, notes)) return failure(e.message());
  for (std::string& note : unused_option_notes(command, config.engines))
    notes.push_back(std::move(note));
  return exit_ok;
}

// The engines rank 0 resolved, handed to every rank, so that every rank runs the same list.
void share_engines(dist::Comm& comm, std::vector<EngineChoice>& engines) {
  std::string bytes;
  for (const EngineChoice& e : engines) bytes += e.label + "\n" + e.engine + "\n";
  comm.broadcast(bytes, 0);
  engines.clear();
  for (std::size_t at = 0; at < bytes.size();) {
    const std::size_t a = bytes.find('\n', at), b = bytes.find('\n', a + 1);
    engines.push_back({bytes.substr(at, a - at), bytes.substr(a + 1, b - a - 1)});
    at = b + 1;
  }
}

// Everything after the command line was accepted: checks, the run, the results. Exceptions
// the library lets through reach main's handler. Under mpirun (`comm`) every rank runs the
// benchmark and rank 0 alone reports; the checks are rank 0's, and their outcome every rank's.
int run_checked(CommandLine& command, dist::Comm* comm) {
  BenchmarkConfig& config = command.config;
  const bool reports = comm == nullptr || comm->rank() == 0;
  std::vector<Export> exports;
  std::vector<std::string> notes;
  (void)sys::raise_open_file_limit();
  int refused = reports ? check_run(command, comm, exports, notes) : exit_ok;
  if (comm != nullptr) {
    refused = static_cast<int>(comm->max(static_cast<std::uint64_t>(refused)));
    if (refused == exit_ok) share_engines(*comm, config.engines);
  }
  if (refused != exit_ok) return refused;

  BenchmarkHooks hooks;
  hooks.cancel = &cancel_requested();

  ProgressLine progress(STDERR_FILENO, command.quiet || !reports);
  if (progress.enabled()) hooks.progress = [&](const ProgressEvent& e) { progress.update(e); };
  Results results(exports);
  if (reports) {
    hooks.scenario_done = [&](const BenchmarkResult& so_far, std::size_t index) {
      progress.erase();
      BenchmarkResult shown = so_far;
      shown.notes.insert(shown.notes.begin(), notes.begin(), notes.end());
      results.scenario_done(shown, index);
    };
  }
  BenchmarkResult result =
      comm != nullptr ? run_benchmark(config, hooks, *comm) : run_benchmark(config, hooks);
  progress.clear();
  if (!reports) {
    if (result.cancelled) g_interruption_reported = true;
    return result.ok() ? exit_ok : exit_failed;
  }
  result.notes.insert(result.notes.begin(), notes.begin(), notes.end());

  const bool written = results.finish(result);
  if (result.cancelled) {
    say(fmt::format("interrupted by {}; {}", signal_name(caught_signal()),
                    what_became_of_the_files(result)));
    g_interruption_reported = true;
    return exit_failed;  // main dies of the signal
  }
  if (Error e = result.first_error()) return failure(e.message());
  return written ? exit_ok : exit_failed;
}

// The program's variant: how a parsed copy command runs (run_copy() unless set).
const Program* g_program = nullptr;

// Every rank exits with the same code: the highest.
int run(CommandLine& command) {
  dist::Comm* comm = g_program->benchmark_comm != nullptr ? g_program->benchmark_comm() : nullptr;
  const int code = run_checked(command, comm);
  return comm != nullptr ? static_cast<int>(comm->max(static_cast<std::uint64_t>(code))) : code;
}

// `concurrent_copy copy ...` and `concurrent_copy help copy`.
int copy_main(const std::vector<std::string>& args) {
  CopyCommand command;
  const CopyParse parsed = parse_copy_command(args, command);
  if (parsed.kind == CopyParse::Kind::exit_with_text) {
    if (std::string problem = write_to_stream("the help or version text", STDOUT_FILENO, parsed.text);
        !problem.empty())
      return failure(problem);
    return exit_ok;
  }
  if (parsed.kind == CopyParse::Kind::usage_error) {
    say(parsed.text + "\nTry 'concurrent_copy copy --help' for more information.");
    return exit_usage;
  }
  (void)sys::raise_open_file_limit();
  const int code = g_program->run_copy != nullptr ? g_program->run_copy(command, cancel_requested())
                                                  : run_copy(command, cancel_requested());
  if (caught_signal() != 0) g_interruption_reported = true;  // run_copy said what was kept
  return code;
}

int parse_and_run(int argc, char** argv) {
  const std::vector<std::string> all(argv + 1, argv + argc);
  if (!all.empty() && all[0] == "copy") return copy_main({all.begin() + 1, all.end()});
  if (all.size() == 2 && all[0] == "help" && all[1] == "copy") return copy_main({"--help"});
  if (!all.empty() && all[0] == "tree")
    return run_tree_command({all.begin() + 1, all.end()}, cancel_requested(), say);
  if (all.size() == 2 && all[0] == "help" && all[1] == "tree")
    return run_tree_command({"--help"}, cancel_requested(), say);
  CommandLine command;
  const ParseResult parsed =
      parse_command_line(std::vector<std::string>(argv + 1, argv + argc), command);
  if (parsed.kind == ParseResult::Kind::usage_error) return usage_error(parsed.text);
  // Every outcome below writes to stdout, which a closed descriptor would lose.
  if ((g_closed_streams & kStdoutWasClosed) != 0)
    return failure("cannot write the report to stdout: " + sys::error_text(EBADF) +
                   " (stdout is closed)");
  if (parsed.kind == ParseResult::Kind::exit_with_text) {
    if (std::string problem = write_to_stream("the help or version text", STDOUT_FILENO, parsed.text);
        !problem.empty())
      return failure(problem);
    return exit_ok;
  }
  return run(command);
}

// What an exception that reached main says.
std::string describe(const std::exception_ptr& thrown) {
  try {
    std::rethrow_exception(thrown);
  } catch (const std::system_error& e) {
    return fmt::format("stopped: the system refused a resource: {}", e.what());
  } catch (const std::exception& e) {
    return fmt::format("stopped by an unexpected error: {}", e.what());
  } catch (...) {
    return "stopped by an unexpected error";
  }
}

// For std::bad_alloc a fixed text, written without allocating: there may be no memory left.
constexpr std::string_view kOutOfMemory =
    "concurrent_copy: stopped: the system refused memory (std::bad_alloc)\n";

}  // namespace

int ccopy::cli::program_main(int argc, char** argv, const Program& program) {
  g_program = &program;
  // The menu takes its signals its own way (a signalfd in its event loop), so it is dispatched
  // before the signal thread exists.
  if (argc > 1 && std::string_view(argv[1]) == "menu")
    return menu::run_menu(std::vector<std::string>(argv + 2, argv + argc));
  g_closed_streams = sys::occupy_closed_standard_streams();
  if (Error e = watch_signals()) return failure(e.message());
  if (program.start != nullptr) {
    if (std::string problem = program.start(); !problem.empty()) return failure(problem);
  }
  int code = exit_failed;
  try {
    code = parse_and_run(argc, argv);
  } catch (const std::bad_alloc&) {
    (void)sys::write_all(STDERR_FILENO, kOutOfMemory);
  } catch (...) {
    try {
      say(describe(std::current_exception()));
    } catch (const std::bad_alloc&) {
      (void)sys::write_all(STDERR_FILENO, kOutOfMemory);
    }
  }
  if (program.before_exit != nullptr) program.before_exit();
  if (const int sig = caught_signal(); sig != 0) {
    if (!g_interruption_reported) say("interrupted by " + signal_name(sig));
    die_of_signal(sig);
  }
  return code;
}
