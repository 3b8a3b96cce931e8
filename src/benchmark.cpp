#include "ccopy/benchmark.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "ccopy/fileset.hpp"
#include "ccopy/size.hpp"
#include "ccopy/verify.hpp"
#include "engines/blocking.hpp"
#include "preflight.hpp"
#include "sys/sys.hpp"

namespace ccopy {
namespace {

// Watches the process's thread count while a copy runs, so that threads which live only
// during the copy (a thread per file, io_uring's kernel workers) are counted.
class ThreadSampler {
 public:
  ThreadSampler() : peak_(sys::thread_count()), thread_([this] { watch(); }) {}
  ThreadSampler(const ThreadSampler&) = delete;
  ThreadSampler& operator=(const ThreadSampler&) = delete;
  ~ThreadSampler() { (void)stop(); }

  // Stops watching and returns the peak, not counting the sampler's own thread.
  long stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return peak_;
      stopped_ = true;
    }
    wake_.notify_one();
    thread_.join();
    return peak_;
  }

 private:
  void watch() {
    std::unique_lock lock(mutex_);
    for (;;) {
      const long now = sys::thread_count() - 1;
      peak_ = std::max(peak_, now);
      if (wake_.wait_for(lock, std::chrono::milliseconds(2), [this] { return stopped_; })) return;
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;
  long peak_;
  std::thread thread_;
};

ResourceUsage difference(const sys::ProcessUsage& before, const sys::ProcessUsage& after) {
  ResourceUsage r;
  r.user_seconds = after.user_seconds - before.user_seconds;
  r.system_seconds = after.system_seconds - before.system_seconds;
  r.voluntary_switches = after.voluntary_switches - before.voluntary_switches;
  r.involuntary_switches = after.involuntary_switches - before.involuntary_switches;
  return r;
}

bool is_cancelled(const BenchmarkConfig& config) {
  return config.cancel != nullptr && config.cancel->load(std::memory_order_relaxed);
}

void add_note(std::vector<std::string>& notes, const std::string& note) {
  if (std::find(notes.begin(), notes.end(), note) == notes.end()) notes.push_back(note);
}

// Puts every run on the same footing: an empty destination, no writeback left over from
// generation or from the engine before, and the source evicted when -cold was given.
Error prepare_run(const BenchmarkConfig& config, const Workspace& workspace,
                  const std::vector<CopyJob>& jobs) {
  if (Error e = workspace.reset_destination()) return e;
  if (const long rc = sys::sync_filesystem(workspace.root()); rc < 0)
    return Error::from_errno(static_cast<int>(-rc), "syncfs " + workspace.root());
  if (config.cold) {
    for (const CopyJob& job : jobs) {
      if (const long rc = sys::evict_from_cache(job.source); rc < 0)
        return Error::from_errno(static_cast<int>(-rc), "evict " + job.source + " from the page cache");
    }
  }
  return {};
}

struct Measured {
  CopyReport report;
  RunSample sample;
};

Measured measure_copy(Engine& engine, const std::vector<CopyJob>& jobs, const EngineOptions& options) {
  Measured m;
  const bool rss_resettable = sys::reset_peak_rss() == 0;
  const sys::ProcessUsage before = sys::process_usage();
  ThreadSampler threads;
  const std::int64_t start = engines::now_ns();
  m.report = engine.copy(jobs, options);
  const std::int64_t end = engines::now_ns();
  const long peak_threads = std::max(threads.stop(), sys::thread_count());
  m.sample.wall_ns = end - start;
  m.sample.resources = difference(before, sys::process_usage());
  m.sample.resources.peak_threads = peak_threads;
  m.sample.resources.peak_rss_kib = rss_resettable ? std::max(0L, sys::peak_rss_kib()) : 0;
  m.sample.file_latencies_ns.reserve(m.report.files.size());
  for (const FileOutcome& file : m.report.files) m.sample.file_latencies_ns.push_back(file.latency_ns);
  return m;
}

class Runner {
 public:
  explicit Runner(const BenchmarkConfig& config) : config_(config) {
    result_.config = config;
    result_.context = describe_machine(config.directory, config.cold);
    steps_ = config.scenarios.size() * config.engines.size() * (config.runs + config.warmup);
  }

  BenchmarkResult run() {
    for (const EngineChoice& choice : config_.engines) {
      const EngineInfo* info = find_engine(choice.engine);
      if (info == nullptr) {
        result_.setup_error = Error::failure(fmt::format("unknown engine '{}'", choice.engine));
        return std::move(result_);
      }
      engines_.push_back(info->make());
      holders_.threads = holders_.threads || info->open_files == OpenFiles::per_thread;
      holders_.loops = holders_.loops || info->open_files != OpenFiles::per_thread;
      holders_.rings = holders_.rings || info->open_files == OpenFiles::rings_with_pipes;
    }
    if (Error e = check_room()) {
      result_.setup_error = std::move(e);
      return std::move(result_);
    }
    for (std::size_t k = 0; k < config_.scenarios.size() && !result_.cancelled; ++k) {
      if (Error e = run_scenario(k)) {
        if (e.code == ECANCELED) result_.cancelled = true;
        else result_.setup_error = std::move(e);
        break;
      }
    }
    add_warnings();
    return std::move(result_);
  }

 private:
  void tell(ProgressEvent event) {
    if (!config_.progress) return;
    event.scenario_count = config_.scenarios.size();
    event.steps = steps_;
    event.step = step_;
    event.runs = config_.runs;
    event.warmups = config_.warmup;
    config_.progress(event);
  }

  Error run_scenario(std::size_t index) {
    const Scenario& scenario = config_.scenarios[index];
    Workspace workspace;
    if (Error e = Workspace::create(config_.directory, workspace)) return e;
    if (config_.keep) workspace.keep();
    const std::vector<CopyJob> jobs = plan_jobs(workspace, scenario.files, scenario.size);
    if (Error e = bound_options(jobs.size())) return e;
    tell({ProgressEvent::Phase::generating, index, 0, &scenario, nullptr});
    if (Error e = generate_sources(jobs, config_.seed + index, config_.cancel)) return e;

    ScenarioResult& out = result_.scenarios.emplace_back();
    out.scenario = scenario;
    for (std::size_t e = 0; e < engines_.size(); ++e) {
      EngineResult& r = out.engines.emplace_back();
      r.choice = config_.engines[e];
      r.description = engines_[e]->describe(options_, jobs.size());
      r.verified = config_.verify;
    }
    const unsigned rounds = config_.warmup + config_.runs;
    for (unsigned round = 0; round < rounds; ++round) {
      for (std::size_t e = 0; e < engines_.size(); ++e) {
        if (is_cancelled(config_)) return Error::from_errno(ECANCELED, "benchmark");
        if (Error err = run_once(workspace, jobs, index, round, e, out.engines[e])) return err;
        ++step_;
      }
    }
    if (config_.keep) out.kept_directory = workspace.root();
    tell({ProgressEvent::Phase::cleaning, index, 0, &scenario, nullptr});
    if (Error e = workspace.remove()) add_note(result_.notes, e.message());
    return {};
  }

  // Refuses, before anything is written, a run that the file system of the directory cannot
  // hold.
  Error check_room() const {
    sys::FilesystemSpace space;
    if (const long rc = sys::filesystem_space(config_.directory, space); rc < 0)
      return Error::from_errno(static_cast<int>(-rc), "statvfs " + config_.directory);
    const SpaceNeeded needed = space_needed(config_.scenarios, config_.keep,
                                            static_cast<std::uint64_t>(space.block_size));
    return check_space(config_.directory, needed, space);
  }

  // Sets the options every engine runs this scenario with: the configured ones, with the
  // files open at once bounded by the descriptor limit.
  // The engines also watch the benchmark's cancel flag, so that an interrupted copy stops at
  // its next chunk instead of running to the end.
  Error bound_options(std::size_t files) {
    options_ = config_.options;
    if (options_.cancel == nullptr) options_.cancel = config_.cancel;
    const long limit = sys::open_file_limit();
    const long open_now = sys::open_descriptor_count();
    if (limit < 0 || open_now < 0) return {};
    DescriptorBound bound = bound_by_descriptors(options_, files, limit, open_now, holders_);
    if (bound.error) return bound.error;
    if (!bound.note.empty()) add_note(result_.notes, bound.note);
    options_ = bound.options;
    return {};
  }

  // One run of one engine. Returns an error only for what stops the whole benchmark.
  Error run_once(const Workspace& workspace, const std::vector<CopyJob>& jobs, std::size_t index,
                 unsigned round, std::size_t e, EngineResult& r) {
    const bool warmup = round < config_.warmup;
    if (r.error) return {};  // an engine that failed once is not run again
    if (Error err = prepare_run(config_, workspace, jobs)) return err;
    ProgressEvent event{ProgressEvent::Phase::copying, index, 0, &config_.scenarios[index],
                        &config_.engines[e]};
    event.run = warmup ? 0 : round - config_.warmup + 1;
    event.warmup = warmup ? round + 1 : 0;
    tell(event);
    Measured m = measure_copy(*engines_[e], jobs, options_);
    for (const std::string& note : m.report.notes) add_note(r.notes, note);
    if (m.report.cancelled) return Error::from_errno(ECANCELED, "benchmark");
    if (Error err = m.report.first_error()) {
      const std::size_t failed = m.report.failed_count();
      r.error = std::move(err);
      if (failed > 1) add_note(r.notes, fmt::format("{} of {} files failed to copy", failed, jobs.size()));
      r.verified = false;
      return {};
    }
    if (config_.verify) {
      event.phase = ProgressEvent::Phase::verifying;
      tell(event);
      const VerifyReport verdict = verify_copies(jobs);
      if (!verdict.ok()) {
        r.error = verdict.first_error();
        r.verified = false;
        if (verdict.failed > 1)
          add_note(r.notes, fmt::format("{} of {} files differ from their source", verdict.failed, jobs.size()));
        return {};
      }
    }
    m.sample.round = round;
    m.sample.sequence = sequence_++;
    if (warmup) ++r.warmups;
    else r.runs.push_back(std::move(m.sample));
    return {};
  }

  void add_warnings() {
    if (std::string_view(result_.context.build_type) != "Release" &&
        std::string_view(result_.context.build_type) != "RelWithDebInfo")
      result_.warnings.push_back(fmt::format(
          "this is a {} build: timings are not representative", result_.context.build_type));
    if (config_.runs < 3)
      result_.warnings.push_back(fmt::format(
          "only {} timed run{} per engine: too few to tell a difference from noise", config_.runs,
          config_.runs == 1 ? "" : "s"));
    for (const ScenarioResult& s : result_.scenarios)
      for (std::string& warning : overlap_warnings(s)) result_.warnings.push_back(std::move(warning));
  }

  const BenchmarkConfig& config_;
  BenchmarkResult result_;
  std::vector<std::unique_ptr<Engine>> engines_;
  // The kinds of engine in the run, for the descriptor bound.
  DescriptorHolders holders_{.threads = false, .loops = false, .rings = false};
  EngineOptions options_;  // the current scenario's, bounded by the descriptor limit
  std::size_t steps_ = 0;
  std::size_t step_ = 0;
  std::int64_t sequence_ = 0;
};

}  // namespace

std::string Scenario::name() const { return fmt::format("{}x{}", files, short_size(size)); }

Summary EngineResult::wall_seconds() const {
  std::vector<double> values;
  for (const RunSample& run : runs) values.push_back(static_cast<double>(run.wall_ns) / 1e9);
  return summarize(values);
}

std::vector<double> EngineResult::latencies_seconds() const {
  std::vector<double> values;
  for (const RunSample& run : runs)
    for (std::int64_t ns : run.file_latencies_ns) values.push_back(static_cast<double>(ns) / 1e9);
  return values;
}

ResourceUsage EngineResult::total_resources() const {
  ResourceUsage total;
  for (const RunSample& run : runs) {
    total.user_seconds += run.resources.user_seconds;
    total.system_seconds += run.resources.system_seconds;
    total.voluntary_switches += run.resources.voluntary_switches;
    total.involuntary_switches += run.resources.involuntary_switches;
    total.peak_threads = std::max(total.peak_threads, run.resources.peak_threads);
    total.peak_rss_kib = std::max(total.peak_rss_kib, run.resources.peak_rss_kib);
  }
  return total;
}

bool BenchmarkResult::ok() const { return !first_error() && !cancelled; }

Error BenchmarkResult::first_error() const {
  if (setup_error) return setup_error;
  for (const ScenarioResult& s : scenarios)
    for (const EngineResult& e : s.engines)
      if (e.error) return e.error;
  return {};
}

std::vector<std::string> overlap_warnings(const ScenarioResult& s) {
  std::vector<std::pair<const EngineResult*, Summary>> timed;
  for (const EngineResult& e : s.engines)
    if (e.runs.size() >= 2 && !e.error) timed.emplace_back(&e, e.wall_seconds());
  const auto range = [](const Summary& w) {
    return format_duration(w.min * 1e9) + " .. " + format_duration(w.max * 1e9);
  };
  std::vector<std::string> warnings;
  for (std::size_t i = 0; i < timed.size(); ++i) {
    for (std::size_t j = i + 1; j < timed.size(); ++j) {
      const auto& [a, wa] = timed[i];
      const auto& [b, wb] = timed[j];
      if (wa.max < wb.min || wb.max < wa.min) continue;
      warnings.push_back(fmt::format(
          "{}: the runs of {} ({}) and {} ({}) overlap: a spread too wide to trust their ranking",
          s.scenario.name(), a->choice.label, range(wa), b->choice.label, range(wb)));
    }
  }
  return warnings;
}

BenchmarkResult run_benchmark(const BenchmarkConfig& config) { return Runner(config).run(); }

}  // namespace ccopy
