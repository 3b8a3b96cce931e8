// concurrent_copy: the command-line benchmark. Parses flags, runs the benchmark, prints the
// report and the exports, and turns the outcome into an exit code.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "ccopy/report.hpp"
#include "options.hpp"
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
  (void)sys::raise_open_file_limit();

  std::vector<std::string> notes;
  if (Error e = resolve_modes(config.mode, config.engines, notes)) return failure(e.message());
  config.cancel = &g_cancel;

  BenchmarkResult result = run_benchmark(config);
  result.notes.insert(result.notes.begin(), notes.begin(), notes.end());

  make_writer("console")->write(result, std::cout);
  std::cout.flush();

  if (result.cancelled) {
    const int sig = g_signal.load();
    std::cerr << fmt::format("concurrent_copy: interrupted by {}; {}\n", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                             config.keep ? "the generated files are kept (-keep)" : "generated files removed");
    return sig == SIGTERM ? exit_terminated : exit_interrupted;
  }
  if (Error e = result.first_error()) return failure(e.message());
  return exit_ok;
}
