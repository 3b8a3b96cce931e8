// concurrent_copy: the command-line benchmark. Parses flags, runs the benchmark, prints the
// report and the exports, and turns the outcome into an exit code.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "ccopy/report.hpp"
#include "options.hpp"
#include "progress.hpp"
#include "sys/sys.hpp"

namespace {

using namespace ccopy;
using namespace ccopy::cli;

std::atomic<bool> g_cancel{false};
std::atomic<int> g_signal{0};

// SIGINT and SIGTERM are blocked in every thread and taken by one thread with sigwait, which
// sets the cancel flag that engines and the runner check: no work happens in a signal handler.
void start_signal_thread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int sig = 0;
    if (sigwait(&set, &sig) == 0) {
      g_signal = sig;
      g_cancel = true;
    }
  }).detach();
}

int usage_error(const std::string& message) {
  std::cerr << "concurrent_copy: " << message << "\nRun 'concurrent_copy --help' for usage.\n";
  return exit_usage;
}

int failure(const std::string& message) {
  std::cerr << "concurrent_copy: " << message << '\n';
  return exit_failed;
}

// An export the command line asked for: its flag (for messages), its format and its path.
struct Export {
  std::string flag, format, path;
};

std::vector<Export> requested_exports(const CommandLine& command) {
  std::vector<Export> exports;
  for (const auto& [format, path] : {std::pair{"json", &command.json}, std::pair{"csv", &command.csv},
                                     std::pair{"markdown", &command.markdown},
                                     std::pair{"svg", &command.svg}})
    if (!path->empty()) exports.push_back({fmt::format("-{}", format), format, *path});
  return exports;
}

// Checks, before anything runs, that every export file can be created: its directory exists
// and is writable. The file itself is only opened after the run.
std::string check_export_paths(const std::vector<Export>& exports) {
  for (const Export& e : exports) {
    if (e.path == "-") continue;
    const std::filesystem::path where = std::filesystem::path(e.path).parent_path();
    const std::string parent = where.empty() ? std::string(".") : where.string();
    if (const long rc = sys::check_writable_directory(parent); rc < 0)
      return fmt::format("{} {}: {}: {}", e.flag, e.path, parent, sys::error_text(static_cast<int>(-rc)));
  }
  return {};
}

// Writes one export; on failure says which file and why, and returns false.
bool write_export(const Export& e, const BenchmarkResult& result) {
  const std::unique_ptr<ReportWriter> writer = make_writer(e.format);
  if (e.path == "-") {
    writer->write(result, std::cout);
    std::cout.flush();
    if (std::cout) return true;
    std::cerr << fmt::format("concurrent_copy: cannot write {} to stdout\n", e.flag);
    return false;
  }
  errno = 0;
  std::ofstream file(e.path, std::ios::out | std::ios::trunc);
  if (file) {
    writer->write(result, file);
    file.close();
  }
  if (file) return true;
  std::cerr << fmt::format("concurrent_copy: cannot write {} {}: {}\n", e.flag, e.path,
                           errno != 0 ? sys::error_text(errno) : std::string("write failed"));
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  start_signal_thread();
  CommandLine command;
  const ParseResult parsed = parse_command_line(std::vector<std::string>(argv + 1, argv + argc), command);
  if (parsed.kind == ParseResult::Kind::exit_with_text) {
    std::cout << parsed.text;
    return exit_ok;
  }
  if (parsed.kind == ParseResult::Kind::usage_error) return usage_error(parsed.text);

  BenchmarkConfig& config = command.config;
  if (const long rc = sys::check_writable_directory(config.directory); rc < 0)
    return usage_error(fmt::format("-dir {}: {}", config.directory, sys::error_text(static_cast<int>(-rc))));
  const std::vector<Export> exports = requested_exports(command);
  if (std::string problem = check_export_paths(exports); !problem.empty()) return usage_error(problem);
  (void)sys::raise_open_file_limit();

  std::vector<std::string> notes;
  if (Error e = resolve_modes(config.mode, config.engines, notes)) return failure(e.message());
  config.cancel = &g_cancel;

  ProgressLine progress(STDERR_FILENO, command.quiet);
  if (progress.enabled()) config.progress = [&progress](const ProgressEvent& e) { progress.update(e); };
  BenchmarkResult result = run_benchmark(config);
  progress.clear();
  result.notes.insert(result.notes.begin(), notes.begin(), notes.end());

  // An export on stdout must stay parseable, so the console report moves to stderr.
  const bool export_on_stdout =
      std::any_of(exports.begin(), exports.end(), [](const Export& e) { return e.path == "-"; });
  std::ostream& console = export_on_stdout ? std::cerr : std::cout;
  make_writer("console")->write(result, console);
  console.flush();
  bool exported = true;
  for (const Export& e : exports) exported = write_export(e, result) && exported;

  if (result.cancelled) {
    const int sig = g_signal.load();
    std::cerr << fmt::format("concurrent_copy: interrupted by {}; {}\n", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                             config.keep ? "the generated files are kept (-keep)" : "generated files removed");
    return sig == SIGTERM ? exit_terminated : exit_interrupted;
  }
  if (Error e = result.first_error()) return failure(e.message());
  return exported ? exit_ok : exit_failed;
}
