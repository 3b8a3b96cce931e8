// The results table's lines and the merged export, on results built by hand.
#include "menu_results.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ccopy/report.hpp"
#include "cli/json_schema.hpp"
#include "menu_export.hpp"
#include "menu_fixtures.hpp"
#include "test_dir.hpp"

namespace ccopy::cli::menu {
namespace {

using namespace testing;  // the menu's fixtures

constexpr std::int64_t ms = 1'000'000;

TEST(ResultLines, FastestFirstWithItsLeadAndTheNoise) {
  const BenchmarkResult run =
      run_of({scenario_of({50, 1 << 20}, {engine_with("goroutine", {20 * ms, 21 * ms, 22 * ms}),
                                          engine_with("xev", {10 * ms, 11 * ms, 12 * ms})})},
             3);
  const std::vector<ResultLine> lines = result_lines(std::span(&run, 1));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].kind, ResultLine::Kind::conditions);
  EXPECT_EQ(lines[0].text, "in /dev/shm (tmpfs): median of 3 runs after 0 warm-ups");
  EXPECT_EQ(lines[1].scenario, "50x1M");
  EXPECT_EQ(lines[1].engine, "xev");
  EXPECT_TRUE(lines[1].winner);
  EXPECT_EQ(lines[1].time, "11.0 ms");
  EXPECT_EQ(lines[1].rate, "4545.5");
  EXPECT_DOUBLE_EQ(lines[1].fraction, 1.0);
  EXPECT_EQ(lines[1].verdict, "1.91x, beyond noise");
  EXPECT_EQ(lines[2].scenario, "");
  EXPECT_EQ(lines[2].engine, "goroutine");
  EXPECT_FALSE(lines[2].winner);
  EXPECT_NEAR(lines[2].fraction, 11.0 / 21.0, 1e-12);
  EXPECT_EQ(lines[2].verdict, "");
}

TEST(ResultLines, OverlappingRunsAreWithinTheNoise) {
  const BenchmarkResult run =
      run_of({scenario_of({4, 4096}, {engine_with("xev", {10 * ms, 15 * ms}),
                                      engine_with("goroutine", {12 * ms, 16 * ms})})},
             2);
  EXPECT_EQ(result_lines(std::span(&run, 1))[1].verdict, "1.12x, within noise");
}

TEST(ResultLines, OneRunEachIsTooFewToTell) {
  const BenchmarkResult run =
      run_of({scenario_of({4, 4096},
                          {engine_with("xev", {10 * ms}), engine_with("goroutine", {30 * ms})})},
             1);
  EXPECT_EQ(result_lines(std::span(&run, 1))[1].verdict, "3.00x, too few runs");
}

TEST(ResultLines, ALoneEngineIsNoWinner) {
  const BenchmarkResult run =
      run_of({scenario_of({4, 4096}, {engine_with("xev", {10 * ms, 11 * ms})})}, 2);
  const std::vector<ResultLine> lines = result_lines(std::span(&run, 1));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_FALSE(lines[1].winner);
  EXPECT_EQ(lines[1].verdict, "");
}

TEST(ResultLines, AFailedEngineComesLastWithItsError) {
  EngineResult failed = engine_with("goroutine", {});
  failed.error = Error::from_errno(ENOSPC, "write /x/dst/file_000001");
  const BenchmarkResult run =
      run_of({scenario_of({4, 4096}, {failed, engine_with("xev", {10 * ms})})}, 1);
  const std::vector<ResultLine> lines = result_lines(std::span(&run, 1));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].engine, "xev");
  EXPECT_EQ(lines[1].scenario, "4x4K");
  EXPECT_EQ(lines[2].kind, ResultLine::Kind::failure);
  EXPECT_EQ(lines[2].text, "failed: write /x/dst/file_000001: No space left on device");
}

TEST(ResultLines, AConditionsLineWhereverTheDirectoryChanges) {
  const std::vector<BenchmarkResult> runs{
      run_of({scenario_of({4, 4096}, {engine_with("xev", {ms})})}, 1, "/dev/shm"),
      run_of({scenario_of({4, 4096}, {engine_with("xev", {ms})})}, 1, "/dev/shm"),
      run_of({scenario_of({4, 4096}, {engine_with("xev", {ms})})}, 1, "/tmp")};
  std::size_t conditions = 0;
  for (const ResultLine& l : result_lines(runs))
    conditions += l.kind == ResultLine::Kind::conditions ? 1u : 0u;
  EXPECT_EQ(conditions, 2u);
}

