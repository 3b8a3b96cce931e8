// The console report: the Go original's output, line for line, followed by the statistics,
// latencies and resources of every engine, with the conditions they were measured under.
#include <fmt/format.h>

#include <algorithm>
#include <ostream>

#include "ccopy/report.hpp"
#include "ccopy/size.hpp"
#include "report/writers.hpp"

namespace ccopy::report {
namespace {

std::string ms(double seconds) { return format_duration(seconds * 1e9); }

// "123.45 MiB/s", or "1234 files/s" for files that hold no bytes.
std::string rate(const Scenario& scenario, const EngineResult& e) {
  if (counts_files_only(scenario))
    return fmt::format("{:.0f} files/s", median_files_per_second(scenario, e));
  return fmt::format("{:.2f} MiB/s", median_mib_per_second(scenario, e));
}

std::string engine_line(const Scenario& scenario, const EngineResult& e) {
  std::string line = fmt::format("Running {} copy ({})... ", e.choice.label, e.description);
  if (e.runs.empty()) {
    if (e.error) return line + "FAILED: " + e.error.message();
    return line + "not run";
  }
  std::string figures = rate(scenario, e);
  if (!scenario.is_flat() && !counts_files_only(scenario))
    figures += fmt::format(", {:.0f} files/s", median_files_per_second(scenario, e));
  if (e.reflinked > 0)
    figures += fmt::format("; {} file{} reflinked, not copied", e.reflinked, e.reflinked == 1 ? "" : "s");
  line += fmt::format("done in {} ({})", ms(e.wall_seconds().median), figures);
  if (e.error) line += " then FAILED: " + e.error.message();
  return line;
}

std::string verdict(const Comparison& c) {
  if (!c.measured) return "";
  return c.beyond_noise ? " (beyond the noise)" : " (within the noise)";
}

// Each engine against the fastest, then the warning about the pairs the noise could swap:
// both from compare(), so they cannot disagree.
void write_comparison(const ScenarioResult& s, std::ostream& out) {
  const auto order = ranked(s);
  if (order.size() < 2) return;
  out << "\nComparison (ratio of medians \u00b1 its 95% bootstrap interval):\n";
  if (order.size() == 2) {
    const Comparison c = compare(*order[0], *order[1]);
    out << fmt::format("  {} is {} faster than {}{}\n", order[0]->choice.label, format_ratio(c),
                       order[1]->choice.label, verdict(c));
  } else {
    std::size_t width = 0;
    for (const EngineResult* e : order) width = std::max(width, e->choice.label.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
      const EngineResult& e = *order[i];
      const Comparison c = compare(*order[0], e);
      const std::string tail = i == 0 ? "fastest"
                                      : fmt::format("{} slower than {}{}", format_ratio(c),
                                                    order[0]->choice.label, verdict(c));
      out << fmt::format("  {}. {:<{}}  {:>10}  {:>16}  {}\n", i + 1, e.choice.label, width,
                         ms(e.wall_seconds().median), rate(s.scenario, e), tail);
    }
  }
  if (const std::string warning = ranking_warning(s); !warning.empty())
    out << "***WARNING*** " << warning << '\n';
}

// The width of the engine column of the per-engine tables, or 0 when no engine has a timed run.
std::size_t label_width(const ScenarioResult& s) {
  std::size_t width = 6;
  bool any = false;
  for (const EngineResult& e : s.engines) {
    width = std::max(width, e.choice.label.size());
    any = any || !e.runs.empty();
  }
  return any ? width : 0;
}

void write_wall_times(const ScenarioResult& s, std::ostream& out) {
  const std::size_t width = label_width(s);
  if (width == 0) return;
  out << "\nWall time per run (the median is the headline; outliers by median absolute deviation):\n";
  out << fmt::format("  {:<{}}  {:>5}  {:>10}  {:>21}  {:>23}  {:>10}  {:>10}  {}\n", "engine", width,
                     "runs", "median", "mean +- stddev", "min .. max", "MiB/s", "files/s", "outliers");
  for (const EngineResult& e : s.engines) {
    if (e.runs.empty()) continue;
    const Summary w = e.wall_seconds();
    out << fmt::format("  {:<{}}  {:>5}  {:>10}  {:>21}  {:>23}  {:>10.1f}  {:>10.0f}  {}\n",
                       e.choice.label, width, w.count, ms(w.median),
                       ms(w.mean) + " +- " + ms(w.stddev), ms(w.min) + " .. " + ms(w.max),
                       median_mib_per_second(s.scenario, e), median_files_per_second(s.scenario, e),
                       w.outliers.size());
  }
}

// Per-file latency and resources: worth reading after a single run too, unlike the wall-time
// table, which would only repeat the engine's line.
// Under several MPI ranks the resources are every rank's summed (the benchmark's
// sum_over_ranks()), and the heading says so.
void write_latency_and_resources(const BenchmarkResult& result, const ScenarioResult& s,
                                 std::ostream& out) {
  const std::size_t width = label_width(s);
  if (width == 0) return;
  out << "\nPer-file latency, open to close, over every timed run:\n";
  out << fmt::format("  {:<{}}  {:>10}  {:>10}  {:>10}  {:>10}\n", "engine", width, "p50", "p90", "p99", "max");
  for (const EngineResult& e : s.engines) {
    if (e.runs.empty()) continue;
    const LatencySummary l = latency_summary(e);
    if (l.count == 0) continue;
    out << fmt::format("  {:<{}}  {:>10}  {:>10}  {:>10}  {:>10}\n", e.choice.label, width,
                       ms(l.p50), ms(l.p90), ms(l.p99), ms(l.max));
  }
  const unsigned ranks = result.context.ranks ? result.context.ranks->ranks : 1;
  if (ranks > 1)
    out << fmt::format(
        "\nResources, summed over the timed runs and the {} ranks (threads and memory: each "
        "rank's peak of any run, summed):\n",
        ranks);
  else
    out << "\nResources, summed over the timed runs (threads and memory: the peak of any run):\n";
  out << fmt::format("  {:<{}}  {:>9}  {:>9}  {:>10}  {:>10}  {:>8}  {:>10}\n", "engine", width, "user",
                     "system", "vol. cs", "invol. cs", "threads", "peak RSS");
  for (const EngineResult& e : s.engines) {
    if (e.runs.empty()) continue;
    const ResourceUsage r = e.total_resources();
    out << fmt::format("  {:<{}}  {:>8.3f}s  {:>8.3f}s  {:>10}  {:>10}  {:>8}  {:>10}\n", e.choice.label,
                       width, r.user_seconds, r.system_seconds, r.voluntary_switches,
                       r.involuntary_switches, r.peak_threads,
                       r.peak_rss_kib >= 0 ? format_bytes(static_cast<std::uint64_t>(r.peak_rss_kib) * 1024) : "n/a");
  }
}

// The seed a scenario's tree was generated with: the run's -seed plus the scenario's place in
// the run (the runner's recipe), so that every scenario of a sweep has trees of its own.
std::uint64_t seed_of(const BenchmarkResult& result, const Scenario& scenario) {
  const std::vector<Scenario>& all = result.config.scenarios;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (all[i].name() == scenario.name()) return result.config.seed + i;
  return result.config.seed;
}

// What a scenario copies: the original's line for a flat one, the tree's description for the
// others; and the file system made for it.
void write_what_is_copied(const BenchmarkResult& result, const ScenarioResult* s,
                          const Scenario& scenario, std::ostream& out) {
  if (scenario.is_flat()) {
    out << fmt::format("Files: {}, Size: {} each, Total: {}\n", scenario.files,
                       format_bytes(scenario.size), format_bytes(scenario.files * scenario.size));
  } else {
    const std::string tree = tree_text(scenario);
    out << fmt::format("Tree: {}{}\n", scenario_origin(scenario, seed_of(result, scenario)),
                       tree.empty() ? "" : ": " + tree);
  }
  if (s != nullptr && !s->filesystem.empty()) out << fmt::format("Filesystem: {}\n", s->filesystem);
}

// One scenario's lines; `with_sizes` repeats what is copied when several scenarios share the
// output.
void write_scenario(const BenchmarkResult& result, const ScenarioResult& s, bool with_sizes,
                    std::ostream& out) {
  const BenchmarkConfig& c = result.config;
  if (with_sizes) write_what_is_copied(result, &s, s.scenario, out);
  out << '\n';
  for (const EngineResult& e : s.engines) out << engine_line(s.scenario, e) << '\n';
  for (const EngineResult& e : s.engines)
    for (const std::string& note : e.notes) out << fmt::format("  note ({}): {}\n", e.choice.label, note);
  write_comparison(s, out);
  if (c.runs > 1) write_wall_times(s, out);
  write_latency_and_resources(result, s, out);
  if (!s.kept_directory.empty()) {
    if (s.scenario.fs)
      out << fmt::format("\nThe file system's image is kept in {}: mount it with "
                         "'mount -o loop {} DIR'\n",
                         s.kept_directory, s.kept_directory);
    else
      out << fmt::format("\nFiles kept in {}\n  source:      {}/src\n  destination: {}/dst\n",
                         s.kept_directory, s.kept_directory, s.kept_directory);
  }
}

// Files this small are counted per file in the sweep table as well: for them the rate of
// opens and closes matters more than bytes per second.
constexpr std::uint64_t kSmallFile = 64 * 1024;

std::string sweep_cell(const ScenarioResult& s, const EngineResult& e) {
  if (e.runs.empty()) return e.error ? "FAILED" : "-";
  std::string cell;
  if (counts_files_only(s.scenario))
    cell = fmt::format("{:.0f} files/s", median_files_per_second(s.scenario, e));
  else
    cell = fmt::format("{:.1f} MiB/s", median_mib_per_second(s.scenario, e));
  if (small_files(s.scenario) && !counts_files_only(s.scenario))
    cell += fmt::format(", {:.0f} files/s", median_files_per_second(s.scenario, e));
  if (e.error) cell += " then FAILED";
  return cell;
}

std::string sweep_winner(const ScenarioResult& s) {
  const auto order = ranked(s);
  if (order.empty()) return "-";
  if (order.size() == 1) return "only " + order[0]->choice.label;
  const Comparison c = compare(*order[0], *order[1]);
  const std::string text = fmt::format("{} {}", order[0]->choice.label, format_ratio(c));
  if (!c.measured) return text + " (too few runs to tell)";
  return c.beyond_noise ? text : text + " (within the noise)";
}

// The sweep's answer in one table, like the original's README: a row per scenario, the
// median throughput of every engine, and the winner with its ratio to the runner-up.
void write_sweep_table(const BenchmarkResult& result, std::ostream& out) {
  if (result.scenarios.empty()) return;
  std::vector<std::string> header{"Scenario"};
  for (const EngineResult& e : result.scenarios.front().engines) header.push_back(e.choice.label);
  header.push_back("Winner");
  std::vector<std::vector<std::string>> rows;
  for (const ScenarioResult& s : result.scenarios) {
    std::vector<std::string> row{s.scenario.name()};
    for (const EngineResult& e : s.engines) row.push_back(sweep_cell(s, e));
    row.push_back(sweep_winner(s));
    rows.push_back(std::move(row));
  }
  std::vector<std::size_t> width(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) {
    width[i] = header[i].size();
    for (const auto& row : rows) width[i] = std::max(width[i], row[i].size());
  }
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string text = " ";
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const bool last = i + 1 == cells.size();
      if (last) text += " " + cells[i];
      else if (i == 0) text += fmt::format(" {:<{}}", cells[i], width[i]);
      else text += fmt::format(" {:>{}}", cells[i], width[i]);
      if (!last) text += " |";
    }
    return text + '\n';
  };
  out << fmt::format(
      "\nSweep: median throughput per scenario ({}; MiB/s = 2^20 bytes/s; files/s "
      "for files of {} or less)\n",
      timed_runs_text(result), format_bytes(kSmallFile));
  out << line(header);
  std::string rule = " ";
  for (std::size_t i = 0; i < width.size(); ++i) {
    const bool last = i + 1 == width.size();
    rule.append(1, ' ').append(last ? std::size_t{6} : width[i], '-');
    if (!last) rule += " |";
  }
  out << rule << '\n';
  for (const auto& row : rows) out << line(row);
  out << "  Winner: the fastest median and its ratio to the runner-up's, \u00b1 its 95% bootstrap\n"
         "  interval; within the noise when that interval includes 1.\n";
}

