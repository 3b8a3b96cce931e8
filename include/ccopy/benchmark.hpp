// The benchmark runner: generates the files, runs every engine in interleaved rounds under
// the same conditions, times and verifies every run, and returns everything it measured.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "ccopy/engine.hpp"
#include "ccopy/error.hpp"
#include "ccopy/fresh_fs.hpp"
#include "ccopy/stats.hpp"
#include "ccopy/tree.hpp"

namespace ccopy::dist {
class Comm;  // src/dist/comm.hpp: the ranks that share a run
}  // namespace ccopy::dist

namespace ccopy {

/// What one scenario copies: the original's N files of one size (`flat`), a generated tree of
/// a realistic shape (`-tree`), or the user's own directory (`-src`). Once the runner has
/// generated or found it, `tree` describes what is really there.
struct Scenario {
  enum class Kind : std::uint8_t { flat, shape, source };
  Scenario() = default;
  /// A flat scenario: `file_count` files of `file_size` bytes.
  Scenario(std::size_t file_count, std::uint64_t file_size) : files(file_count), size(file_size) {}

  std::size_t files = 50;            ///< flat
  std::uint64_t size = 1024 * 1024;  ///< flat: bytes per file
  Kind kind = Kind::flat;
  Shape shape = Shape::flat;  ///< shape
  double scale = 1.0;         ///< shape: -tree-scale
  std::string source;         ///< source: the directory, as an absolute path
  /// A fresh file system made for this scenario (-fs): the sources are made (or a -src tree
  /// copied, untimed) on it, and the timed copies stay inside it. None: run in -dir as it is.
  std::optional<FsKind> fs;
  /// Filled by the runner before the first copy; `described` says whether it was.
  TreeSummary tree;
  bool described = false;

  /// "50x1M" (the name -scenarios accepts), "linux", "linux@0.01", or the source directory.
  [[nodiscard]] std::string name() const;
  /// Bytes of file data: the description's once there is one, else what a flat one will hold.
  [[nodiscard]] std::uint64_t total_bytes() const;
  /// Regular files, likewise.
  [[nodiscard]] std::uint64_t file_count() const;
  /// Entries of every kind (files, directories, links...), likewise; a flat scenario's root
  /// directory counts.
  [[nodiscard]] std::uint64_t entry_count() const;
  [[nodiscard]] bool is_flat() const { return kind == Kind::flat; }

 private:
  [[nodiscard]] std::string on(std::string base) const;
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
  /// What the run added to the resident memory the process had when it started (its peak
  /// minus that baseline): 0 when it added nothing, -1 when the peak cannot be reset.
  long peak_rss_kib = -1;
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
  /// Every run it was meant to do (warm-ups too) copied the whole tree and was compared with its
  /// source; false when any run failed, differed, was not verified, or did not happen.
  bool verified = false;
  Error error;                  ///< the first copy or verification failure
  std::vector<std::string> notes;
  std::uint64_t reflinked = 0;  ///< files the last run cloned (FICLONE) instead of copying