TEST(DropUnfinished, RemovesScenariosWithMissingRunsAndTheirWarnings) {
  EngineResult failed = engine_with("goroutine", {});
  failed.error = Error::failure("differs");
  BenchmarkResult run = run_of({scenario_of({4, 4096}, {engine_with("xev", {ms, ms})}),
                                scenario_of({2, 4096}, {failed, engine_with("xev", {ms, ms})}),
                                scenario_of({8, 4096}, {engine_with("xev", {ms})})},
                               2);
  run.warnings = {"8x4K: the runs of a and b overlap", "4x4K: the runs of c and d overlap",
                  "only 2 runs"};
  drop_unfinished_scenarios(run);
  ASSERT_EQ(run.scenarios.size(), 2u) << "a failed engine is finished";
  EXPECT_EQ(run.scenarios[0].scenario.name(), "4x4K");
  EXPECT_EQ(run.scenarios[1].scenario.name(), "2x4K");
  EXPECT_EQ(run.warnings,
            (std::vector<std::string>{"4x4K: the runs of c and d overlap", "only 2 runs"}));
}

std::vector<BenchmarkResult> two_runs() {
  BenchmarkResult first =
      run_of({scenario_of({4, 4096}, {engine_with("xev", {ms, 2 * ms})})}, 2, "/dev/shm");
  first.notes = {"a note"};
  first.warnings = {"only 2 runs"};
  BenchmarkResult second = run_of({scenario_of({8, 4096}, {engine_with("goroutine", {ms, 2 * ms})}),
                                   scenario_of({2, 4096}, {engine_with("goroutine", {ms, ms})})},
                                  2, "/tmp");
  second.context.filesystem = "ext4";
  second.notes = {"a note"};
  second.warnings = {"only 2 runs"};
  return {first, second};
}

TEST(MergeResults, EveryScenarioInOrderEveryEngineEveryNoteOnce) {
  const BenchmarkResult merged = merge_results(two_runs());
  ASSERT_EQ(merged.scenarios.size(), 3u);
  EXPECT_EQ(merged.scenarios[2].scenario.name(), "2x4K");
  ASSERT_EQ(merged.config.scenarios.size(), 3u);
  EXPECT_EQ(merged.config.scenarios[1].name(), "8x4K");
  ASSERT_EQ(merged.config.engines.size(), 2u);
  EXPECT_EQ(merged.config.mode, "xev,goroutine");
  EXPECT_EQ(merged.context.directory, "/dev/shm");
  EXPECT_EQ(merged.notes, (std::vector<std::string>{
                              "a note", "8x4K and 2x4K ran in /tmp (ext4), not /dev/shm (tmpfs)"}));
  EXPECT_EQ(merged.warnings, (std::vector<std::string>{"only 2 runs"}));
  EXPECT_FALSE(merged.cancelled);
}

TEST(MergeResults, TheJsonExportFollowsTheSchema) {
  ccopy::testing::TestDir dir;
  const std::string path = dir.path() + "/merged.json";
  ASSERT_FALSE(write_export("json", path, merge_results(two_runs())));
  std::ifstream file(path);
  const nlohmann::json doc = nlohmann::json::parse(file);
  std::ifstream schema_file(std::string(CCOPY_SOURCE_DIR) + "/docs/output.schema.json");
  const ccopy::testing::SchemaValidator schema(nlohmann::json::parse(schema_file));
  const std::vector<std::string> errors = schema.validate(doc);
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(doc["scenarios"].size(), 3u);
  EXPECT_EQ(doc["scenarios"][1]["engines"][0]["label"], "goroutine");
  EXPECT_EQ(doc["context"]["parameters"]["mode"], "xev,goroutine");
}

TEST(WriteExport, EveryFormatTheMenuOffersWrites) {
  ccopy::testing::TestDir dir;
  for (const ExportFormat& f : export_formats()) {
    const std::string path = dir.path() + "/" + default_export_path(f);
    ASSERT_FALSE(write_export(f.name, path, merge_results(two_runs()))) << f.name;
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    EXPECT_NE(text.str().find("8x4K"), std::string::npos) << f.name;
  }
}

TEST(WriteExport, AFileThatCannotBeWrittenIsNamedWithTheReason) {
  const Error e = write_export("csv", "/nonexistent-ccopy-dir/r.csv", merge_results(two_runs()));
  ASSERT_TRUE(e);
  EXPECT_EQ(e.message(), "write /nonexistent-ccopy-dir/r.csv: No such file or directory");
}

}  // namespace
}  // namespace ccopy::cli::menu
