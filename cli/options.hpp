// The command line: the Go original's flags, in its spelling (-files 10, -files=10, -keep) and
// in GNU's (--files 10, --files=10, --keep), parsed by CLI11.
#pragma once

#include <string>
#include <vector>

#include "ccopy/benchmark.hpp"

namespace ccopy::cli {

/// Exit codes, distinct for each way a run can end.
enum ExitCode : int {
  exit_ok = 0,           ///< every copy verified
  exit_failed = 1,       ///< a copy failed or differs, or an engine could not run
  exit_usage = 2,        ///< bad command line
  exit_interrupted = 130,  ///< SIGINT (128 + 2)
  exit_terminated = 143,   ///< SIGTERM (128 + 15)
};

/// Everything the command line asked for.
struct CommandLine {
  BenchmarkConfig config;
  std::string json, csv, markdown, svg;  ///< export paths; "-" is stdout
  bool quiet = false;
};

/// What parsing produced: a command line to run, text to print and exit with 0 (--help,
/// --version), or a usage error (a one-line message).
struct ParseResult {
  enum class Kind { run, exit_with_text, usage_error } kind = Kind::run;
  std::string text;
};

/// Parses `args` (without the program name) into `out`. Never throws, never prints.
[[nodiscard]] ParseResult parse_command_line(const std::vector<std::string>& args, CommandLine& out);

/// Rewrites Go-style long flags ("-files", "-files=10") into GNU style ("--files") when their
/// name is one of `long_names`; everything else passes through unchanged.
[[nodiscard]] std::vector<std::string> to_gnu_style(const std::vector<std::string>& args,
                                                    const std::vector<std::string>& long_names);

}  // namespace ccopy::cli
