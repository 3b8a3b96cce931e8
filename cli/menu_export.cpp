#include "menu_export.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <memory>

#include "ccopy/report.hpp"
#include "menu_path.hpp"
#include "sys/sys.hpp"

namespace ccopy::cli::menu {
namespace {

constexpr ExportFormat kFormats[] = {
    {'j', "json", "JSON", "json"},
    {'c', "csv", "CSV", "csv"},
    {'m', "markdown", "Markdown", "md"},
    {'s', "svg", "SVG chart", "svg"},
};

void add_unique(std::vector<std::string>& to, const std::vector<std::string>& from) {
  for (const std::string& text : from)
    if (std::find(to.begin(), to.end(), text) == to.end()) to.push_back(text);
}

void add_engines(std::vector<EngineChoice>& to, const std::vector<EngineChoice>& from) {
  for (const EngineChoice& e : from) {
    const auto same = [&](const EngineChoice& c) {
      return c.label == e.label && c.engine == e.engine;
    };
    if (std::none_of(to.begin(), to.end(), same)) to.push_back(e);
  }
}

std::string joined_labels(const std::vector<EngineChoice>& engines) {
  std::string mode;
  for (const EngineChoice& e : engines) mode += (mode.empty() ? "" : ",") + e.label;
  return mode;
}

// "50x1M and 5x50M ran in /tmp (ext4), not /dev/shm (tmpfs)".
std::string directory_note(const BenchmarkResult& run, const RunContext& first) {
  std::string names;
  for (std::size_t i = 0; i < run.scenarios.size(); ++i)
    names += (i == 0                          ? ""
              : i + 1 == run.scenarios.size() ? " and "
                                              : ", ") +
             run.scenarios[i].scenario.name();
  return fmt::format("{} ran in {} ({}), not {} ({})", names, run.context.directory,
                     run.context.filesystem, first.directory, first.filesystem);
}

}  // namespace

std::span<const ExportFormat> export_formats() { return kFormats; }

std::string default_export_path(const ExportFormat& format) {
  return fmt::format("concurrent_copy-results.{}", format.extension);
}

BenchmarkResult merge_results(std::span<const BenchmarkResult> runs) {
  BenchmarkResult merged;
  if (runs.empty()) return merged;
  merged.context = runs.front().context;
  merged.config = runs.front().config;
  merged.config.scenarios.clear();
  merged.config.engines.clear();
  for (const BenchmarkResult& run : runs) {
    for (const ScenarioResult& s : run.scenarios) {
      merged.scenarios.push_back(s);
      merged.config.scenarios.push_back(s.scenario);
    }
    add_engines(merged.config.engines, run.config.engines);
    add_unique(merged.notes, run.notes);
    add_unique(merged.warnings, run.warnings);
    if (!merged.setup_error && run.setup_error) merged.setup_error = run.setup_error;
    if (!run.scenarios.empty() && run.context.directory != merged.context.directory)
      merged.notes.push_back(directory_note(run, merged.context));
  }
  merged.config.mode = joined_labels(merged.config.engines);
  return merged;
}

Error write_export(std::string_view format, const std::string& path,
                   const BenchmarkResult& result) {
  const std::unique_ptr<ReportWriter> writer = make_writer(format);
  if (writer == nullptr)
    return Error::failure(fmt::format("no writer for the format '{}'", format));
  const std::string real = expand_home(path);
  errno = 0;
  std::ofstream file(real, std::ios::out | std::ios::trunc);
  if (file) {
    writer->write(result, file);
    file.close();
  }
  if (file) return {};
  if (errno != 0) return Error::from_errno(errno, "write " + path);
  return Error::failure("write " + path + ": write failed");
}

}  // namespace ccopy::cli::menu
