// Warnings and writers on results built by hand: ranges that overlap or not, and the exports of
// outcomes the command line cannot easily produce (an engine that never ran, a set-up error,
// text that needs quoting or escaping).
#include "ccopy/report.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "cli/json_schema.hpp"

namespace ccopy {
namespace {

EngineResult engine_with(const std::string& label, std::vector<std::int64_t> wall_ns) {
  EngineResult e;
  e.choice = {label, "threads"};
  e.description = "one thread per file";
  e.verified = true;
  unsigned round = 0;
  for (std::int64_t ns : wall_ns) {
    RunSample run;
    run.wall_ns = ns;
    run.round = round++;
    run.file_latencies_ns = {ns / 2, ns / 3};
    e.runs.push_back(run);
  }
  return e;
}

ScenarioResult scenario_of(std::vector<EngineResult> engines) {
  ScenarioResult s;
  s.scenario = {4, 4096};
  s.engines = std::move(engines);
  return s;
}

TEST(OverlapWarnings, NameBothEnginesAndTheirRanges) {
  const auto warnings = overlap_warnings(scenario_of(
      {engine_with("a", {10'000'000, 12'000'000}), engine_with("b", {11'000'000, 13'000'000})}));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(
      warnings[0],
      "4x4K: the runs of a (10.0 ms .. 12.0 ms) and b (11.0 ms .. 13.0 ms) overlap: a spread too "
      "wide to trust their ranking");
}

TEST(OverlapWarnings, NoneWhenTheRangesAreApart) {
  EXPECT_TRUE(overlap_warnings(scenario_of({engine_with("a", {10'000'000, 12'000'000}),
                                            engine_with("b", {12'500'000, 13'000'000})}))
                  .empty());
}

TEST(OverlapWarnings, OnePerOverlappingPair) {
  // a and b overlap, b and c overlap, a and c do not.
  const auto warnings = overlap_warnings(scenario_of(
      {engine_with("a", {10, 20}), engine_with("b", {15, 35}), engine_with("c", {30, 40})}));
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("of a ("), std::string::npos);
  EXPECT_NE(warnings[0].find("and b ("), std::string::npos);
  EXPECT_NE(warnings[1].find("of b ("), std::string::npos);
  EXPECT_NE(warnings[1].find("and c ("), std::string::npos);
}

TEST(OverlapWarnings, LeaveOutSingleRunsAndFailedEngines) {
  EngineResult failed = engine_with("b", {10, 20});
  failed.error = Error::failure("copy failed");
  EXPECT_TRUE(overlap_warnings(scenario_of({engine_with("a", {10, 20}), failed})).empty());
  EXPECT_TRUE(
      overlap_warnings(scenario_of({engine_with("a", {10, 20}), engine_with("b", {15})})).empty());
}

// A result with every awkward case: an engine that failed before its first timed run, text with
// commas, quotes and bars, a warning and a note.
BenchmarkResult awkward_result() {
  BenchmarkResult r;
  r.config.scenarios = {{4, 4096}};
  r.config.engines = {{"a", "threads"}, {"b|c", "uring"}};
  r.context.build_type = "Release";
  r.context.date = "2026-01-01T00:00:00Z";
  EngineResult ok = engine_with("a", {10'000'000, 12'000'000});
  ok.description = "a \"quoted\", comma";
  EngineResult failed;
  failed.choice = {"b|c", "uring"};
  failed.description = "io_uring";
  failed.error = Error::failure("open /x/dst/file_000001: No space left on device");
  r.scenarios.push_back(scenario_of({ok, failed}));
  r.notes = {"a note"};
  r.warnings = {"a warning"};
  return r;
}

std::string written(std::string_view format, const BenchmarkResult& r) {
  std::ostringstream out;
  make_writer(format)->write(r, out);
  return out.str();
}

TEST(Writers, ExistForEveryExportFormat) {
  for (std::string_view format : {"console", "json", "csv", "markdown"}) {
    const auto writer = make_writer(format);
    ASSERT_NE(writer, nullptr) << format;
    EXPECT_EQ(writer->format(), format);
  }
  EXPECT_EQ(make_writer("yaml"), nullptr);
}

TEST(Writers, JsonOfAFailedEngineMatchesTheSchema) {
  std::ifstream in(std::string(CCOPY_SOURCE_DIR) + "/docs/output.schema.json");
  const testing::SchemaValidator schema(nlohmann::json::parse(in));
  const nlohmann::json doc = nlohmann::json::parse(written("json", awkward_result()));
  std::string errors;
  for (const std::string& e : schema.validate(doc)) errors += e + '\n';
  EXPECT_TRUE(errors.empty()) << errors;
  const nlohmann::json& failed = doc["scenarios"][0]["engines"][1];
  EXPECT_EQ(failed["error"], "open /x/dst/file_000001: No space left on device");
  EXPECT_TRUE(failed["runs"].empty());
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(doc["warnings"][0], "a warning");
}

TEST(Writers, CsvQuotesFieldsThatNeedIt) {
  const std::string csv = written("csv", awkward_result());
  EXPECT_NE(csv.find(",\"a \"\"quoted\"\", comma\","), std::string::npos) << csv;
  EXPECT_NE(csv.find(",false,open /x/dst/file_000001: No space left on device,"),
            std::string::npos)
      << csv;
  std::istringstream lines(csv);
  std::size_t count = 0;
  for (std::string line; std::getline(lines, line);) ++count;
  EXPECT_EQ(count, 3u) << "a header and one row per engine";
}

TEST(Writers, MarkdownEscapesBarsAndKeepsOneRowPerEngine) {
  const std::string md = written("markdown", awkward_result());
  EXPECT_NE(md.find("| 4x4K | b\\|c |"), std::string::npos) << md;
  EXPECT_NE(md.find("FAILED: open /x/dst/file_000001"), std::string::npos) << md;
  EXPECT_NE(md.find("**Warning:** a warning"), std::string::npos) << md;
}

// A single timed run still has per-file latencies and resources worth showing; only the table of
// wall times would repeat the engine's line.
TEST(Writers, ConsoleShowsLatencyAndResourcesAfterOneRun) {
  BenchmarkResult r;
  r.config.scenarios = {{4, 4096}};
  r.config.engines = {{"a", "threads"}, {"b", "threads"}};
  r.config.runs = 1;
  r.scenarios.push_back(
      scenario_of({engine_with("a", {10'000'000}), engine_with("b", {8'000'000})}));
  const std::string one = written("console", r);
  EXPECT_EQ(one.find("Wall time per run"), std::string::npos) << one;
  EXPECT_NE(one.find("Per-file latency"), std::string::npos) << one;
  EXPECT_NE(one.find("Resources, summed over the timed runs"), std::string::npos) << one;

  r.config.runs = 2;
  r.scenarios = {scenario_of({engine_with("a", {10'000'000, 11'000'000}),
                              engine_with("b", {8'000'000, 9'000'000})})};
  const std::string two = written("console", r);
  EXPECT_NE(two.find("Wall time per run"), std::string::npos) << two;
  EXPECT_NE(two.find("Per-file latency"), std::string::npos) << two;

  // Under two MPI ranks the heading says the resources are the ranks' summed.
  r.context.ranks = RankContext{2, {"vm1"}, 0.2};
  const std::string ranked = written("console", r);
  EXPECT_NE(ranked.find("Resources, summed over the timed runs and the 2 ranks (threads and "
                        "memory: each rank's peak of any run, summed)"),
            std::string::npos)
      << ranked;
}

// Comparisons and their warnings, on runs whose verdict is plain: apart (10 ms against 20 ms
// with little spread) or interleaved.
BenchmarkResult compared(std::vector<EngineResult> engines, unsigned runs = 5) {
  BenchmarkResult r;
  r.config.scenarios = {{4, 4096}};
  for (const EngineResult& e : engines) r.config.engines.push_back(e.choice);
  r.config.runs = runs;
  r.scenarios.push_back(scenario_of(std::move(engines)));
  return r;
}

const std::vector<std::int64_t> kFast{10'000'000, 10'200'000, 9'900'000, 10'100'000, 9'800'000};
const std::vector<std::int64_t> kSlow{20'000'000, 20'400'000, 19'800'000, 20'200'000, 19'600'000};
const std::vector<std::int64_t> kLikeFast{10'050'000, 10'250'000, 9'850'000, 10'150'000, 9'750'000};

bool has_line(const std::string& text, const std::string& pattern) {
  return std::regex_search(text, std::regex(pattern, std::regex::multiline));
}

TEST(Comparison, GivesTheRatioWithItsUncertaintyAndTheVerdictOfItsInterval) {
  const BenchmarkResult apart = compared({engine_with("a", kFast), engine_with("b", kSlow)});
  const Comparison c = compare(apart.scenarios[0].engines[0], apart.scenarios[0].engines[1]);
  EXPECT_DOUBLE_EQ(c.ratio, 2.0);
  EXPECT_TRUE(c.measured);
  EXPECT_TRUE(c.beyond_noise);
  EXPECT_GT(c.uncertainty, 0);
  EXPECT_LT(c.uncertainty, 0.1);
  EXPECT_EQ(format_ratio(c), fmt::format("2.00 \u00b1 {:.2f}x", c.uncertainty));
  const std::string console = written("console", apart);
  EXPECT_TRUE(
      has_line(console, "^Comparison \\(ratio of medians \u00b1 its 95% bootstrap interval\\):$"));
  EXPECT_TRUE(has_line(console,
                       "^  a is 2\\.00 \u00b1 0\\.[0-9]{2}x faster than b \\(beyond the noise\\)$"))
      << console;
  EXPECT_EQ(console.find("WARNING"), std::string::npos) << console;
  EXPECT_EQ(ranking_warning(apart.scenarios[0]), "");
}

TEST(Comparison, WithinTheNoiseWarnsBesideTheComparisonNamingThePair) {
  const BenchmarkResult close = compared({engine_with("a", kFast), engine_with("b", kLikeFast)});
  const Comparison c = compare(close.scenarios[0].engines[0], close.scenarios[0].engines[1]);
  EXPECT_FALSE(c.beyond_noise);
  const std::string warning = ranking_warning(close.scenarios[0]);
  EXPECT_EQ(warning, "4x4K: within the noise, their order could flip on another run: a and b (" +
                         format_ratio(c) + ")");
  const std::string console = written("console", close);
  const std::size_t comparison = console.find("\nComparison");
  const std::size_t at = console.find("***WARNING*** " + warning + "\n");
  const std::size_t table = console.find("\nWall time per run");
  ASSERT_NE(at, std::string::npos) << console;
  EXPECT_LT(comparison, at);
  EXPECT_LT(at, table) << "the warning stands right under the comparison";
  EXPECT_TRUE(
      has_line(console, "^  a is 1\\.0[0-9] \u00b1 [0-9.]+x faster than b \\(within the noise\\)$"))
      << console;
}

// Among several engines, one line per scenario names every neighbouring pair of the ranking that
// the noise could swap, each with its own ratio.
TEST(Comparison, OneWarningPerScenarioNamesEveryPairTheNoiseCouldSwap) {
  const BenchmarkResult three =
      compared({engine_with("a", kFast), engine_with("b", kLikeFast), engine_with("c", kSlow)});
  const ScenarioResult& s = three.scenarios[0];
  const std::string warning = ranking_warning(s);
  const Comparison ab = compare(s.engines[0], s.engines[1]);
  EXPECT_EQ(warning, "4x4K: within the noise, their order could flip on another run: a and b (" +
                         format_ratio(ab) + ")")
      << "b and c are apart: only a and b are named";
  const std::string console = written("console", three);
  std::size_t lines = 0;
  for (std::size_t at = console.find("***WARNING***"); at != std::string::npos;
       at = console.find("***WARNING***", at + 1))
    ++lines;
  EXPECT_EQ(lines, 1u) << console;
  EXPECT_TRUE(has_line(
      console, "^  3\\. c .* 2\\.0[0-9] \u00b1 [0-9.]+x slower than a \\(beyond the noise\\)$"))
      << console;
}

// The runner still adds its pairwise overlap warnings to BenchmarkResult::warnings; the writers
// leave them out, so that the bootstrap alone speaks about rankings.
TEST(Comparison, TheRunnersOverlapWarningsAreNotRepeated) {
  BenchmarkResult r = compared({engine_with("a", kFast), engine_with("b", kLikeFast)});
  r.warnings = overlap_warnings(r.scenarios[0]);
  ASSERT_EQ(r.warnings.size(), 1u);
  r.warnings.push_back("only a few runs");
  EXPECT_EQ(general_warnings(r), std::vector<std::string>{"only a few runs"});
  for (std::string_view format : {"console", "json", "markdown"}) {
    const std::string text = written(format, r);
    EXPECT_EQ(text.find("overlap"), std::string::npos) << format << ":\n" << text;
    EXPECT_NE(text.find("only a few runs"), std::string::npos) << format;
  }
}

TEST(Comparison, EveryExportCarriesTheSameFigures) {
  const BenchmarkResult close = compared({engine_with("a", kFast), engine_with("b", kLikeFast)});
  const Comparison c = compare(close.scenarios[0].engines[0], close.scenarios[0].engines[1]);
  const std::string warning = ranking_warning(close.scenarios[0]);
  const nlohmann::json doc = nlohmann::json::parse(written("json", close));
  const nlohmann::json& ranking = doc["scenarios"][0]["ranking"];
  EXPECT_TRUE(ranking[0]["uncertainty"].is_null());
  EXPECT_TRUE(ranking[0]["beyond_noise"].is_null());
  EXPECT_EQ(ranking[1]["ratio_to_fastest"].get<double>(), c.ratio);
  EXPECT_EQ(ranking[1]["uncertainty"].get<double>(), c.uncertainty);
  EXPECT_EQ(ranking[1]["beyond_noise"], false);
  EXPECT_EQ(doc["scenarios"][0]["warnings"], nlohmann::json::array({warning}));
  EXPECT_EQ(doc["warnings"], nlohmann::json::array({warning}));
  const std::string csv = written("csv", close);
  EXPECT_NE(csv.find(",ratio_to_fastest,ratio_uncertainty,beyond_noise,"), std::string::npos)
      << csv;
  EXPECT_NE(csv.find(fmt::format(",{},{},false,", c.ratio, c.uncertainty)), std::string::npos)
      << csv;
  EXPECT_NE(csv.find(",1,,,"), std::string::npos) << "the fastest: ratio 1, no interval\n" << csv;
  const std::string md = written("markdown", close);
  EXPECT_NE(md.find(format_ratio(c) + " slower than a (within the noise) |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("**Warning:** " + warning), std::string::npos) << md;
}

TEST(Comparison, OneTimedRunGivesARatioButNoVerdict) {
  const BenchmarkResult one =
      compared({engine_with("a", {10'000'000}), engine_with("b", {20'000'000})}, 1);
  const Comparison c = compare(one.scenarios[0].engines[0], one.scenarios[0].engines[1]);
  EXPECT_FALSE(c.measured);
  EXPECT_FALSE(c.beyond_noise);
  EXPECT_EQ(format_ratio(c), "2.00x");
  EXPECT_TRUE(has_line(written("console", one), "^  a is 2\\.00x faster than b$"));
  EXPECT_EQ(ranking_warning(one.scenarios[0]), "");
}

// Files of 0 bytes move no bytes: every rate the console shows for them is files per second.
TEST(Writers, ZeroByteFilesAreShownInFilesPerSecond) {
  BenchmarkResult r =
      compared({engine_with("a", kFast), engine_with("b", kLikeFast), engine_with("c", kSlow)});
  r.config.scenarios = {{4, 0}};
  r.scenarios[0].scenario = {4, 0};
  const std::string console = written("console", r);
  EXPECT_EQ(console.find(" MiB/s)"), std::string::npos) << console;
  EXPECT_TRUE(has_line(
      console,
      "^Running a copy \\(one thread per file\\)\\.\\.\\. done in 10\\.0 ms \\(400 files/s\\)$"))
      << console;
  EXPECT_TRUE(has_line(console, "^  1\\. a +10\\.0 ms +400 files/s  fastest$")) << console;
}

// The true number of timed runs, also when some engine stopped early.
TEST(Writers, SayHowManyTimedRunsEachEngineHad) {
  BenchmarkResult r =
      compared({engine_with("a", kFast), engine_with("b", {20'000'000, 21'000'000})});
  EXPECT_EQ(timed_runs_text(r), "2 to 5 timed runs per engine");
  r.scenarios[0].engines[1] = engine_with("b", kSlow);
  EXPECT_EQ(timed_runs_text(r), "5 timed runs per engine");
  r.scenarios.clear();
  EXPECT_EQ(timed_runs_text(r), "no timed runs");
}

TEST(Writers, NameTheCpusTheProcessMayUse) {
  RunContext x;
  x.cpus = 8;
  x.usable_cpus = 8;
  EXPECT_EQ(cpu_text(x), "8");
  x.usable_cpus = 2;
  EXPECT_EQ(cpu_text(x), "2 usable of 8 (affinity)");
  x.usable_cpus = 0;  // unknown
  EXPECT_EQ(cpu_text(x), "8");
  BenchmarkResult r = compared({engine_with("a", kFast)});
  r.context.cpus = 8;
  r.context.usable_cpus = 2;
  EXPECT_TRUE(has_line(written("console", r), "^CPUs: 2 usable of 8 \\(affinity\\)$"));
  EXPECT_NE(written("markdown", r).find(" 8 x  (2 usable: affinity)"), std::string::npos);
  const nlohmann::json doc = nlohmann::json::parse(written("json", r));
  EXPECT_EQ(doc["context"]["cpus"], 8);
  EXPECT_EQ(doc["context"]["usable_cpus"], 2);
}

}  // namespace
}  // namespace ccopy