void write_verdict(const BenchmarkResult& result, std::ostream& out) {
  if (result.cancelled) {
    out << "\nVerification: not finished (interrupted)\n";
    return;
  }
  if (result.setup_error) {
    out << "\nVerification: not done (" << result.setup_error.message() << ")\n";
    return;
  }
  if (!result.config.verify) {
    out << "\nVerification: skipped\n";
    return;
  }
  std::vector<std::string> failures;
  for (const ScenarioResult& s : result.scenarios)
    for (const EngineResult& e : s.engines)
      if (e.error) failures.push_back(fmt::format("{}: {}", e.choice.label, e.error.message()));
  if (failures.empty()) {
    // Entries of a user's tree that could not be read were left out of the copies and of the
    // verification: the verdict says so, not only the header.
    std::size_t skipped = 0;
    for (const ScenarioResult& s : result.scenarios) skipped += s.scenario.tree.unreadable.size();
    if (skipped == 0) out << "\nVerification: OK\n";
    else
      out << fmt::format("\nVerification: OK, {} entr{} unreadable and skipped\n", skipped,
                         skipped == 1 ? "y" : "ies");
    return;
  }
  out << "\nVerification: FAILED\n";
  for (const std::string& f : failures) out << "  " << f << '\n';
}

// How the cache was handled, for the directory line.
std::string cache_text(const BenchmarkResult& result) {
  switch (cache_state(result)) {
    case CacheState::warm: return "page cache warm";
    case CacheState::nothing_to_evict:
      return fmt::format("page cache warm (-cold: a {} holds its files in the page cache, there is "
                         "nothing to evict)",
                         result.context.filesystem == "ramfs" ? "ramfs" : "tmpfs");
    case CacheState::remounted:
      return "cold (each fresh file system is unmounted and mounted again before every run: "
             "nothing stays cached)";
    case CacheState::evicted: break;
  }
  return "page cache cold (file data evicted before every run; inodes and dentries stay cached)";
}

