// The Markdown export: the conditions in one line, then one table row per engine per scenario,
// ready to paste into an issue. Durations and throughputs are spelled as the console spells
// them, so the two can be compared by eye.
#include <fmt/format.h>

#include <ostream>
#include <string>
#include <vector>

#include "ccopy/report.hpp"
#include "ccopy/size.hpp"
#include "report/writers.hpp"

namespace ccopy::report {
namespace {

std::string ms(double seconds) { return format_duration(seconds * 1e9); }

// A table cell: a '|' would end the cell and a line break the row.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string conditions(const BenchmarkResult& result) {
  const BenchmarkConfig& c = result.config;
  const RunContext& x = result.context;
  return fmt::format(
             "concurrent_copy {} ({}, {} build, {}) on {}, {} x {}{}, {} memory; {} ({}), page "
             "cache {}, "
             "{}; {} timed run{} after {} warm-up{} per engine, interleaved; chunk {}; {}",
             x.version, x.git_commit, x.build_type, x.compiler, x.kernel, x.cpus, x.cpu_model,
             x.usable_cpus > 0 && x.usable_cpus < x.cpus
                 ? fmt::format(" ({} usable: affinity)", x.usable_cpus)
                 : std::string(),
             format_bytes(x.memory_bytes), x.directory, x.filesystem,
             x.cold_cache ? "cold" : "warm",
             c.options.fsync ? "fdatasync before close" : "no fsync", c.runs,
             c.runs == 1 ? "" : "s", c.warmup, c.warmup == 1 ? "" : "s",
             format_bytes(c.options.chunk), x.date) +
         (x.ranks ? "; " + ranks_text(x) : std::string());
}

std::string verdict(const ScenarioResult& s, const EngineResult& e) {
  if (e.error) return "FAILED: " + e.error.message();
  const auto order = ranked(s);
  if (order.empty() || e.runs.empty()) return "not run";
  if (order[0] == &e) return order.size() > 1 ? "fastest" : "";
  const Comparison c = compare(*order[0], e);
  std::string text = fmt::format("{} slower than {}", format_ratio(c), order[0]->choice.label);
  if (c.measured) text += c.beyond_noise ? " (beyond the noise)" : " (within the noise)";
  return text;
}

void write_row(const ScenarioResult& s, const EngineResult& e, std::ostream& out) {
  const std::string scenario = s.scenario.name();
  if (e.runs.empty()) {
    out << fmt::format("| {} | {} | | | | | | | | | | {} |\n", scenario, cell(e.choice.label),
                       cell(verdict(s, e)));
    return;
  }
  const Summary w = e.wall_seconds();
  const LatencySummary l = latency_summary(e);
  const ResourceUsage r = e.total_resources();
  out << fmt::format(
      "| {} | {} | {} | {:.2f} | {:.0f} | {} .. {} | {} | {} | {:.3f} s + {:.3f} s | {} | {} | {} "
      "|\n",
      scenario, cell(e.choice.label), ms(w.median), median_mib_per_second(s.scenario, e),
      median_files_per_second(s.scenario, e), ms(w.min), ms(w.max), ms(w.stddev), ms(l.p99),
      r.user_seconds, r.system_seconds, r.peak_threads,
      r.peak_rss_kib >= 0 ? format_bytes(static_cast<std::uint64_t>(r.peak_rss_kib) * 1024) : "n/a",
      cell(verdict(s, e)));
}

class MarkdownWriter final : public ReportWriter {
 public:
  std::string_view format() const override { return "markdown"; }

  void write(const BenchmarkResult& result, std::ostream& out) const override {
    out << cell(conditions(result)) << "\n\n";
    out << "| Scenario | Engine | Median | MiB/s | files/s | Min .. max | Stddev | p99 latency "
           "| CPU user + sys | Threads | Peak RSS | Result |\n";
    out << "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n";
    for (const ScenarioResult& s : result.scenarios)
      for (const EngineResult& e : s.engines) write_row(s, e, out);
    std::vector<std::string> warnings = general_warnings(result);
    for (const ScenarioResult& s : result.scenarios)
      if (std::string w = ranking_warning(s); !w.empty()) warnings.push_back(std::move(w));
    if (!result.notes.empty() || !warnings.empty() || result.setup_error || result.cancelled)
      out << '\n';
    for (const std::string& note : result.notes) out << "Note: " << cell(note) << "  \n";
    for (const std::string& warning : warnings) out << "**Warning:** " << cell(warning) << "  \n";
    if (result.cancelled) out << "**Interrupted:** the runs stopped before the end.  \n";
    if (result.setup_error) out << "**Error:** " << cell(result.setup_error.message()) << "  \n";
  }
};

}  // namespace

std::unique_ptr<ReportWriter> make_markdown_writer() { return std::make_unique<MarkdownWriter>(); }

}  // namespace ccopy::report
