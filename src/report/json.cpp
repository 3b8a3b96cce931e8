// The JSON export: the conditions first (google/benchmark's context block), then every raw run
// and every figure the console shows, per scenario and per engine. docs/output.md describes
// each field and docs/output.schema.json is its schema; change all three together.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <ostream>

#include "ccopy/report.hpp"
#include "report/writers.hpp"

namespace ccopy::report {
namespace {

// Keys keep the order they are written in, so the context block opens the document.
using json = nlohmann::ordered_json;

// getrusage counts CPU time in microseconds; rounding to them drops the binary noise that
// subtracting and summing doubles adds (0.0030689999999999953 becomes 0.003069).
double cpu_seconds(double seconds) { return std::round(seconds * 1e6) / 1e6; }

// Raised when the document's shape changes in a way that breaks readers.
constexpr int kFormatVersion = 1;

json text_or_null(const Error& error) { return error ? json(error.message()) : json(nullptr); }

json resources_json(const ResourceUsage& r) {
  return {{"user_seconds", cpu_seconds(r.user_seconds)},
          {"system_seconds", cpu_seconds(r.system_seconds)},
          {"voluntary_switches", r.voluntary_switches},
          {"involuntary_switches", r.involuntary_switches},
          {"peak_threads", r.peak_threads},
          {"peak_rss_bytes", r.peak_rss_kib >= 0 ? json(r.peak_rss_kib * 1024) : json(nullptr)}};
}

json parameters_json(const BenchmarkConfig& c) {
  json files = json::array(), sizes = json::array(), names = json::array(), engines = json::array();
  json trees = json::array(), sources = json::array(), filesystems = json::array();
  std::vector<std::uint64_t> seen_files, seen_sizes;
  double scale = 1;
  const auto add_once = [](json& list, const json& value) {
    if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
  };
  for (const Scenario& s : c.scenarios) {
    names.push_back(s.name());
    if (s.fs) add_once(filesystems, std::string(fs_kind_name(*s.fs)));
    if (s.kind == Scenario::Kind::source) add_once(sources, s.source);
    if (s.kind == Scenario::Kind::shape) {
      for (const ShapeInfo& info : shapes())
        if (info.shape == s.shape) add_once(trees, std::string(info.name));
      scale = s.scale;
    }
    if (!s.is_flat()) continue;
    if (std::find(seen_files.begin(), seen_files.end(), s.files) == seen_files.end())
      seen_files.push_back(s.files);
    if (std::find(seen_sizes.begin(), seen_sizes.end(), s.size) == seen_sizes.end())
      seen_sizes.push_back(s.size);
  }
  for (std::uint64_t f : seen_files) files.push_back(f);
  for (std::uint64_t s : seen_sizes) sizes.push_back(s);
  for (const EngineChoice& e : c.engines)
    engines.push_back({{"label", e.label}, {"engine", e.engine}});
  return {{"files", files},
          {"size_bytes", sizes},
          {"trees", trees},
          {"tree_scale", scale},
          {"sources", sources},
          {"filesystems", filesystems},
          {"fs_image_directory", c.fs_image_directory},
          {"scenarios", names},
          {"mode", c.mode},
          {"engines", engines},
          {"workers", c.options.workers},
          {"inflight", c.options.inflight},
          {"chunk_bytes", c.options.chunk},
          {"pool", c.options.pool},
          {"loops", c.options.loops},
          {"kernel_copy", kernel_copy_name(c.options.kernel_copy)},
          {"runs", c.runs},
          {"warmup", c.warmup},
          {"cold", c.cold},
          {"fsync", c.options.fsync},
          {"verify", c.verify},
          {"keep", c.keep},
          {"seed", c.seed}};
}

json cache_method(const BenchmarkResult& result) {
  switch (cache_state(result)) {
    case CacheState::warm: return nullptr;
    case CacheState::nothing_to_evict:
      return "-cold asked, but a tmpfs holds its files in the page cache: nothing to evict";
    case CacheState::remounted:
      return "every fresh file system unmounted and mounted again before every run: nothing cached";
    case CacheState::evicted:
      break;
  }
  return "file data evicted (POSIX_FADV_DONTNEED) before every run; inodes and dentries stay "
         "cached";
}

// Only when ranks ran the benchmark (concurrent_copy_mpi): the plain binary's JSON is unchanged.
json ranks_json(const RankContext& r) {
  return {{"count", r.ranks},
          {"hosts", r.hosts},
          {"host_count", r.hosts.size()},
          {"startup_seconds", r.startup_seconds < 0 ? json(nullptr) : json(r.startup_seconds)},
          {"timing", "rank 0's clock, from a barrier after set-up to the end of the shared copy"},
          {"resources", "summed over the ranks"}};
}

json context_json(const BenchmarkResult& result) {
  const RunContext& x = result.context;
  json context = {
      {"program", "concurrent_copy"},
      {"version", x.version},
      {"git_commit", x.git_commit},
      {"build_type", x.build_type},
      {"compiler", x.compiler},
      {"kernel", x.kernel},
      {"cpu_model", x.cpu_model},
      {"cpus", x.cpus},
      {"usable_cpus", x.usable_cpus > 0 ? x.usable_cpus : x.cpus},
      {"memory_bytes", x.memory_bytes},
      {"directory", x.directory},
      {"filesystem", x.filesystem},
      {"date", x.date},
      {"destination_directory", result.config.destination_directory.empty()
                                    ? json(nullptr)
                                    : json(result.config.destination_directory)},
      {"destination_filesystem",
       x.destination_filesystem.empty() ? json(nullptr) : json(x.destination_filesystem)},
      {"cache", cache_state(result) == CacheState::warm ? "warm" : "cold"},
      {"cache_method", cache_method(result)},
      {"parameters", parameters_json(result.config)}};
  if (x.ranks) context["ranks"] = ranks_json(*x.ranks);
  return context;
}

json engine_json(const Scenario& scenario, const EngineResult& e) {
  json runs = json::array();
  for (const RunSample& run : e.runs) {
    runs.push_back({{"round", run.round},
                    {"sequence", run.sequence},
                    {"wall_ns", run.wall_ns},
                    {"files", run.file_latencies_ns.size()},
                    {"resources", resources_json(run.resources)}});
  }
  const Summary w = e.wall_seconds();
  const LatencySummary l = latency_summary(e);
  json out = {{"label", e.choice.label},
              {"engine", e.choice.engine},
              {"description", e.description},
              {"warmups", e.warmups},
              {"verified", e.verified},
              {"error", text_or_null(e.error)},
              {"notes", e.notes},
              {"runs", runs}};
  out["wall_seconds"] = {{"count", w.count},   {"median", w.median},    {"mean", w.mean},
                         {"stddev", w.stddev}, {"min", w.min},          {"max", w.max},
                         {"mad", w.mad},       {"outliers", w.outliers}};
  out["mib_per_second"] = median_mib_per_second(scenario, e);
  out["files_per_second"] = median_files_per_second(scenario, e);
  out["entries_per_second"] = median_entries_per_second(scenario, e);
  out["reflinked_files"] = e.reflinked;
  out["latency_seconds"] = {
      {"count", l.count}, {"p50", l.p50}, {"p90", l.p90}, {"p99", l.p99}, {"max", l.max}};
  out["resources"] = resources_json(e.total_resources());
  return out;
}

json ranking_json(const ScenarioResult& s) {
  json out = json::array();
  const auto order = ranked(s);
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Comparison c = compare(*order[0], *order[i]);
    const bool fastest = i == 0;
    out.push_back(
        {{"rank", i + 1},
         {"label", order[i]->choice.label},
         {"ratio_to_fastest", c.ratio},
         {"uncertainty", fastest || !c.measured ? json(nullptr) : json(c.uncertainty)},
         {"beyond_noise", fastest || !c.measured ? json(nullptr) : json(c.beyond_noise)}});
  }
  return out;
}

json scenario_warnings(const ScenarioResult& s) {
  json out = json::array();
  if (std::string warning = ranking_warning(s); !warning.empty()) out.push_back(warning);
  return out;
}

// What was copied: the tree as the runner found it (null before it was described).
json tree_json(const Scenario& sc) {
  if (!sc.described) return nullptr;
  const TreeSummary& t = sc.tree;
  return {{"files", t.files},
          {"directories", t.directories},
          {"symlinks", t.symlinks},
          {"hardlinks", t.hardlinks},
          {"specials", t.specials},
          {"entries", t.entries()},
          {"bytes", t.bytes},
          {"allocated_bytes", t.allocated},
          {"sparse_files", t.sparse_files},
          {"size_median", t.size_median},
          {"size_p90", t.size_p90},
          {"size_p99", t.size_p99},
          {"size_max", t.size_max},
          {"max_depth", t.max_depth},
          {"unreadable", t.unreadable}};
}

const char* kind_name(Scenario::Kind kind) {
  switch (kind) {
    case Scenario::Kind::flat: return "flat";
    case Scenario::Kind::shape: return "shape";
    case Scenario::Kind::source: break;
  }
  return "source";
}

json scenario_json(const ScenarioResult& s) {
  json engines = json::array();
  for (const EngineResult& e : s.engines) engines.push_back(engine_json(s.scenario, e));
  const Scenario& sc = s.scenario;
  std::string shape;
  for (const ShapeInfo& info : shapes())
    if (info.shape == sc.shape) shape = info.name;
  return {{"name", sc.name()},
          {"kind", kind_name(sc.kind)},
          {"shape", sc.kind == Scenario::Kind::shape ? json(shape) : json(nullptr)},
          {"scale", sc.kind == Scenario::Kind::shape ? json(sc.scale) : json(nullptr)},
          {"source", sc.kind == Scenario::Kind::source ? json(sc.source) : json(nullptr)},
          {"filesystem", sc.fs ? json({{"type", std::string(fs_kind_name(*sc.fs))},
                                       {"description", s.filesystem}})
                               : json(nullptr)},
          {"files", sc.file_count()},
          {"size_bytes", sc.is_flat() ? json(sc.size) : json(nullptr)},
          {"total_bytes", sc.total_bytes()},
          {"tree", tree_json(sc)},
          {"rounds_done", s.rounds_done},
          {"kept_directory", s.kept_directory.empty() ? json(nullptr) : json(s.kept_directory)},
          {"engines", engines},
          {"ranking", ranking_json(s)},
          {"warnings", scenario_warnings(s)}};
}

// Every warning: the run's, then each scenario's ranking warning (also in its scenario).
json all_warnings(const BenchmarkResult& result) {
  json out = json::array();
  for (const std::string& w : general_warnings(result)) out.push_back(w);
  for (const ScenarioResult& s : result.scenarios)
    for (const json& w : scenario_warnings(s)) out.push_back(w);
  return out;
}

class JsonWriter final : public ReportWriter {
 public:
  std::string_view format() const override { return "json"; }

  void write(const BenchmarkResult& result, std::ostream& out) const override {
    json scenarios = json::array();
    for (const ScenarioResult& s : result.scenarios) scenarios.push_back(scenario_json(s));
    json doc = {
        {"context", context_json(result)},  {"format_version", kFormatVersion},
        {"scenarios", scenarios},           {"notes", result.notes},
        {"warnings", all_warnings(result)}, {"ok", result.ok()},
        {"cancelled", result.cancelled},    {"setup_error", text_or_null(result.setup_error)}};
    // Paths and error texts need not be UTF-8: invalid bytes become U+FFFD instead of throwing.
    out << doc.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
  }
};

}  // namespace

std::unique_ptr<ReportWriter> make_json_writer() { return std::make_unique<JsonWriter>(); }

}  // namespace ccopy::report
