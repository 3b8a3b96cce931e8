// The menu's export: every run the results table shows, merged into one BenchmarkResult and
// written by the benchmark's own writers, so that a file from the menu reads like one from
// the command line (the JSON follows docs/output.schema.json).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ccopy/benchmark.hpp"
#include "ccopy/error.hpp"

namespace ccopy::cli::menu {

/// A format the menu exports to, and the key that chooses it.
struct ExportFormat {
  char key;                    ///< 'j'
  std::string_view name;       ///< "json", as make_writer() knows it
  std::string_view title;      ///< "JSON"
  std::string_view extension;  ///< "json"
};

/// JSON, CSV, Markdown and SVG.
[[nodiscard]] std::span<const ExportFormat> export_formats();

/// "concurrent_copy-results.json": the path the export prompt starts from.
[[nodiscard]] std::string default_export_path(const ExportFormat& format);

/// Merges the runs, oldest first, into one result: the first run's machine context, every
/// run's scenarios in order, the engines of every run (each scenario keeps its own), the
/// notes and warnings of all without repeats, and a note naming the scenarios that ran in
/// another directory than the first run's. Every run of one menu session has the same timed
/// runs, warm-ups and engine options: the flags set them once.
[[nodiscard]] BenchmarkResult merge_results(std::span<const BenchmarkResult> runs);

/// Writes `result` in `format` to `path` (a leading "~/" is the home directory); the error
/// names the file and why.
[[nodiscard]] Error write_export(std::string_view format, const std::string& path,
                                 const BenchmarkResult& result);

}  // namespace ccopy::cli::menu
