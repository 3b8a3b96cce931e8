// Where the results go: the console report and the exports (-json, -csv, -markdown, -svg),
// each rendered whole in memory and then written, so that a failed write is reported with the
// system's reason ("No space left on device", "Broken pipe") instead of vanishing in a stream.
#pragma once

#include <string>
#include <vector>

#include "ccopy/benchmark.hpp"
#include "options.hpp"

namespace ccopy::cli {

/// An export the command line asked for: its flag (for messages), its format and its path
/// ("-" is stdout).
struct Export {
  std::string flag, format, path;
};

[[nodiscard]] std::vector<Export> requested_exports(const CommandLine& command);

/// Before anything runs: a problem with the directory of an export file (it does not exist, or
/// cannot be written), as a usage message; empty when every export can be created.
[[nodiscard]] std::string check_export_paths(const std::vector<Export>& exports);

/// Renders `format` for `result` and writes it to `fd` (a standard stream) or to the file
/// `path`; returns an empty string, or what failed: "cannot write -json to stdout: No space
/// left on device", "cannot write -csv r.csv: Is a directory". `what` names the output in the
/// message ("-json", "the report").
[[nodiscard]] std::string write_output(const std::string& what, const std::string& format,
                                       const std::string& path, const BenchmarkResult& result);

/// Writes `text` to the standard stream `fd`; an empty string, or why it failed, as
/// write_output() says it.
[[nodiscard]] std::string write_to_stream(const std::string& what, int fd, const std::string& text);

}  // namespace ccopy::cli
