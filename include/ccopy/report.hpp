// Report writers: one per output format, one signature. The library formats; the caller
// decides where the text goes (stdout, a file), so library code never prints.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

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

/// How two engines compare: the ratio of the slower's median wall time to the faster's, with
/// its uncertainty, a 95% bootstrap interval (bootstrap_median_ratio() over the timed runs);
/// the difference is beyond the noise when that interval leaves out 1. The comparisons, the
/// rankings' warnings and every writer take their verdicts from this one test, so that they
/// cannot disagree.
struct Comparison {
  double ratio = 1;
  double uncertainty = 0;
  bool measured = false;      ///< both had at least two timed runs, so there is an interval
  bool beyond_noise = false;  ///< measured, and the interval leaves out 1
};
[[nodiscard]] Comparison compare(const EngineResult& faster, const EngineResult& slower);

/// "1.10 ± 0.05x", as hyperfine prints a ratio; "1.10x" when there is no interval.
[[nodiscard]] std::string format_ratio(const Comparison& c);

/// The warning for a scenario whose ranking lies within the noise: one line naming every pair
/// of engines adjacent in the ranking (ranked()) whose comparison is measured but not beyond
/// the noise, each with its ratio: "50x1M: within the noise, their order could flip on another
/// run: uv and uring (1.03 ± 0.08x), uring and kernel (1.01 ± 0.05x)". Empty when there is none.
[[nodiscard]] std::string ranking_warning(const ScenarioResult& scenario);

/// The warnings about the whole run (the build type, too few runs), without the runner's
/// pairwise range-overlap warnings (overlap_warnings()), which ranking_warning() replaces
/// beside each scenario's results.
[[nodiscard]] std::vector<std::string> general_warnings(const BenchmarkResult& result);

/// Whether a scenario moves no bytes (0-byte files): its engines are then compared by files
/// per second, since every MiB/s is 0.
[[nodiscard]] inline bool counts_files_only(const Scenario& s) { return s.total_bytes() == 0; }

/// "2", or "1 usable of 2 (affinity)" when the process may run on fewer CPUs than the machine
/// has.
[[nodiscard]] std::string cpu_text(const RunContext& context);
/// "2 MPI ranks on 1 host (node01), start-up 0.41 s, resources summed over the ranks", or
/// empty when one process ran alone (no RankContext).
[[nodiscard]] std::string ranks_text(const RunContext& context);

/// How many timed runs each engine completed: "5 timed runs per engine", or "2 to 5 timed runs
/// per engine" when some engine stopped early (a failure, an interruption).
[[nodiscard]] std::string timed_runs_text(const BenchmarkResult& result);

/// Median throughput in MiB/s (bytes / 2^20 per second), as the original reported it.
[[nodiscard]] double median_mib_per_second(const Scenario& scenario, const EngineResult& engine);
/// Median files per second.
[[nodiscard]] double median_files_per_second(const Scenario& scenario, const EngineResult& engine);
/// Median entries (files, directories, links, special files) per second.
[[nodiscard]] double median_entries_per_second(const Scenario& scenario, const EngineResult& engine);

/// What a scenario copies, in one line: "78579 files, 5096 directories, 56 symlinks, 1.2 GiB;
/// file size median 3.8 KiB, p90 28.1 KiB, p99 122.0 KiB, max 20.7 MiB; 10 levels deep", with
/// hardlinks, special files, sparse files and unreadable entries when there are any. Empty
/// before the scenario was described.
[[nodiscard]] std::string tree_text(const Scenario& scenario);

/// How a scenario is shown in a header: "linux (generated, seed 24301)", "/usr/include (-src)",
/// "50 x 1.0 MiB (flat)".
[[nodiscard]] std::string scenario_origin(const Scenario& scenario, std::uint64_t seed);

/// What -cold did to the caches: nothing (warm), nothing it could (a tmpfs: its files live in
/// the page cache), file data evicted (inodes and dentries stay), or fresh file systems
/// unmounted and mounted again (nothing stays).
enum class CacheState { warm, nothing_to_evict, evicted, remounted };
[[nodiscard]] CacheState cache_state(const BenchmarkResult& result);

/// Whether a scenario's files are small (a median of 64 KiB or less), so that files per second
/// say more than bytes per second.
[[nodiscard]] bool small_files(const Scenario& scenario);

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

namespace ccopy::report {

/// The console report, a scenario at a time: a front end prints each scenario's results when it
/// finishes (BenchmarkHooks::scenario_done) instead of after the whole sweep. The header comes
/// before the first scenario; finish() adds the notes that came later, the sweep's table and the
/// verdict. Writing a whole result this way gives exactly the console writer's text.
class ConsoleStream {
 public:
  explicit ConsoleStream(std::ostream& out);
  void scenario_done(const BenchmarkResult& result, std::size_t index);
  void finish(const BenchmarkResult& result);

 private:
  void header(const BenchmarkResult& result);
  std::ostream& out_;
  bool header_written_ = false;
  std::size_t notes_written_ = 0;
};

}  // namespace ccopy::report