  [[nodiscard]] Summary wall_seconds() const;
  /// Per-file latency in seconds, pooled over every timed run.
  [[nodiscard]] std::vector<double> latencies_seconds() const;
  /// Sums of CPU time and switches over the timed runs; maxima of threads and memory.
  [[nodiscard]] ResourceUsage total_resources() const;
};

/// Everything measured for one scenario.
struct ScenarioResult {
  Scenario scenario;  ///< with its description
  std::vector<EngineResult> engines;
  std::string kept_directory;  ///< where the files are when -keep was given
  unsigned rounds_done = 0;    ///< interleaved rounds completed (warm-ups included)
  /// With -fs: the file system made for it, its size and how it was made.
  std::string filesystem;
};

/// The ranks (MPI processes) that ran the benchmark together, each copying its share of every
/// run: set by run_benchmark() given a Comm.
struct RankContext {
  unsigned ranks = 1;
  /// The hosts they ran on, each once, in the order of their first rank.
  std::vector<std::string> hosts;
  /// From the start of the oldest rank's process (its start time in /proc/self/stat, to 10 ms)
  /// to the barrier every rank met once started and set up (MPI initialised, options read),
  /// before anything was generated: the launcher's and MPI's start-up. -1 when unknown.
  double startup_seconds = -1;
};

/// The conditions the numbers were measured under (google/benchmark's context block).
struct RunContext {
  std::string version, git_commit, build_type, compiler;
  std::string kernel, cpu_model;
  unsigned cpus = 0;         ///< the machine's hardware threads (std::thread::hardware_concurrency)
  unsigned usable_cpus = 0;  ///< those this process may run on (sched_getaffinity): fewer under
                             ///< taskset or a cpuset; equal to `cpus` when it cannot be known
  std::uint64_t memory_bytes = 0;
  std::string directory, filesystem;
  std::string date;  ///< ISO 8601, UTC
  bool cold_cache = false;
  /// -dst-dir's file system type, when the copies go there.
  std::string destination_filesystem;
  /// Set when several ranks (or one, under mpirun) ran the benchmark: then every run's time is
  /// that of all ranks' copies together, and its resources are summed over the ranks.
  std::optional<RankContext> ranks;
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
  /// Where the destinations go when not beside the sources in `directory` (-dst-dir): another
  /// directory or file system, so that a copy across file systems can be measured.
  std::string destination_directory;
  /// Where -fs makes its images (-fs-image): /dev/shm by default, a real disk to measure one.
  std::string fs_image_directory = "/dev/shm";
};

/// A step of the benchmark, for progress displays.
struct ProgressEvent {
  enum class Phase { generating, describing, copying, verifying, cleaning } phase = Phase::generating;
  std::size_t scenario_index = 0, scenario_count = 0;
  const Scenario* scenario = nullptr;
  const EngineChoice* engine = nullptr;
  unsigned run = 0, runs = 0;  ///< 1-based timed run, or 0 during warm-up
  unsigned warmup = 0, warmups = 0;
  std::size_t step = 0, steps = 0;  ///< copies done and to do, over the whole benchmark
};

struct BenchmarkResult;

/// How a front end follows a run: none of these is part of the result.
struct BenchmarkHooks {
  /// When set and it becomes true, the run stops at the next step (a copy in progress stops
  /// within its current chunk), cleans up and returns with `cancelled` set.
  const std::atomic<bool>* cancel = nullptr;
  /// Told before each step, so that a front end can show progress. Called on the runner's
  /// thread; must not throw.
  std::function<void(const ProgressEvent&)> progress;
  /// Told after each scenario, with everything measured so far, so that a front end can show
  /// its results at once and rewrite its exports (a long sweep leaves its results even if it is
  /// killed). Called on the runner's thread; must not throw.
  std::function<void(const BenchmarkResult&, std::size_t scenario)> scenario_done;
};

/// Everything a benchmark produced.
struct BenchmarkResult {
  RunContext context;
  BenchmarkConfig config;
  std::vector<ScenarioResult> scenarios;
  std::vector<std::string> notes;     ///< conditions the user should know about
  std::vector<std::string> warnings;  ///< reasons to distrust the numbers
  Error setup_error;                  ///< a failure before any copy (workspace, generation)
  /// With -keep: every directory (or -fs image) left on disk, in the order they were made, as
  /// soon as each is made, so that an interrupted run can say where its files are.
  std::vector<std::string> kept_directories;
  bool cancelled = false;

  /// True when every engine in every scenario copied and verified every run.
  [[nodiscard]] bool ok() const;
  /// The first error of any kind, for the exit message.
  [[nodiscard]] Error first_error() const;
};

/// Checks that every name in a -mode value is known and that no engine is named twice, without
/// probing anything: the error names the first unknown one and lists the known ones, or names
/// both spellings of one engine ("'xev' and 'uring' both name the uring engine", "'both' and
/// 'goroutine' ...", "'xev' is listed twice").
[[nodiscard]] Error check_mode_names(std::string_view spec);

/// Turns a -mode value into the engines to run: an engine name ("uring"), one of the
/// original's names ("xev", "goroutine"), "both" (xev and goroutine), "all" (every engine that
/// can run here and that no other name of the list names: "all,xev" runs io_uring once, as
/// xev), or a comma-separated list of these. Engines that cannot run here are replaced or
/// skipped with a note, or refused with an error when asked for by name.
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
[[nodiscard]] BenchmarkResult run_benchmark(const BenchmarkConfig& config,
                                            const BenchmarkHooks& hooks = {});

/// Runs the benchmark by the ranks of `comm` together. Collective: every rank calls it with the
/// same config (rank 0's engines) and gets the same outcome (errors, cancellation, verdicts).
/// Rank 0 makes the workspace, generates the sources and verifies every copy; each timed run
/// goes from a barrier to the end of dist::copy_tree_shared(), in which every rank copies its
/// share with the engine. Every rank's result holds the whole run's times and latencies; the
/// resources are summed over the ranks. Hooks are called on every rank: give rank 0's only.
/// -fs is refused with several ranks (a fresh file system is mounted on one host). Never
/// throws; never prints.
[[nodiscard]] BenchmarkResult run_benchmark(const BenchmarkConfig& config,
                                            const BenchmarkHooks& hooks, dist::Comm& comm);

}  // namespace ccopy
