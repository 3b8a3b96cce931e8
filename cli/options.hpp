// The command line: the Go original's flags, in its spelling (-files 10, -files=10, -keep) and
// in GNU's (--files 10, --files=10, --keep), parsed by CLI11.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ccopy/benchmark.hpp"

namespace ccopy::cli {

/// Exit codes, distinct for each way a run can end. A run stopped by a signal exits with none
/// of them: it cleans up and then dies of that signal (cli/signals.hpp), which a shell reports
/// as 128 + its number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP).
enum ExitCode : int {
  exit_ok = 0,      ///< every copy verified
  exit_failed = 1,  ///< a copy failed or differs, an engine could not run, output was lost
  exit_usage = 2,   ///< bad command line (or environment: TMPDIR)
};

/// Everything the command line asked for.
struct CommandLine {
  BenchmarkConfig config;                ///< config.directory is absolute
  std::string json, csv, markdown, svg;  ///< export paths; "-" is stdout
  bool quiet = false;
  /// Where config.directory came from, as messages name it: "-dir", "TMPDIR" or "the
  /// default directory".
  std::string directory_origin = "-dir";
  /// The engine options given on the command line (-workers, -inflight, -pool, -loops), each
  /// as its flag and the value typed: {"-pool", "4"}.
  std::vector<std::pair<std::string, std::string>> engine_options_given;
};

/// What parsing produced: a command line to run, text to print and exit with 0 (--help,
/// --version), or a usage error (a one-line message).
struct ParseResult {
  enum class Kind { run, exit_with_text, usage_error } kind = Kind::run;
  std::string text;
};

/// Parses `args` (without the program name) into `out`. Never throws, never prints. Every usage
/// error is one line naming the flag: an unknown flag with the likeliest one meant ("unknown
/// flag '-f'; did you mean -files?"), an empty value ("-json: empty value", also for
/// "--json=", which never takes the next word as its value), a value out of range, a list that
/// names one thing twice, two exports to one file.
[[nodiscard]] ParseResult parse_command_line(const std::vector<std::string>& args, CommandLine& out);

/// A note for each engine option in `command.engine_options_given` that no engine in `engines`
/// reads: "-pool 4 is unused: no uv engine runs".
[[nodiscard]] std::vector<std::string> unused_option_notes(
    const CommandLine& command, const std::vector<EngineChoice>& engines);

/// The flag in `names` (long names, as CLI11 lists them) that `typed` most likely meant, or an
/// empty string: a name `typed` begins, else the closest within a small edit distance; ties go
/// to the earlier name.
[[nodiscard]] std::string likeliest_flag(std::string_view typed,
                                         const std::vector<std::string>& names);

/// Rewrites Go-style long flags ("-files", "-files=10") into GNU style ("--files") when their
/// name is one of `long_names`; everything else passes through unchanged.
[[nodiscard]] std::vector<std::string> to_gnu_style(const std::vector<std::string>& args,
                                                    const std::vector<std::string>& long_names);

}  // namespace ccopy::cli
