// Runs the real concurrent_copy binary as a child process and collects what it printed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace ccopy::testing {

struct ProcessResult {
  int exit_code = -1;  ///< the exit status, or 128 + signal when a signal ended it
  std::string out;     ///< everything written to stdout
  std::string err;     ///< everything written to stderr
  bool timed_out = false;
};

/// A running child with its stdout and stderr on pipes.
class Process {
 public:
  /// Starts `program` with `args`; `env` entries ("NAME=value") are added to the environment,
  /// replacing inherited entries of the same name.
  Process(const std::string& program, const std::vector<std::string>& args,
          const std::vector<std::string>& env = {});
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  [[nodiscard]] pid_t pid() const { return pid_; }
  /// Reads output until `text` has appeared on stdout or stderr, the child ends, or the time
  /// runs out; returns whether it appeared.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds limit);
  /// Reads until the child ends (killing it after `limit`) and returns what it printed.
  ProcessResult finish(std::chrono::milliseconds limit);

 private:
  bool pump(int timeout_ms);
  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  ProcessResult result_;
};

/// Runs the binary under test to completion.
ProcessResult run_binary(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                         std::chrono::milliseconds limit = std::chrono::seconds(60));

}  // namespace ccopy::testing
