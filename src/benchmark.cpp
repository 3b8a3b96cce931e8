// The benchmark runner: for each scenario it makes (or finds) the source tree, describes it,
// and runs every engine over it in interleaved rounds, each run copying the whole tree from its
// root into a fresh destination (the walk, the directories, the files, the links and the
// metadata are all inside the timing), then comparing the copy with the source entry by entry.
#include "ccopy/benchmark.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <utility>

#include "ccopy/copy.hpp"
#include "ccopy/fresh_fs.hpp"
#include "ccopy/size.hpp"
#include "ccopy/tree.hpp"
#include "ccopy/workspace.hpp"
#include "copy/context.hpp"
#include "dist/comm.hpp"
#include "dist/shared_verify.hpp"
#include "dist/shared_copy.hpp"
#include "preflight.hpp"
#include "sys/sys.hpp"

namespace ccopy {
namespace {

// Threads that generate and verify trees: the machine's CPUs, at most 4.
unsigned helper_threads() {
  return static_cast<unsigned>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
}

// Watches the process's thread count while a copy runs, so that threads which live only
// during the copy (a thread per file, io_uring's kernel workers) are counted. Where the system
// refuses the watcher its own thread, only the count after the copy is known.
class ThreadSampler {
 public:
  ThreadSampler() : peak_(sys::thread_count()) {
    try {
      thread_ = std::thread([this] { watch(); });
    } catch (const std::system_error&) {
      stopped_ = true;
    }
  }
  ThreadSampler(const ThreadSampler&) = delete;
  ThreadSampler& operator=(const ThreadSampler&) = delete;
  ~ThreadSampler() { (void)stop(); }

