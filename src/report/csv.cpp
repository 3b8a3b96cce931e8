// The CSV export: one row per engine per scenario with the figures a spreadsheet needs, under a
// header naming each column and its unit. Fields follow RFC 4180: a field holding a comma, a
// quote or a line break is quoted, and its quotes doubled.
#include <fmt/format.h>

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
                                    "error"};

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

std::vector<std::string> row(const Scenario& scenario, const EngineResult& e) {
  std::vector<std::string> cells{
      scenario.name(), number(scenario.files), number(scenario.size), e.choice.label,
      e.choice.engine, e.description,          number(e.runs.size()), number(e.warmups)};
  if (e.runs.empty()) {
    // An engine that never completed a timed run has no figures: the cells stay empty.
    cells.resize(std::size(kColumns) - 2);
  } else {
    const Summary w = e.wall_seconds();
    const LatencySummary l = latency_summary(e);
    const ResourceUsage r = e.total_resources();
    for (double v : {w.median, w.mean, w.stddev, w.min, w.max, w.mad}) cells.push_back(number(v));
    cells.push_back(number(w.outliers.size()));
    cells.push_back(number(median_mib_per_second(scenario, e)));
    cells.push_back(number(median_files_per_second(scenario, e)));
    for (double v : {l.p50, l.p90, l.p99, l.max}) cells.push_back(number(v));
    // getrusage counts microseconds: rounding to them drops the noise of double arithmetic.
    cells.push_back(number(std::round(r.user_seconds * 1e6) / 1e6));
    cells.push_back(number(std::round(r.system_seconds * 1e6) / 1e6));
    cells.push_back(number(r.voluntary_switches));
    cells.push_back(number(r.involuntary_switches));
    cells.push_back(number(r.peak_threads));
    cells.push_back(r.peak_rss_kib > 0 ? number(r.peak_rss_kib * 1024) : "");
  }
  cells.push_back(e.verified ? "true" : "false");
  cells.push_back(e.error ? e.error.message() : "");
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
      for (const EngineResult& e : s.engines) write_row(row(s.scenario, e), out);
  }
};

}  // namespace

std::unique_ptr<ReportWriter> make_csv_writer() { return std::make_unique<CsvWriter>(); }

}  // namespace ccopy::report
