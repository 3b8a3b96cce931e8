// The benchmark runner: generates the files, runs every engine in interleaved rounds under
// the same conditions, times and verifies every run, and returns everything it measured.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <string>
#include <vector>

#include "ccopy/engine.hpp"
#include "ccopy/error.hpp"
#include "ccopy/stats.hpp"

namespace ccopy {

/// A set of files to copy: `files` files of `size` bytes each.
struct Scenario {
  std::size_t files = 50;
  std::uint64_t size = 1024 * 1024;
  /// "50x1M": the name `-scenarios` accepts.
  [[nodiscard]] std::string name() const;
  [[nodiscard]] std::uint64_t total_bytes() const { return files * size; }
};

/// One engine to run, under the name the user asked for it by.
struct EngineChoice {
  std::string label;   ///< what the output calls it: "xev", "goroutine", "uring"
  std::string engine;  ///< registry name: "uring", "threads", "uv", "kernel"
};

/// What a process spent: the difference of getrusage() around the timed copies, the peak
/// number of threads seen while they ran (io_uring's kernel workers included), and the peak
/// resident memory.
struct ResourceUsage {
  double user_seconds = 0;
  double system_seconds = 0;
  long voluntary_switches = 0;
  long involuntary_switches = 0;
  long peak_threads = 0;
  long peak_rss_kib = 0;
};

/// One timed run of one engine.
struct RunSample {
  std::int64_t wall_ns = 0;
  unsigned round = 0;  ///< which interleaved round it belonged to, counting warm-ups
  std::int64_t sequence = 0;  ///< position among every run of the scenario, all engines
  ResourceUsage resources;
  std::vector<std::int64_t> file_latencies_ns;
};

/// Everything measured for one engine in one scenario.
struct EngineResult {
  EngineChoice choice;
  std::string description;      ///< "io_uring event loop, 16 files in flight"
  std::vector<RunSample> runs;  ///< timed runs only, in order
  unsigned warmups = 0;         ///< untimed runs done before them
  bool verified = false;        ///< every run, warm-ups too, verified byte for byte
  Error error;                  ///< the first copy or verification failure
  std::vector<std::string> notes;

  [[nodiscard]] Summary wall_seconds() const;
  /// Per-file latency in seconds, pooled over every timed run.
  [[nodiscard]] std::vector<double> latencies_seconds() const;
  /// Sums of CPU time and switches over the timed runs; maxima of threads and memory.
  [[nodiscard]] ResourceUsage total_resources() const;
};

/// Everything measured for one scenario.
struct ScenarioResult {
  Scenario scenario;
  std::vector<EngineResult> engines;
  std::string kept_directory;  ///< where the files are when -keep was given
};

/// The conditions the numbers were measured under (google/benchmark's context block).
struct RunContext {
  std::string version, git_commit, build_type, compiler;
  std::string kernel, cpu_model;
  unsigned cpus = 0;
  std::uint64_t memory_bytes = 0;
  std::string directory, filesystem;
  std::string date;  ///< ISO 8601, UTC
  bool cold_cache = false;
};

/// What to run.
struct BenchmarkConfig {
  std::string directory;
  std::string mode = "both";  ///< the -mode the engines were chosen by, for the output
  std::vector<Scenario> scenarios;
  std::vector<EngineChoice> engines;
  EngineOptions options;
  unsigned runs = 5;
  unsigned warmup = 1;
  bool cold = false;
  bool keep = false;
  bool verify = true;
  std::uint64_t seed = 0x5eed;
  const std::atomic<bool>* cancel = nullptr;

  /// Told before each step, so that a front end can show progress. Called on the runner's
  /// thread; must not throw.
  std::function<void(const struct ProgressEvent&)> progress;
};

/// A step of the benchmark, for progress displays.
struct ProgressEvent {
  enum class Phase { generating, copying, verifying, cleaning } phase = Phase::generating;
  std::size_t scenario_index = 0, scenario_count = 0;
  const Scenario* scenario = nullptr;
  const EngineChoice* engine = nullptr;
  unsigned run = 0, runs = 0;  ///< 1-based timed run, or 0 during warm-up
  unsigned warmup = 0, warmups = 0;
  std::size_t step = 0, steps = 0;  ///< copies done and to do, over the whole benchmark
};

/// Everything a benchmark produced.
struct BenchmarkResult {
  RunContext context;
  BenchmarkConfig config;
  std::vector<ScenarioResult> scenarios;
  std::vector<std::string> notes;     ///< conditions the user should know about
  std::vector<std::string> warnings;  ///< reasons to distrust the numbers
  Error setup_error;                  ///< a failure before any copy (workspace, generation)
  bool cancelled = false;

  /// True when every engine in every scenario copied and verified every run.
  [[nodiscard]] bool ok() const;
  /// The first error of any kind, for the exit message.
  [[nodiscard]] Error first_error() const;
};

/// Checks that every name in a -mode value is known, without probing anything: the error
/// names the first unknown one and lists the known ones.
[[nodiscard]] Error check_mode_names(std::string_view spec);

/// Turns a -mode value into the engines to run: an engine name ("uring"), one of the
/// original's names ("xev", "goroutine"), "both" (xev and goroutine), "all" (every engine that
/// can run here), or a comma-separated list of these. Engines that cannot run here are
/// replaced or skipped with a note, or refused with an error when asked for by name.
[[nodiscard]] Error resolve_modes(std::string_view spec, std::vector<EngineChoice>& engines,
                                  std::vector<std::string>& notes);

/// Gathers the machine's description for `directory`.
[[nodiscard]] RunContext describe_machine(const std::string& directory, bool cold_cache);

/// One warning for each pair of engines in `scenario` whose fastest-to-slowest ranges overlap,
/// naming both and their ranges: their ranking could flip on the next run. Engines with fewer
/// than two timed runs (no range) or with an error (no ranking) are left out. The runner adds
/// these to BenchmarkResult::warnings, so every writer shows them.
[[nodiscard]] std::vector<std::string> overlap_warnings(const ScenarioResult& scenario);

/// Runs the benchmark. Never throws; never prints.
[[nodiscard]] BenchmarkResult run_benchmark(const BenchmarkConfig& config);

}  // namespace ccopy
