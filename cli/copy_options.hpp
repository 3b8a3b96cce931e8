// `concurrent_copy copy`'s command line, in GNU cp's syntax: bundled short options (-av),
// --long=value, options anywhere among the operands, `--` ending them. Parsing is pure: it fills
// a CopyCommand or says what is wrong, and never touches the file system.
#pragma once

#include <string>
#include <vector>

#include "ccopy/copy.hpp"

namespace ccopy::cli {

/// Everything `copy` was asked to do.
struct CopyCommand {
  std::vector<std::string> operands;  ///< SOURCE... and, without -t, DEST last
  std::string target_directory;       ///< -t DIR
  bool no_target_directory = false;   ///< -T
  CopyOptions options;                ///< what the copy path does (cp's defaults)
  std::string engine = "auto";        ///< --engine
  unsigned jobs = 0;                  ///< -j: the engine's concurrency; 0 = its default
  bool verify = false;
  bool fsync = false;
  bool verbose = false;
  enum class Progress { automatic, on, off } progress = Progress::automatic;
  std::string json;  ///< --json FILE ("-": stdout)
};

/// What parsing produced: a command to run, text to print and exit 0 with (--help, --version),
/// or a usage error (a message, without the program name).
struct CopyParse {
  enum class Kind { run, exit_with_text, usage_error } kind = Kind::run;
  std::string text;
};

/// Parses the arguments after `copy`. Never throws, never prints.
[[nodiscard]] CopyParse parse_copy_command(const std::vector<std::string>& args, CopyCommand& out);

/// The text of `concurrent_copy copy --help`.
[[nodiscard]] std::string copy_help();

}  // namespace ccopy::cli