void write_header(const BenchmarkResult& result, std::ostream& out) {
  const BenchmarkConfig& c = result.config;
  const RunContext& x = result.context;
  out << "Concurrent File Copy Benchmark\n==============================\n";
  if (c.scenarios.size() == 1) {
    const ScenarioResult* s = result.scenarios.empty() ? nullptr : &result.scenarios.front();
    write_what_is_copied(result, s, s != nullptr ? s->scenario : c.scenarios.front(), out);
  }
  out << fmt::format("CPUs: {}\n", cpu_text(x));
  if (x.ranks) out << fmt::format("Ranks: {}\n", ranks_text(x));
  out << fmt::format("Mode: {}\n", c.mode);
  out << fmt::format("Directory: {} ({}), {}, {}\n", x.directory, x.filesystem, cache_text(result),
                     c.options.fsync ? "fdatasync before close" : "no fsync");
  if (!c.destination_directory.empty())
    out << fmt::format("Copies in: {} ({})\n", c.destination_directory, x.destination_filesystem);
  out << fmt::format("Runs: {} timed after {} warm-up{} per engine, interleaved; chunk {}\n", c.runs,
                     c.warmup, c.warmup == 1 ? "" : "s", format_bytes(c.options.chunk));
  for (const std::string& note : result.notes) out << "Note: " << note << '\n';
  for (const std::string& warning : general_warnings(result))
    out << "***WARNING*** " << warning << '\n';
}

}  // namespace