  // Stops watching and returns the peak, not counting the sampler's own thread.
  long stop() {
    {
      std::lock_guard lock(mutex_);
      if (!thread_.joinable()) return peak_;
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
      const long now = status_.thread_count() - 1;
      peak_ = std::max(peak_, now);
      if (wake_.wait_for(lock, std::chrono::milliseconds(2), [this] { return stopped_; })) return;
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;
  const sys::StatusFile status_;  // opened here, before the watcher starts
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

void add_note(std::vector<std::string>& notes, const std::string& note) {
  if (std::find(notes.begin(), notes.end(), note) == notes.end()) notes.push_back(note);
}

// The first failure of a copy, as one Error naming the entry and the reason.
Error first_failure(const CopyResult& r) {
  if (r.fatal) return r.fatal;
  if (!r.errors.empty()) {
    const CopyError& e = r.errors.front();
    if (e.code != 0 && e.detail.empty())
      return Error::from_errno(e.code, fmt::format("copy {}: {}{}", e.path, e.operation,
                                                   e.destination.empty() ? "" : " " + e.destination));
    return Error::failure(fmt::format("copy {}: {}", e.path, e.reason()));
  }
  if (r.failed > 0) return Error::failure(fmt::format("{} entries failed to copy", r.failed));
  return {};
}

// What each run of an engine produced.
struct Measured {
  CopyResult copy;
  RunSample sample;
};

// Several ranks run the same Runner, in step: rank 0 (the lead) sets up, generates and keeps
// the workspace; every rank copies its share of each timed run and verifies its part of it.
// Each decision a rank could take alone (an error, a cancellation) goes through agree() or
// stop_now(), so that the ranks take the same branches and meet in the same collectives. With one process (LocalComm,
// not shared) none of this runs and the runner is what it always was.
class Runner {
 public:
  Runner(const BenchmarkConfig& config, const BenchmarkHooks& hooks, dist::Comm& comm, bool shared)
      : config_(config), hooks_(hooks), comm_(comm), shared_(shared) {
    result_.config = config;
    result_.context = describe_machine(config.directory, config.cold);
    if (!config.destination_directory.empty())
      result_.context.destination_filesystem = sys::filesystem_type(config.destination_directory);
    add_warnings();
    steps_ = config.scenarios.size() * config.engines.size() * (config.runs + config.warmup);
    copy_options_.overwrite = Overwrite::refuse;
    copy_options_.record_latencies = true;
    copy_options_.cancel = hooks.cancel;
  }

  BenchmarkResult run() {
    try {
      if (shared_) meet_ranks();
      run_all();
    } catch (const std::bad_alloc&) {
      result_.setup_error = Error::from_errno(ENOMEM, "the benchmark");
    } catch (const std::system_error& e) {
      result_.setup_error = Error::from_errno(e.code().value(), "the benchmark");
    }
    return std::move(result_);
  }

 private:
  bool cancelled() const {
    return hooks_.cancel != nullptr && hooks_.cancel->load(std::memory_order_relaxed);
  }

  bool many() const { return comm_.size() > 1; }
  bool lead() const { return comm_.rank() == 0; }

  // The first barrier: every rank has started and read its options. Measures the start-up
  // and learns the hosts.
  void meet_ranks() {
    comm_.barrier();
    const std::int64_t age = sys::process_age_ns();
    const std::uint64_t oldest = comm_.max(age < 0 ? 0 : static_cast<std::uint64_t>(age));
    const bool known = comm_.max(age < 0 ? 1 : 0) == 0;
    host_of_rank_ = comm_.gather(comm_.host_name(), 0);
    RankContext ranks;
    ranks.ranks = static_cast<unsigned>(comm_.size());
    for (const std::string& host : host_of_rank_)
      if (std::find(ranks.hosts.begin(), ranks.hosts.end(), host) == ranks.hosts.end())
        ranks.hosts.push_back(host);
    if (known) ranks.startup_seconds = static_cast<double>(oldest) / 1e9;
    result_.context.ranks = std::move(ranks);
  }

  // Collective with several ranks: the outcome of a step each rank took its own part of, the
  // same on every rank. The first error in rank order (another rank's named with its host), or
  // a cancellation when a rank was asked to stop.
  Error agree(Error mine) {
    if (!many()) return mine;
    std::string text;
    if (mine.cancelled() || (!mine && cancelled()))
      text = "c";
    else if (mine)
      text = "e" + mine.message();
    const std::vector<std::string> all = comm_.gather(text, 0);
    std::string verdict;
    for (std::size_t r = 0; r < all.size() && verdict.empty(); ++r) {
      verdict = all[r];
      if (r > 0 && !verdict.empty() && verdict[0] == 'e')
        verdict =
            fmt::format("erank {} on host {}: {}", r,
                        r < host_of_rank_.size() ? host_of_rank_[r] : "unknown", verdict.substr(1));
    }
    comm_.broadcast(verdict, 0);
    if (verdict.empty()) return {};
    if (verdict[0] == 'c') return mine.cancelled() ? mine : Error::cancelled("the benchmark");
    if (mine && verdict == text) return mine;
    return Error::failure(verdict.substr(1));
  }

  // Whether to stop now: asked to on this rank, or (collective, with several ranks) on any.
  bool stop_now() { return many() ? comm_.max(cancelled() ? 1 : 0) != 0 : cancelled(); }

  void run_all() {
    for (const EngineChoice& choice : config_.engines) {
      const EngineInfo* info = find_engine(choice.engine);
      if (info == nullptr) {
        result_.setup_error = Error::failure(fmt::format("unknown engine '{}'", choice.engine));
        return;
      }
      engines_.push_back(info->make());
      holders_.threads = holders_.threads || info->open_files == OpenFiles::per_thread;
      holders_.loops = holders_.loops || info->open_files != OpenFiles::per_thread;
      holders_.rings = holders_.rings || info->open_files == OpenFiles::rings_with_pipes;
    }
    for (std::size_t k = 0; k < config_.scenarios.size() && !result_.cancelled; ++k) {
      Error e = run_scenario(k);
      if (e.cancelled() || stop_now()) {
        result_.cancelled = true;
      } else if (e) {
        result_.setup_error = std::move(e);
      }
      if (hooks_.scenario_done && !result_.scenarios.empty()) hooks_.scenario_done(result_, k);
      if (result_.setup_error) break;
    }
  }

  void kept(const std::string& path) {
    if (config_.keep && !path.empty()) result_.kept_directories.push_back(path);
  }

  void tell(ProgressEvent event) {
    if (!hooks_.progress) return;
    event.scenario_count = config_.scenarios.size();
    event.steps = steps_;
    event.step = step_;
    event.runs = config_.runs;
    event.warmups = config_.warmup;
    hooks_.progress(event);
  }

  // Makes the scenario's source: generated into the workspace, or the user's own directory.
  Error prepare_source(std::size_t index, Scenario& scenario, const Workspace& workspace,
                       std::string& source) {
    if (scenario.kind == Scenario::Kind::source) {
      source = scenario.source;
      return {};
    }
    const TreeRecipe recipe = recipe_of(index, scenario);
    Manifest manifest;
    if (Error e = plan_tree(recipe, manifest)) return e;
    if (!scenario.fs) {
      if (Error e = check_room(scenario, &manifest)) return e;
    }
    tell({ProgressEvent::Phase::generating, index, 0, &scenario, nullptr});
    if (Error e = workspace.make("src")) return e;
    const long fd = sys::open_directory_at(workspace.fd(), "src", O_NOFOLLOW);
    if (fd < 0) return Error::from_errno(static_cast<int>(-fd), "open " + workspace.path("src"));
    const sys::unique_fd root(static_cast<int>(fd));
    if (Error e = write_tree(manifest, root.get(), recipe.seed, helper_threads(), hooks_.cancel,
                             workspace.path("src")))
      return e;
    source = workspace.path("src");
    return {};
  }

  // Refuses, before anything is written, a scenario its file systems cannot hold: the sources
  // (when they are generated) and one copy.
  Error check_room(const Scenario& scenario, const Manifest* manifest) const {
    const std::string& dst_dir = destination_parent();
    sys::FilesystemSpace src_space, dst_space;
    if (const long rc = sys::filesystem_space(config_.directory, src_space); rc < 0)
      return Error::from_errno(static_cast<int>(-rc), "statvfs " + config_.directory);
    if (const long rc = sys::filesystem_space(dst_dir, dst_space); rc < 0)
      return Error::from_errno(static_cast<int>(-rc), "statvfs " + dst_dir);
    const bool same = dst_dir == config_.directory;
    SpaceNeeded sources, copy;
    if (manifest != nullptr) {
      const Footprint f = footprint(*manifest, static_cast<std::uint64_t>(src_space.block_size));
      sources = {f.bytes, f.inodes};
      const Footprint g = footprint(*manifest, static_cast<std::uint64_t>(dst_space.block_size));
      copy = {g.bytes, g.inodes};
    } else {
      const auto block = static_cast<std::uint64_t>(dst_space.block_size);
      const TreeSummary& t = scenario.tree;
      copy.bytes = t.allocated + (t.directories + t.symlinks + t.files) * block;
      copy.inodes = t.files + t.directories + t.symlinks + t.specials;
      copy.what = "one copy of the tree and its metadata";
    }
    if (same) {
      const SpaceNeeded both{sources.bytes + copy.bytes, sources.inodes + copy.inodes,
                             manifest != nullptr ? sources.what : copy.what};
      return check_space(config_.directory, both, src_space);
    }
    sources.what = "the source files and their metadata";
    if (copy.what.rfind("the source files", 0) == 0) copy.what = "one copy and its metadata";
    if (Error e = check_space(config_.directory, sources, src_space)) return e;
    return check_space(dst_dir, copy, dst_space);
  }

  const std::string& destination_parent() const {
    return config_.destination_directory.empty() ? config_.directory
                                                 : config_.destination_directory;
  }

  Error describe(std::size_t index, Scenario& scenario, const std::string& source) {
    tell({ProgressEvent::Phase::describing, index, 0, &scenario, nullptr});
    const long fd = sys::open_directory_at(AT_FDCWD, source.c_str(), 0);
    if (fd < 0) return Error::from_errno(static_cast<int>(-fd), "open " + source);
    const sys::unique_fd root(static_cast<int>(fd));
    scenario.tree = TreeSummary{};
    if (Error e = describe_tree(root.get(), scenario.tree, hooks_.cancel)) return e;
    scenario.described = true;
    return {};
  }

  // With -fs: a fresh file system, sized for the scenario's sources and one copy, mounted in a
  // workspace of its own under -dir; the scenario's workspace is made inside it.
  Error prepare_filesystem(std::size_t index, Scenario& scenario, Workspace& top,
                           FreshFilesystem& fs, std::string& parent) {
    const FsKind kind = *scenario.fs;
    if (Error e = check_fresh_fs(kind)) return e;
    if (Error e = enter_private_mount_namespace()) return e;
    std::uint64_t bytes = 0, inodes = 0;
    if (scenario.kind == Scenario::Kind::source) {
      if (Error e = describe(index, scenario, scenario.source)) return e;
      bytes = scenario.tree.allocated + scenario.tree.entries() * 4096;
      inodes = scenario.tree.entries();
    } else {
      Manifest manifest;
      if (Error e = plan_tree(recipe_of(index, scenario), manifest)) return e;
      const Footprint f = footprint(manifest, 4096);
      bytes = f.bytes;
      inodes = f.inodes;
    }
    if (Error e = Workspace::create(config_.directory, top)) return e;
    if (config_.keep) top.keep();
    if (Error e = top.make("fs")) return e;
    tell({ProgressEvent::Phase::generating, index, 0, &scenario, nullptr});
    if (Error e = FreshFilesystem::create(kind, config_.fs_image_directory, 2 * bytes, 2 * inodes,
                                          top.path("fs"), config_.keep, fs))
      return e;
    kept(fs.image());
    parent = fs.mount_point();
    return {};
  }

  TreeRecipe recipe_of(std::size_t index, const Scenario& scenario) const {
    TreeRecipe recipe;
    recipe.shape = scenario.kind == Scenario::Kind::flat ? Shape::flat : scenario.shape;
    recipe.scale = scenario.scale;
    recipe.files = scenario.files;
    recipe.file_size = scenario.size;
    recipe.seed = config_.seed + index;
    return recipe;
  }

  // A -src tree on a fresh file system: copied onto it first, untimed, with what can be read.
  Error copy_source_onto(const Scenario& scenario, const Workspace& workspace, std::string& source) {
    const EngineInfo* threads = find_engine("threads");
    const std::unique_ptr<Engine> engine = threads->make();
    CopyOptions options;
    options.skip = scenario.tree.unreadable;
    options.cancel = hooks_.cancel;
    CopyObserver quiet;
    const CopyResult r = copy_tree({{scenario.source, workspace.path("src")}}, *engine,
                                   EngineOptions{}, options, quiet);
    if (r.cancelled) return Error::cancelled("copying the source onto the fresh file system");
    if (Error e = first_failure(r))
      return Error::failure("copy -src onto the fresh file system: " + e.message());
    source = workspace.path("src");
    return {};
  }

  // The lead's part of setting up a scenario: its file system (-fs), its workspace, its
  // sources and their description, and the room check.
  Error set_up(std::size_t index, Scenario& scenario, Workspace& top, FreshFilesystem& fs,
               Workspace& workspace, Workspace& destinations, std::string& source) {
    std::string parent = config_.directory;
    if (scenario.fs) {
      if (many())
        return Error::failure(
            "-fs cannot be used by several MPI ranks: a fresh file system is mounted on one host");
      if (Error e = prepare_filesystem(index, scenario, top, fs, parent)) return e;
    }
    fs_ = scenario.fs ? &fs : nullptr;
    if (Error e = Workspace::create(parent, workspace)) return e;
    if (!config_.destination_directory.empty()) {
      if (Error e = Workspace::create(config_.destination_directory, destinations)) return e;
    }
    if (config_.keep) {
      workspace.keep();
      destinations.keep();
      if (!scenario.fs) {
        kept(workspace.root());
        kept(destinations.root());
      }
    }
    if (scenario.fs && scenario.kind == Scenario::Kind::source) {
      if (Error e = copy_source_onto(scenario, workspace, source)) return e;
    } else if (Error e = prepare_source(index, scenario, workspace, source)) {
      return e;
    }
    if (Error e = describe(index, scenario, source)) return e;
    if (scenario.kind == Scenario::Kind::source && !scenario.fs) {
      if (Error e = check_room(scenario, nullptr)) return e;
    }
    return {};
  }

  // The other ranks' part, once the lead has set up (collective): they learn where the source
  // and the destinations are, check that they see what the lead sees, and describe the source
  // themselves (its files bound the engines' options, its unreadable entries are skipped).
  Error follow(std::size_t index, Scenario& scenario, std::string& source, std::string& into) {
    comm_.broadcast(source, 0);
    comm_.broadcast(into, 0);
    const std::string verdict = dist::check_same_roots(comm_, {{source, into}});
    if (!verdict.empty())
      return Error::failure(
          verdict + " (the workspace must be on a file system every rank sees: TMPDIR or -dir)");
    return agree(lead() ? Error{} : describe(index, scenario, source));
  }

  Error run_scenario(std::size_t index) {
    Scenario scenario = config_.scenarios[index];
    Workspace top;
    FreshFilesystem fs;
    Workspace workspace, destinations;
    std::string source;
    if (Error e = agree(lead() ? set_up(index, scenario, top, fs, workspace, destinations, source)
                               : Error{}))
      return e;
    Workspace* into = lead() ? (destinations.valid() ? &destinations : &workspace) : nullptr;
    std::string into_root = into != nullptr ? into->root() : std::string();
    if (many()) {
      if (Error e = follow(index, scenario, source, into_root)) return e;
    }
    if (Error e = agree(bound_options(scenario.file_count()))) return e;

    ScenarioResult& out = result_.scenarios.emplace_back();
    out.scenario = scenario;
    if (scenario.fs) out.filesystem = fs.description();
    copy_options_.skip = scenario.tree.unreadable;
    if (!scenario.tree.unreadable.empty())
      add_note(result_.notes,
               fmt::format("{}: {} entr{} cannot be read and {} left out of the copies and their "
                           "verification: {}",
                           scenario.name(), scenario.tree.unreadable.size(),
                           scenario.tree.unreadable.size() == 1 ? "y" : "ies",
                           scenario.tree.unreadable.size() == 1 ? "is" : "are",
                           fmt::join(scenario.tree.unreadable.begin(),
                                     scenario.tree.unreadable.begin() +
                                         static_cast<std::ptrdiff_t>(std::min<std::size_t>(
                                             5, scenario.tree.unreadable.size())),
                                     ", ")));
    for (std::size_t e = 0; e < engines_.size(); ++e) {
      EngineResult& r = out.engines.emplace_back();
      r.choice = config_.engines[e];
      r.description = engines_[e]->describe(options_, scenario.file_count());
    }
    // Whether every run of each engine so far copied the whole tree and verified.
    std::vector<std::uint8_t> clean(engines_.size(), 1);
    const unsigned rounds = config_.warmup + config_.runs;
    const std::string destination = into_root + "/dst";
    for (unsigned round = 0; round < rounds; ++round) {
      for (std::size_t e = 0; e < engines_.size(); ++e) {
        if (stop_now()) return Error::cancelled("the benchmark");
        bool ok = clean[e] != 0;
        Error err = run_once(into, source, destination, index, round, e, out.engines[e], ok);
        clean[e] = ok ? 1 : 0;
        if (err) return err;
        ++step_;
      }
      out.rounds_done = round + 1;
    }
    for (std::size_t e = 0; e < engines_.size(); ++e)
      out.engines[e].verified = clean[e] != 0 && config_.verify && !out.engines[e].error;
    if (config_.keep) out.kept_directory = scenario.fs ? fs.image() : workspace.root();
    tell({ProgressEvent::Phase::cleaning, index, 0, &scenario, nullptr});
    if (Error e = workspace.remove()) add_note(result_.notes, e.message());
    if (Error e = destinations.remove()) add_note(result_.notes, e.message());
    if (Error e = fs.destroy()) add_note(result_.notes, e.message());
    fs_ = nullptr;
    return {};
  }

  // Sets the options every engine runs this scenario with: the configured ones, with the
  // files open at once bounded by the descriptor limit.
  Error bound_options(std::uint64_t files) {
    options_ = config_.options;
    const long limit = sys::open_file_limit();
    const long open_now = sys::open_descriptor_count();
    if (limit < 0 || open_now < 0) return {};
    DescriptorBound bound = bound_by_descriptors(options_, static_cast<std::size_t>(files), limit,
                                                 open_now, holders_);
    if (bound.error) return bound.error;
    if (!bound.note.empty()) add_note(result_.notes, bound.note);
    options_ = bound.options;
    return {};
  }

  // Puts every run on the same footing: no destination, no writeback left over from
  // generation or from the engine before, and the source evicted when -cold was given. With
  // several ranks the lead (`into` set) clears and syncs, and each rank evicts the source from
  // its own host's page cache.
  Error prepare_run(Workspace* into, const std::string& source) {
    if (into != nullptr) {
      if (Error e = into->clear("dst")) return e;
      if (const long rc = sys::sync_filesystem(into->root()); rc < 0)
        return Error::from_errno(static_cast<int>(-rc), "syncfs " + into->root());
    }
    if (config_.cold && fs_ != nullptr) {
      // Unmounted and mounted again: neither data nor inodes nor dentries stay cached. A
      // tmpfs keeps nothing anywhere else, so there is nothing to drop (a warning says so).
      if (fs_->kind() == FsKind::tmpfs) return {};
      into->close();
      if (Error e = fs_->remount()) return e;
      return into->reopen();
    }
    if (config_.cold) {
      if (const long rc = sys::sync_filesystem(source); rc < 0)
        return Error::from_errno(static_cast<int>(-rc), "syncfs " + source);
      const long fd = sys::open_directory_at(AT_FDCWD, source.c_str(), 0);
      if (fd < 0) return Error::from_errno(static_cast<int>(-fd), "open " + source);
      const sys::unique_fd root(static_cast<int>(fd));
      if (Error e = evict_tree(root.get())) return e;
    }
    return {};
  }

  // Shared: from a barrier every rank has reached to the end of copy_tree_shared(), which
  // returns once every rank has copied its share and the ranks' results are merged.
  CopyResult timed_copy(Engine& engine, const std::string& source, const std::string& destination,
                        std::int64_t& start, std::int64_t& end) {
    CopyObserver quiet;
    if (!shared_) {
      start = copy::now_ns();
      CopyResult r = copy_tree({{source, destination}}, engine, options_, copy_options_, quiet);
      end = copy::now_ns();
      return r;
    }
    comm_.barrier();
    start = copy::now_ns();
    CopyResult r = dist::copy_tree_shared(comm_, {{source, destination}}, engine, options_,
                                          copy_options_, quiet);
    end = copy::now_ns();
    return r;
  }

  // Every rank's resources, summed: CPU time and switches, and the peaks of threads and of
  // memory each rank reached (so the peak of all ranks at once, at most).
  void sum_over_ranks(ResourceUsage& r) {
    if (!many()) return;
    std::uint64_t values[6] = {static_cast<std::uint64_t>(std::llround(r.user_seconds * 1e6)),
                               static_cast<std::uint64_t>(std::llround(r.system_seconds * 1e6)),
                               static_cast<std::uint64_t>(std::max(0L, r.voluntary_switches)),
                               static_cast<std::uint64_t>(std::max(0L, r.involuntary_switches)),
                               static_cast<std::uint64_t>(std::max(0L, r.peak_threads)),
                               static_cast<std::uint64_t>(std::max(0L, r.peak_rss_kib))};
    comm_.all_reduce_sum(values);
    const bool rss_unknown = comm_.max(r.peak_rss_kib < 0 ? 1 : 0) != 0;
    r.user_seconds = static_cast<double>(values[0]) / 1e6;
    r.system_seconds = static_cast<double>(values[1]) / 1e6;
    r.voluntary_switches = static_cast<long>(values[2]);
    r.involuntary_switches = static_cast<long>(values[3]);
    r.peak_threads = static_cast<long>(values[4]);
    r.peak_rss_kib = rss_unknown ? -1 : static_cast<long>(values[5]);
  }

  Measured measure_copy(Engine& engine, const std::string& source, const std::string& destination) {
    Measured m;
    const long baseline = std::max(0L, sys::resident_kib());
    const bool rss_resettable = sys::reset_peak_rss() == 0;
    const sys::ProcessUsage before = sys::process_usage();
    ThreadSampler threads;
    std::int64_t start = 0, end = 0;
    m.copy = timed_copy(engine, source, destination, start, end);
    const long peak_threads = std::max(threads.stop(), sys::thread_count());
    m.sample.wall_ns = end - start;
    m.sample.resources = difference(before, sys::process_usage());
    m.sample.resources.peak_threads = peak_threads;
    m.sample.resources.peak_rss_kib =
        rss_resettable ? std::max(0L, sys::peak_rss_kib() - baseline) : -1;
    sum_over_ranks(m.sample.resources);
    if (many())
      m.sample.wall_ns = static_cast<std::int64_t>(
          comm_.max(static_cast<std::uint64_t>(lead() ? m.sample.wall_ns : 0)));
    m.sample.file_latencies_ns = std::move(m.copy.latencies_ns);
    return m;
  }

  // One run of one engine. Returns an error only for what stops the whole benchmark. With
  // several ranks every rank takes part (the lead alone has `into`); the merged copy result and
  // the verdict are the same on every rank.
  Error run_once(Workspace* into, const std::string& source, const std::string& destination,
                 std::size_t index, unsigned round, std::size_t e, EngineResult& r, bool& clean) {
    const bool warmup = round < config_.warmup;
    if (r.error) return {};  // an engine that failed once is not run again
    if (Error err = agree(prepare_run(into, source))) return err;
    ProgressEvent event{ProgressEvent::Phase::copying, index, 0, &result_.scenarios.back().scenario,
                        &config_.engines[e]};
    event.run = warmup ? 0 : round - config_.warmup + 1;
    event.warmup = warmup ? round + 1 : 0;
    tell(event);
    Measured m = measure_copy(*engines_[e], source, destination);
    for (const std::string& note : m.copy.notes) add_note(r.notes, note);
    if (m.copy.cancelled || stop_now()) return Error::cancelled("the benchmark");
    r.reflinked = m.copy.copied.reflinked;
    if (!m.copy.ok()) {
      r.error = first_failure(m.copy);
      clean = false;
      if (m.copy.failed > 1)
        add_note(r.notes, fmt::format("{} entries failed to copy", m.copy.failed));
      return {};
    }
    if (config_.verify) {
      event.phase = ProgressEvent::Phase::verifying;
      tell(event);
      if (Error err = agree(verify(source, destination, r, clean))) return err;
      if (r.error) return {};
    } else {
      clean = false;
    }
    m.sample.round = round;
    m.sample.sequence = sequence_++;
    if (warmup) ++r.warmups;
    else r.runs.push_back(std::move(m.sample));
    return {};
  }

  // Collective with several ranks: each compares its part of the trees, and every rank gets
  // the same verdict (dist/shared_verify.hpp).
  Error verify(const std::string& source, const std::string& destination, EngineResult& r,
               bool& clean) {
    VerifyOptions options;
    options.skip = copy_options_.skip;
    options.threads = helper_threads();
    options.follow_root = true;  // a -src given as a symlink to its directory
    VerifyResult verdict;
    Error e = many() ? dist::verify_copy_shared(comm_, source, destination, options, verdict,
                                                hooks_.cancel)
                     : verify_copy(source, destination, options, verdict, hooks_.cancel);
    if (e.cancelled()) return e;
    if (e) {
      r.error = std::move(e);
      clean = false;
      return {};
    }
    if (!verdict.ok()) {
      r.error = Error::failure("the copy differs from the source: " + verdict.first);
      clean = false;
      if (verdict.differences > 1)
        add_note(r.notes, fmt::format("{} entries differ from their source", verdict.differences));
    }
    return {};
  }

  // Reasons to distrust the numbers, known before the first run, so that a front end printing
  // each scenario as it finishes shows them first. How each scenario's ranking stands is said
  // beside its results (ranking_warning()).
  void add_warnings() {
    if (std::string_view(result_.context.build_type) != "Release" &&
        std::string_view(result_.context.build_type) != "RelWithDebInfo")
      result_.warnings.push_back(fmt::format(
          "this is a {} build: timings are not representative", result_.context.build_type));
    if (config_.runs < 3)
      result_.warnings.push_back(fmt::format(
          "only {} timed run{} per engine: too few to tell a difference from noise", config_.runs,
          config_.runs == 1 ? "" : "s"));
    bool fresh = false;
    for (const Scenario& s : config_.scenarios) fresh = fresh || s.fs.has_value();
    const std::string& fs = result_.context.filesystem;
    if (config_.cold && !fresh && (fs == "tmpfs" || fs == "ramfs"))
      result_.warnings.push_back(fmt::format(
          "-cold on {}: its files live in the page cache, there is nothing to evict: every run "
          "is warm",
          fs));
  }

  const BenchmarkConfig& config_;
  const BenchmarkHooks& hooks_;
  dist::Comm& comm_;
  bool shared_;  // run_benchmark() given a Comm: the ranks' copy and context, even for one rank
  std::vector<std::string> host_of_rank_;  // on the lead: each rank's host, in rank order
  BenchmarkResult result_;
  std::vector<std::unique_ptr<Engine>> engines_;
  // The kinds of engine in the run, for the descriptor bound.
  DescriptorHolders holders_{.threads = false, .loops = false, .rings = false};
  EngineOptions options_;  // the current scenario's, bounded by the descriptor limit
  CopyOptions copy_options_;
  FreshFilesystem* fs_ = nullptr;  // the current scenario's, with -fs
  std::size_t steps_ = 0;
  std::size_t step_ = 0;
  std::int64_t sequence_ = 0;
};

}  // namespace

// "linux", "linux on xfs": a scenario on a fresh file system says which.
std::string Scenario::on(std::string base) const {
  if (!fs) return base;
  return fmt::format("{} on {}", base, fs_kind_name(*fs));
}

std::string Scenario::name() const {
  switch (kind) {
    case Kind::flat:
      return on(fmt::format("{}x{}", files, short_size(size)));
    case Kind::shape: {
      const ShapeInfo* info = nullptr;
      for (const ShapeInfo& s : shapes())
        if (s.shape == shape) info = &s;
      const std::string base = info != nullptr ? std::string(info->name) : "tree";
      return on(scale == 1.0 ? base : fmt::format("{}@{:g}", base, scale));
    }
    case Kind::source:
      break;
  }
  return on(source);
}

std::uint64_t Scenario::total_bytes() const {
  if (described) return tree.bytes;
  return kind == Kind::flat ? files * size : 0;
}

std::uint64_t Scenario::file_count() const {
  if (described) return tree.files;
  return kind == Kind::flat ? files : 0;
}

std::uint64_t Scenario::entry_count() const {
  if (described) return tree.entries();
  return kind == Kind::flat ? files + 1 : 0;
}

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

BenchmarkResult run_benchmark(const BenchmarkConfig& config, const BenchmarkHooks& hooks) {
  dist::LocalComm alone;
  return Runner(config, hooks, alone, false).run();
}

BenchmarkResult run_benchmark(const BenchmarkConfig& config, const BenchmarkHooks& hooks,
                              dist::Comm& comm) {
  return Runner(config, hooks, comm, true).run();
}

}  // namespace ccopy
