// What every writer shares: the registry of formats and the derived figures.
#include "ccopy/report.hpp"

#include "ccopy/size.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

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
  std::vector<double> a, b;
  for (const RunSample& run : faster.runs) a.push_back(static_cast<double>(run.wall_ns) / 1e9);
  for (const RunSample& run : slower.runs) b.push_back(static_cast<double>(run.wall_ns) / 1e9);
  const RatioInterval interval = bootstrap_median_ratio(a, b);
  Comparison c;
  c.ratio = interval.ratio;
  c.uncertainty = interval.uncertainty;
  c.measured = interval.resamples > 0;
  c.beyond_noise = interval.excludes_one();
  return c;
}

std::string format_ratio(const Comparison& c) {
  if (!c.measured) return fmt::format("{:.2f}x", c.ratio);
  return fmt::format("{:.2f} \u00b1 {:.2f}x", c.ratio, c.uncertainty);
}

std::string ranking_warning(const ScenarioResult& scenario) {
  const auto order = ranked(scenario);
  std::vector<std::string> pairs;
  for (std::size_t i = 0; i + 1 < order.size(); ++i) {
    const Comparison c = compare(*order[i], *order[i + 1]);
    if (!c.measured || c.beyond_noise) continue;
    pairs.push_back(fmt::format("{} and {} ({})", order[i]->choice.label,
                                order[i + 1]->choice.label, format_ratio(c)));
  }
  if (pairs.empty()) return {};
  return fmt::format("{}: within the noise, their order could flip on another run: {}",
                     scenario.scenario.name(), fmt::join(pairs, ", "));
}

std::vector<std::string> general_warnings(const BenchmarkResult& result) {
  // The runner still adds overlap_warnings() to BenchmarkResult::warnings (the library
  // rewrite drops them); they are left out here so that ranking_warning() alone speaks.
  std::vector<std::string> superseded;
  for (const ScenarioResult& s : result.scenarios)
    for (std::string& w : overlap_warnings(s)) superseded.push_back(std::move(w));
  std::vector<std::string> warnings;
  for (const std::string& w : result.warnings)
    if (std::find(superseded.begin(), superseded.end(), w) == superseded.end())
      warnings.push_back(w);
  return warnings;
}

std::string ranks_text(const RunContext& context) {
  if (!context.ranks) return {};
  const RankContext& r = *context.ranks;
  std::string hosts;
  for (const std::string& h : r.hosts) hosts += (hosts.empty() ? "" : ", ") + h;
  return fmt::format(
      "{} MPI rank{} on {} host{} ({}), start-up {}, resources summed over the "
      "ranks",
      r.ranks, r.ranks == 1 ? "" : "s", r.hosts.size(), r.hosts.size() == 1 ? "" : "s", hosts,
      r.startup_seconds < 0 ? std::string("unknown") : fmt::format("{:.2f} s", r.startup_seconds));
}

std::string cpu_text(const RunContext& context) {
  if (context.usable_cpus == 0 || context.usable_cpus >= context.cpus)
    return fmt::format("{}", context.cpus);
  return fmt::format("{} usable of {} (affinity)", context.usable_cpus, context.cpus);
}

std::string timed_runs_text(const BenchmarkResult& result) {
  std::size_t fewest = 0, most = 0;
  bool any = false;
  for (const ScenarioResult& s : result.scenarios) {
    for (const EngineResult& e : s.engines) {
      fewest = any ? std::min(fewest, e.runs.size()) : e.runs.size();
      most = any ? std::max(most, e.runs.size()) : e.runs.size();
      any = true;
    }
  }
  if (!any) return "no timed runs";
  if (fewest == most) return fmt::format("{} timed run{} per engine", most, most == 1 ? "" : "s");
  return fmt::format("{} to {} timed runs per engine", fewest, most);
}

double median_mib_per_second(const Scenario& scenario, const EngineResult& engine) {
  const double seconds = engine.wall_seconds().median;
  return seconds > 0 ? static_cast<double>(scenario.total_bytes()) / (1024.0 * 1024.0) / seconds : 0;
}

double median_files_per_second(const Scenario& scenario, const EngineResult& engine) {
  const double seconds = engine.wall_seconds().median;
  return seconds > 0 ? static_cast<double>(scenario.file_count()) / seconds : 0;
}

double median_entries_per_second(const Scenario& scenario, const EngineResult& engine) {
  const double seconds = engine.wall_seconds().median;
  return seconds > 0 ? static_cast<double>(scenario.entry_count()) / seconds : 0;
}

std::string tree_text(const Scenario& scenario) {
  if (!scenario.described) return {};
  const TreeSummary& t = scenario.tree;
  const auto count = [](std::uint64_t n, const char* one, const char* many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
  };
  std::string text = count(t.files, "file", "files") + ", " +
                     count(t.directories, "directory", "directories");
  if (t.symlinks > 0) text += ", " + count(t.symlinks, "symlink", "symlinks");
  if (t.hardlinks > 0) text += ", " + count(t.hardlinks, "hardlink", "hardlinks");
  if (t.specials > 0) text += ", " + count(t.specials, "special file", "special files");
  text += ", " + format_bytes(t.bytes);
  if (t.sparse_files > 0)
    text += fmt::format(" ({} allocated, {})", format_bytes(t.allocated),
                        count(t.sparse_files, "sparse file", "sparse files"));
  if (t.files > 0)
    text += fmt::format("; file size median {}, p90 {}, p99 {}, max {}", format_bytes(t.size_median),
                        format_bytes(t.size_p90), format_bytes(t.size_p99), format_bytes(t.size_max));
  text += fmt::format("; {} level{} deep", t.max_depth, t.max_depth == 1 ? "" : "s");
  if (!t.unreadable.empty())
    text += fmt::format("; {} unreadable, left out", count(t.unreadable.size(), "entry", "entries"));
  return text;
}

std::string scenario_origin(const Scenario& scenario, std::uint64_t seed) {
  switch (scenario.kind) {
    case Scenario::Kind::flat:
      return fmt::format("{} x {} (flat)", scenario.files, format_bytes(scenario.size));
    case Scenario::Kind::shape:
      return fmt::format("{} (generated, seed {})", scenario.name(), seed);
    case Scenario::Kind::source:
      break;
  }
  return fmt::format("{} (-src)", scenario.name());
}

CacheState cache_state(const BenchmarkResult& result) {
  const BenchmarkConfig& c = result.config;
  if (!c.cold) return CacheState::warm;
  bool fresh = false, fresh_tmpfs = false;
  for (const Scenario& s : c.scenarios) {
    fresh = fresh || (s.fs.has_value() && *s.fs != FsKind::tmpfs);
    fresh_tmpfs = fresh_tmpfs || (s.fs.has_value() && *s.fs == FsKind::tmpfs);
  }
  if (fresh) return CacheState::remounted;
  if (fresh_tmpfs) return CacheState::nothing_to_evict;
  const std::string& fs = result.context.filesystem;
  if (fs == "tmpfs" || fs == "ramfs") return CacheState::nothing_to_evict;
  return CacheState::evicted;
}

bool small_files(const Scenario& scenario) {
  constexpr std::uint64_t kSmall = 64 * 1024;
  if (scenario.described && !scenario.is_flat()) return scenario.tree.size_median <= kSmall;
  return scenario.size <= kSmall;
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