ConsoleStream::ConsoleStream(std::ostream& out) : out_(out) {}

void ConsoleStream::header(const BenchmarkResult& result) {
  if (header_written_) return;
  write_header(result, out_);
  header_written_ = true;
  notes_written_ = result.notes.size();
}

void ConsoleStream::scenario_done(const BenchmarkResult& result, std::size_t index) {
  header(result);
  if (index >= result.scenarios.size()) return;
  const ScenarioResult& s = result.scenarios[index];
  const bool sweep = result.config.scenarios.size() > 1;
  if (sweep) out_ << fmt::format("\n--- Scenario {} ---\n", s.scenario.name());
  write_scenario(result, s, sweep, out_);
  out_.flush();
}

void ConsoleStream::finish(const BenchmarkResult& result) {
  header(result);
  if (result.notes.size() > notes_written_) {
    out_ << '\n';
    for (std::size_t i = notes_written_; i < result.notes.size(); ++i)
      out_ << "Note: " << result.notes[i] << '\n';
  }
  if (result.config.scenarios.size() > 1) write_sweep_table(result, out_);
  write_verdict(result, out_);
  out_.flush();
}

namespace {

class ConsoleWriter final : public ReportWriter {
 public:
  std::string_view format() const override { return "console"; }

  void write(const BenchmarkResult& result, std::ostream& out) const override {
    ConsoleStream stream(out);
    for (std::size_t i = 0; i < result.scenarios.size(); ++i) stream.scenario_done(result, i);
    stream.finish(result);
  }
};

}  // namespace

std::unique_ptr<ReportWriter> make_console_writer() { return std::make_unique<ConsoleWriter>(); }

}  // namespace ccopy::report
