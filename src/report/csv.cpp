// The CSV export: one row per engine per scenario with the figures a spreadsheet needs, under a
// header naming each column and its unit. Fields follow RFC 4180: a field holding a comma, a
// quote or a line break is quoted, and its quotes doubled.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "ccopy/report.hpp"
#include "report/writers.hpp"

namespace ccopy::report {
namespace {

constexpr const char* kColumns[] = {"scenario",
                                    "files",
                                    "size_bytes",
                                    "label",
                                    "engine",
                                    "description",
                                    "runs",
                                    "warmups",
                                    "median_s",
                                    "mean_s",
                                    "stddev_s",
                                    "min_s",
                                    "max_s",
                                    "mad_s",
                                    "outliers",
                                    "mib_per_s",
                                    "files_per_s",
                                    "ratio_to_fastest",
                                    "ratio_uncertainty",
                                    "beyond_noise",
                                    "latency_p50_s",
                                    "latency_p90_s",
                                    "latency_p99_s",
                                    "latency_max_s",
                                    "user_s",
                                    "system_s",
                                    "voluntary_switches",
                                    "involuntary_switches",
                                    "peak_threads",
                                    "peak_rss_bytes",
                                    "verified",
                                    "error",
                                    "kind",
                                    "entries",
                                    "total_bytes",
                                    "entries_per_s",
                                    "reflinked_files",
                                    "filesystem"};

std::string field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

// Numbers are written in their shortest exact form, so that reading them back gives the very
// values the other exports hold.
template <typename T>
std::string number(T value) {
  return fmt::format("{}", value);
}

// This engine against the fastest of its scenario, as the console compares them: the ratio of
// medians, its uncertainty and the verdict; the last two are empty for the fastest itself and
// without an interval, all three for an engine that is not ranked (it failed or never ran).
void add_comparison(const ScenarioResult& s, const EngineResult& e,
                    std::vector<std::string>& cells) {
  const auto order = ranked(s);
  if (std::find(order.begin(), order.end(), &e) == order.end()) {
    cells.insert(cells.end(), 3, "");
    return;
  }
  const Comparison c = compare(*order.front(), e);
  const bool shown = order.front() != &e && c.measured;
  cells.push_back(number(c.ratio));
  cells.push_back(shown ? number(c.uncertainty) : "");
  cells.push_back(shown ? (c.beyond_noise ? "true" : "false") : "");
}

const char* kind_name(Scenario::Kind kind) {
  switch (kind) {
    case Scenario::Kind::flat: return "flat";
    case Scenario::Kind::shape: return "shape";
    case Scenario::Kind::source: break;
  }
  return "source";
}

// The columns added for trees, after the original ones so that those keep their places.
void add_scenario_columns(const ScenarioResult& s, const EngineResult& e,
                          std::vector<std::string>& cells) {
  const Scenario& scenario = s.scenario;
  cells.push_back(kind_name(scenario.kind));
  cells.push_back(number(scenario.entry_count()));
  cells.push_back(number(scenario.total_bytes()));
  cells.push_back(e.runs.empty() ? std::string() : number(median_entries_per_second(scenario, e)));
  cells.push_back(number(e.reflinked));
  cells.push_back(s.filesystem);
}

std::vector<std::string> row(const ScenarioResult& s, const EngineResult& e) {
  const Scenario& scenario = s.scenario;
  std::vector<std::string> cells{
      scenario.name(),
      number(scenario.file_count()),
      scenario.is_flat() ? number(scenario.size) : std::string(),
      e.choice.label,
      e.choice.engine,
      e.description,
      number(e.runs.size()),
      number(e.warmups)};
  if (e.runs.empty()) {
    // An engine that never completed a timed run has no figures: the cells stay empty.
    cells.resize(std::size(kColumns) - 8);
  } else {
    const Summary w = e.wall_seconds();
    const LatencySummary l = latency_summary(e);
    const ResourceUsage r = e.total_resources();
    for (double v : {w.median, w.mean, w.stddev, w.min, w.max, w.mad}) cells.push_back(number(v));
    cells.push_back(number(w.outliers.size()));
    cells.push_back(number(median_mib_per_second(scenario, e)));
    cells.push_back(number(median_files_per_second(scenario, e)));
    add_comparison(s, e, cells);
    for (double v : {l.p50, l.p90, l.p99, l.max}) cells.push_back(number(v));
    // getrusage counts microseconds: rounding to them drops the noise of double arithmetic.
    cells.push_back(number(std::round(r.user_seconds * 1e6) / 1e6));
    cells.push_back(number(std::round(r.system_seconds * 1e6) / 1e6));
    cells.push_back(number(r.voluntary_switches));
    cells.push_back(number(r.involuntary_switches));
    cells.push_back(number(r.peak_threads));
    cells.push_back(r.peak_rss_kib >= 0 ? number(r.peak_rss_kib * 1024) : "");
  }
  cells.push_back(e.verified ? "true" : "false");
  cells.push_back(e.error ? e.error.message() : "");
  add_scenario_columns(s, e, cells);
  return cells;
}

// A run that failed before any engine copied (the workspace, the generation, the space
// check): one row naming the scenario it stopped at and why, so that the file says what
// happened rather than holding only its header.
std::vector<std::string> setup_error_row(const BenchmarkResult& result) {
  std::vector<std::string> cells(std::size(kColumns));
  const std::size_t at = result.scenarios.size();
  if (at < result.config.scenarios.size()) cells[0] = result.config.scenarios[at].name();
  cells[std::size(kColumns) - 8] = "false";
  cells[std::size(kColumns) - 7] = result.setup_error.message();
  return cells;
}

void write_row(const std::vector<std::string>& cells, std::ostream& out) {
  for (std::size_t i = 0; i < cells.size(); ++i) out << (i == 0 ? "" : ",") << field(cells[i]);
  out << '\n';
}

class CsvWriter final : public ReportWriter {
 public:
  std::string_view format() const override { return "csv"; }

  void write(const BenchmarkResult& result, std::ostream& out) const override {
    write_row(std::vector<std::string>(std::begin(kColumns), std::end(kColumns)), out);
    for (const ScenarioResult& s : result.scenarios)
      for (const EngineResult& e : s.engines) write_row(row(s, e), out);
    if (result.setup_error) write_row(setup_error_row(result), out);
  }
};

}  // namespace

std::unique_ptr<ReportWriter> make_csv_writer() { return std::make_unique<CsvWriter>(); }

}  // namespace ccopy::report
