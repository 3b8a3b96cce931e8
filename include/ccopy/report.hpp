// Report writers: one per output format, one signature. The library formats; the caller
// decides where the text goes (stdout, a file), so library code never prints.
#pragma once

#include <memory>
#include <ostream>
#include <string_view>

#include "ccopy/benchmark.hpp"

namespace ccopy {

/// Writes a whole benchmark's results in one format.
class ReportWriter {
 public:
  virtual ~ReportWriter() = default;
  ReportWriter() = default;
  ReportWriter(const ReportWriter&) = delete;
  ReportWriter& operator=(const ReportWriter&) = delete;

  /// The format's name: "console", "json", "csv", "markdown", "svg".
  [[nodiscard]] virtual std::string_view format() const = 0;
  virtual void write(const BenchmarkResult& result, std::ostream& out) const = 0;
};

/// The writer for `format`, or nullptr when there is none.
[[nodiscard]] std::unique_ptr<ReportWriter> make_writer(std::string_view format);

/// How two engines compare: the ratio of the slower's median to the faster's, and whether the
/// difference stands out of the noise (their min..max ranges do not overlap).
struct Comparison {
  double ratio = 1;
  bool beyond_noise = false;
};
[[nodiscard]] Comparison compare(const EngineResult& faster, const EngineResult& slower);

/// Median throughput in MiB/s (bytes / 2^20 per second), as the original reported it.
[[nodiscard]] double median_mib_per_second(const Scenario& scenario, const EngineResult& engine);
/// Median files per second.
[[nodiscard]] double median_files_per_second(const Scenario& scenario, const EngineResult& engine);

/// Per-file latency from open to close, in seconds, pooled over an engine's timed runs.
/// All zeros when there is none.
struct LatencySummary {
  std::size_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
};
[[nodiscard]] LatencySummary latency_summary(const EngineResult& engine);

/// The engines of a scenario that produced timings, fastest (lowest median) first.
[[nodiscard]] std::vector<const EngineResult*> ranked(const ScenarioResult& scenario);

}  // namespace ccopy
