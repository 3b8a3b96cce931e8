// Runs the real concurrent_copy binary as a child process and collects what it printed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace ccopy::testing {

struct ProcessResult {
  int exit_code = -1;  ///< the exit status, or 128 + signal when a signal ended it
  int signal = 0;      ///< the signal that ended it (WIFSIGNALED), or 0 when it exited
  std::string out;     ///< everything written to stdout
  std::string err;     ///< everything written to stderr
  bool timed_out = false;
};

/// How to start a child, beyond its program and arguments.
struct SpawnOptions {
  /// Entries ("NAME=value") added to the environment, replacing inherited ones of that name.
  std::vector<std::string> env;
  /// The child's stdout: kPipe (read into ProcessResult::out), kClosed, or a descriptor of the
  /// caller's (a pipe without a reader, /dev/full), which the child gets as its stdout.
  int stdout_fd = kPipe;
  /// The child's working directory; empty for the caller's.
  std::string cwd;
  /// Whether the child leads a process group of its own, so that a signal can be sent to it
  /// and everything it starts (kill(-pid, sig)), as a terminal sends Ctrl-C.
  bool own_process_group = false;

  static constexpr int kPipe = -1;
  static constexpr int kClosed = -2;
};

/// A running child with its stdout and stderr on pipes.
class Process {
 public:
  /// Starts `program` with `args`; `env` entries ("NAME=value") are added to the environment,
  /// replacing inherited entries of the same name.
  Process(const std::string& program, const std::vector<std::string>& args,
          const std::vector<std::string>& env = {});
  Process(const std::string& program, const std::vector<std::string>& args,
          const SpawnOptions& options);
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  [[nodiscard]] pid_t pid() const { return pid_; }
  /// Reads output until `text` has appeared on stdout or stderr, the child ends, or the time
  /// runs out; returns whether it appeared.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds limit);
  /// Reads until the child ends (killing it, and its process group when it leads one, after
  /// `limit`) and returns what it printed.
  ProcessResult finish(std::chrono::milliseconds limit);

 private:
  bool pump(int timeout_ms);
  void kill_hard();
  pid_t pid_ = -1;
  bool group_ = false;  // the child leads its own process group: kill all of it
  int out_fd_ = -1, err_fd_ = -1;
  ProcessResult result_;
};

/// Runs the binary under test to completion.
ProcessResult run_binary(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                         std::chrono::milliseconds limit = std::chrono::seconds(60));
ProcessResult run_binary(const std::vector<std::string>& args, const SpawnOptions& options,
                         std::chrono::milliseconds limit = std::chrono::seconds(60));

}  // namespace ccopy::testing
