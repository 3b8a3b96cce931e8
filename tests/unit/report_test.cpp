// Warnings and writers on results built by hand: ranges that overlap or not, and the exports of
// outcomes the command line cannot easily produce (an engine that never ran, a set-up error,
// text that needs quoting or escaping).
#include "ccopy/report.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
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
  EXPECT_NE(csv.find(",false,open /x/dst/file_000001: No space left on device\n"),
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
}

}  // namespace
}  // namespace ccopy
