// What every writer shares: the registry of formats and the derived figures.
#include "ccopy/report.hpp"

#include <algorithm>

#include "report/writers.hpp"

namespace ccopy {

std::unique_ptr<ReportWriter> make_writer(std::string_view format) {
  if (format == "console") return report::make_console_writer();
  if (format == "json") return report::make_json_writer();
  if (format == "csv") return report::make_csv_writer();
  if (format == "markdown") return report::make_markdown_writer();
  if (format == "svg") return report::make_svg_writer();
  return nullptr;
}

Comparison compare(const EngineResult& faster, const EngineResult& slower) {
  const Summary a = faster.wall_seconds();
  const Summary b = slower.wall_seconds();
  Comparison c;
  c.ratio = a.median > 0 ? b.median / a.median : 0;
  c.beyond_noise = a.count >= 2 && b.count >= 2 && a.max < b.min;
  return c;
}

double median_mib_per_second(const Scenario& scenario, const EngineResult& engine) {
  const double seconds = engine.wall_seconds().median;
  return seconds > 0 ? static_cast<double>(scenario.total_bytes()) / (1024.0 * 1024.0) / seconds : 0;
}

double median_files_per_second(const Scenario& scenario, const EngineResult& engine) {
  const double seconds = engine.wall_seconds().median;
  return seconds > 0 ? static_cast<double>(scenario.files) / seconds : 0;
}

LatencySummary latency_summary(const EngineResult& engine) {
  const std::vector<double> values = engine.latencies_seconds();
  LatencySummary l;
  l.count = values.size();
  if (values.empty()) return l;
  l.p50 = percentile(values, 50);
  l.p90 = percentile(values, 90);
  l.p99 = percentile(values, 99);
  l.max = *std::max_element(values.begin(), values.end());
  return l;
}

std::vector<const EngineResult*> ranked(const ScenarioResult& scenario) {
  std::vector<const EngineResult*> order;
  for (const EngineResult& e : scenario.engines)
    if (!e.runs.empty() && !e.error) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(), [](const EngineResult* a, const EngineResult* b) {
    return a->wall_seconds().median < b->wall_seconds().median;
  });
  return order;
}

}  // namespace ccopy
