// The menu's state machine, key by key, without a terminal: navigation, toggles, the
// directory and tree prompts with completion, starting and cancelling a run, the results it
// keeps, the export's steps, help and quitting.
#include "menu_model.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "menu_fixtures.hpp"
#include "test_dir.hpp"

namespace ccopy::cli::menu {
namespace {

using namespace testing;  // the menu's fixtures
using ccopy::testing::TestDir;

// The members are built in declaration order: the directory must exist before the model.
class Menu : public ::testing::Test {
 protected:
  Menu() : model(shown_items(all_menu_items(), false), test_settings(dir.path())) {}
  TestDir dir;
  MenuModel model;
};

TEST_F(Menu, StartsOnTheFirstItemWithTheFlagsChoices) {
  EXPECT_EQ(model.mode(), Mode::browse);
  EXPECT_EQ(model.pane(), Pane::items);
  EXPECT_EQ(model.item_cursor(), 0u);
  EXPECT_EQ(model.settings().directory, 0u);
}

TEST_F(Menu, UpDownAndJKMoveWithinTheList) {
  (void)model.press(key(Key::down));
  (void)model.press(ch('j'));
  EXPECT_EQ(model.item_cursor(), 2u);
  (void)model.press(ch('k'));
  EXPECT_EQ(model.item_cursor(), 1u);
  (void)model.press(key(Key::up));
  (void)model.press(key(Key::up));
  EXPECT_EQ(model.item_cursor(), 0u) << "the cursor stops at the top";
  for (int i = 0; i < 20; ++i) (void)model.press(ch('j'));
  EXPECT_EQ(model.item_cursor(), 7u) << "and at the bottom (Run all)";
  (void)model.press(key(Key::home));
  EXPECT_EQ(model.item_cursor(), 0u);
  (void)model.press(key(Key::end));
  EXPECT_EQ(model.item_cursor(), 7u);
}

TEST_F(Menu, TabAndLeftRightSwitchColumnsEachWithItsOwnCursor) {
  (void)model.press(ch('j'));
  (void)model.press(key(Key::tab));
  EXPECT_EQ(model.pane(), Pane::settings);
  (void)model.press(ch('j'));
  EXPECT_EQ(model.settings_cursor(), 1u);
  EXPECT_EQ(model.item_cursor(), 1u);
  (void)model.press(key(Key::left));
  EXPECT_EQ(model.pane(), Pane::items);
  (void)model.press(ch('l'));
  EXPECT_EQ(model.pane(), Pane::settings);
  (void)model.press(key(Key::tab));
  EXPECT_EQ(model.pane(), Pane::items);
}

TEST_F(Menu, SpaceTogglesAnEngine) {
  (void)model.press(key(Key::tab));
  (void)model.press(ch(' '));
  EXPECT_FALSE(model.settings().engines[0].selected);
  (void)model.press(key(Key::enter));
  EXPECT_TRUE(model.settings().engines[0].selected);
}

TEST_F(Menu, AnUnavailableEngineCannotBeChosenAndSaysWhy) {
  (void)model.press(key(Key::tab));
  (void)model.press(ch('j'));
  (void)model.press(ch('j'));
  (void)model.press(ch(' '));
  EXPECT_FALSE(model.settings().engines[2].selected);
  EXPECT_TRUE(model.message().error);
  EXPECT_EQ(model.message().text, "uv cannot run here: not on this machine");
  (void)model.press(ch('k'));
  EXPECT_TRUE(model.message().text.empty()) << "a message lasts until the next key";
}

TEST_F(Menu, EnterOnADirectoryRowChoosesItUnlessItCannotBeUsed) {
  (void)model.press(key(Key::tab));
  for (int i = 0; i < 4; ++i) (void)model.press(ch('j'));  // the missing directory
  (void)model.press(key(Key::enter));
  EXPECT_EQ(model.settings().directory, 0u);
  EXPECT_EQ(model.message().text, "/nonexistent-ccopy-dir: No such file or directory");
}

// Moves to the typed directory row and opens its prompt.
void open_typed_directory(MenuModel& model) {
  (void)model.press(key(Key::tab));
  (void)model.press(key(Key::end));
  (void)model.press(key(Key::enter));
}

TEST_F(Menu, TheTypedDirectoryIsAskedCompletedAndChecked) {
  std::filesystem::create_directory(dir.path() + "/runs-here");
  open_typed_directory(model);
  ASSERT_EQ(model.mode(), Mode::prompt);
  EXPECT_EQ(model.prompt().purpose, PromptPurpose::directory);
  type(model, dir.path() + "/ru");
  (void)model.press(key(Key::tab));
  EXPECT_EQ(model.prompt().text, dir.path() + "/runs-here/");
  (void)model.press(key(Key::enter));
  EXPECT_EQ(model.mode(), Mode::browse);
  EXPECT_EQ(model.settings().directory, 2u);
  EXPECT_EQ(model.settings().directories[2].path, dir.path() + "/runs-here/");
}

TEST_F(Menu, ADirectoryThatCannotBeWrittenStaysInThePromptWithItsError) {
  open_typed_directory(model);
  type(model, dir.path() + "/nope");
  (void)model.press(key(Key::enter));
  EXPECT_EQ(model.mode(), Mode::prompt);
  EXPECT_EQ(model.prompt().error, dir.path() + "/nope: No such file or directory");
  EXPECT_EQ(model.settings().directory, 0u);
  (void)model.press(key(Key::escape));
  EXPECT_EQ(model.mode(), Mode::browse);
  EXPECT_EQ(model.settings().directory, 0u);
}

TEST_F(Menu, ThePromptEditsItsLine) {
  open_typed_directory(model);
  type(model, "/usr/include/");
  (void)model.press(key(Key::kill_word));
  EXPECT_EQ(model.prompt().text, "/usr/");
  type(model, "lib\xc3\xa9");  // "é", two bytes: one backspace removes both
  (void)model.press(key(Key::backspace));
  EXPECT_EQ(model.prompt().text, "/usr/lib");
  (void)model.press(key(Key::kill_line));
  EXPECT_EQ(model.prompt().text, "");
}

TEST_F(Menu, AnAmbiguousTabListsTheCandidatesAndNoMatchSaysSo) {
  for (const char* d : {"/alpha1", "/alpha2"}) std::filesystem::create_directory(dir.path() + d);
  open_typed_directory(model);
  type(model, dir.path() + "/al");
  (void)model.press(key(Key::tab));
  EXPECT_EQ(model.prompt().text, dir.path() + "/alpha");
  EXPECT_EQ(model.prompt().listing, (std::vector<std::string>{"alpha1/", "alpha2/"}));
  type(model, "9");
  EXPECT_TRUE(model.prompt().listing.empty()) << "typing clears the listing";
  (void)model.press(key(Key::tab));
  EXPECT_EQ(model.prompt().error, "no match");
}

TEST_F(Menu, EnterStartsTheRunWithEverythingChosen) {
  (void)model.press(ch('j'));
  const Action a = model.press(key(Key::enter));
  ASSERT_EQ(a.kind, Action::Kind::start_run);
  ASSERT_EQ(a.config.scenarios.size(), 1u);
  EXPECT_EQ(a.config.scenarios[0].name(), "200x64K");
  ASSERT_EQ(a.config.engines.size(), 2u);
  EXPECT_EQ(a.config.engines[0].label, "xev");
  EXPECT_EQ(a.config.engines[1].label, "goroutine");
  EXPECT_EQ(a.config.mode, "xev,goroutine");
  EXPECT_EQ(a.config.directory, dir.path());
  EXPECT_EQ(a.config.runs, 3u);
  EXPECT_EQ(a.config.warmup, 1u);
  EXPECT_EQ(model.mode(), Mode::running);
  EXPECT_EQ(model.running_label(), "200 files x 64 KiB");
}

TEST_F(Menu, SpaceRunsToo) { EXPECT_EQ(model.press(ch(' ')).kind, Action::Kind::start_run); }

TEST_F(Menu, NoEngineNoRun) {
  (void)model.press(key(Key::tab));
  (void)model.press(ch(' '));
  (void)model.press(ch('j'));
  (void)model.press(ch(' '));
  (void)model.press(key(Key::tab));
  EXPECT_EQ(model.press(key(Key::enter)).kind, Action::Kind::none);
  EXPECT_EQ(model.mode(), Mode::browse);
  EXPECT_TRUE(model.message().error);
  EXPECT_EQ(model.message().text,
            "No engine chosen: Tab to the engines and toggle one with Space.");
}

TEST_F(Menu, ADirectoryRemovedSinceItWasChosenIsCheckedAgainAtTheRun) {
  open_typed_directory(model);
  std::filesystem::create_directory(dir.path() + "/brief");
  type(model, dir.path() + "/brief");
  (void)model.press(key(Key::enter));
  std::filesystem::remove(dir.path() + "/brief");
  (void)model.press(key(Key::tab));
  EXPECT_EQ(model.press(key(Key::enter)).kind, Action::Kind::none);
  EXPECT_EQ(model.message().text, dir.path() + "/brief: No such file or directory");
}

TEST_F(Menu, WhileRunningOnlyEscAndCtrlCCountAndCancelOnce) {
  (void)model.press(key(Key::enter));
  EXPECT_EQ(model.press(ch('q')).kind, Action::Kind::none);
  EXPECT_EQ(model.press(ch('j')).kind, Action::Kind::none);
  EXPECT_EQ(model.item_cursor(), 0u);
  EXPECT_EQ(model.press(key(Key::escape)).kind, Action::Kind::cancel_run);
  EXPECT_TRUE(model.cancelling());
  EXPECT_EQ(model.press(key(Key::interrupt)).kind, Action::Kind::none);
  EXPECT_EQ(model.mode(), Mode::running);
}

TEST_F(Menu, CtrlCCancelsARunToo) {
  (void)model.press(key(Key::enter));
  EXPECT_EQ(model.press(key(Key::interrupt)).kind, Action::Kind::cancel_run);
}

TEST_F(Menu, ProgressIsKeptWhileRunningOnly) {
  ProgressState p;
  p.engine = "xev";
  model.show_progress(p);
  EXPECT_FALSE(model.progress());
  (void)model.press(key(Key::enter));
  model.show_progress(p);
  ASSERT_TRUE(model.progress());
  EXPECT_EQ(model.progress()->engine, "xev");
}

TEST_F(Menu, AFinishedRunJoinsTheResults) {
  (void)model.press(key(Key::enter));
  model.finish_run(run_of({scenario_of({1000, 4096}, {engine_with("xev", {1, 2, 3})})}, 3));
  EXPECT_EQ(model.mode(), Mode::browse);
  ASSERT_EQ(model.results().size(), 1u);
  EXPECT_EQ(model.message().text, "1000 files x 4 KiB: done");
}

TEST_F(Menu, ACancelledRunKeepsOnlyItsFinishedScenarios) {
  (void)model.press(key(Key::enter));
  BenchmarkResult r = run_of({scenario_of({1000, 4096}, {engine_with("xev", {1, 2, 3})}),
                              scenario_of({200, 65536}, {engine_with("xev", {1})})},
                             3);
  r.cancelled = true;
  model.finish_run(std::move(r));
  ASSERT_EQ(model.results().size(), 1u);
  ASSERT_EQ(model.results()[0].scenarios.size(), 1u);
  EXPECT_EQ(model.results()[0].scenarios[0].scenario.name(), "1000x4K");
  EXPECT_EQ(model.message().text,
            "1000 files x 4 KiB: cancelled; its files were removed (1 scenario finished first)");
}

TEST_F(Menu, ARunCancelledBeforeAnyScenarioAddsNothing) {
  (void)model.press(key(Key::enter));
  BenchmarkResult r = run_of({scenario_of({1000, 4096}, {engine_with("xev", {})})}, 3);
  r.cancelled = true;
  model.finish_run(std::move(r));
  EXPECT_TRUE(model.results().empty());
  EXPECT_EQ(model.message().text, "1000 files x 4 KiB: cancelled; its files were removed");
}

TEST_F(Menu, ASetUpErrorIsShown) {
  (void)model.press(key(Key::enter));
  BenchmarkResult r;
  r.setup_error = Error::failure("not enough space");
  model.finish_run(std::move(r));
  EXPECT_TRUE(model.results().empty());
  EXPECT_TRUE(model.message().error);
  EXPECT_EQ(model.message().text, "1000 files x 4 KiB: not enough space");
}

TEST_F(Menu, NothingToExportBeforeARun) {
  (void)model.press(ch('e'));
  EXPECT_EQ(model.mode(), Mode::browse);
  EXPECT_EQ(model.message().text, "Nothing to export yet: run a benchmark first.");
}

// Runs the first item and finishes it with one scenario.
void finish_one_run(MenuModel& model) {
  (void)model.press(key(Key::enter));
  model.finish_run(run_of({scenario_of({1000, 4096}, {engine_with("xev", {1, 2, 3})})}, 3));
}

TEST_F(Menu, ExportAsksTheFormatThenThePath) {
  finish_one_run(model);
  (void)model.press(ch('e'));
  EXPECT_EQ(model.mode(), Mode::export_format);
  (void)model.press(ch('c'));
  ASSERT_EQ(model.mode(), Mode::prompt);
  EXPECT_EQ(model.prompt().purpose, PromptPurpose::export_file);
  EXPECT_EQ(model.prompt().text, "concurrent_copy-results.csv");
  EXPECT_EQ(model.prompt().completes, PathKind::any);
  const Action a = model.press(key(Key::enter));
  ASSERT_EQ(a.kind, Action::Kind::write_export);
  EXPECT_EQ(a.format, "csv");
  EXPECT_EQ(a.path, "concurrent_copy-results.csv");
}

TEST_F(Menu, AnyOtherKeyLeavesTheFormatChoice) {
  finish_one_run(model);
  (void)model.press(ch('e'));
  (void)model.press(ch('x'));
  EXPECT_EQ(model.mode(), Mode::browse);
}

TEST_F(Menu, AFailedExportStaysInThePromptWithItsError) {
  finish_one_run(model);
  (void)model.press(ch('e'));
  (void)model.press(ch('j'));
  (void)model.press(key(Key::kill_line));
  EXPECT_EQ(model.press(key(Key::enter)).kind, Action::Kind::none);
  EXPECT_EQ(model.prompt().error, "type a file name");
  type(model, "/nope/r.json");
  ASSERT_EQ(model.press(key(Key::enter)).kind, Action::Kind::write_export);
  model.finish_export(Error::from_errno(ENOENT, "write /nope/r.json"));
  EXPECT_EQ(model.mode(), Mode::prompt);
  EXPECT_EQ(model.prompt().error, "write /nope/r.json: No such file or directory");
}

TEST_F(Menu, AWrittenExportSaysWhereAndHowMuch) {
  finish_one_run(model);
  (void)model.press(ch('e'));
  (void)model.press(ch('m'));
  ASSERT_EQ(model.press(key(Key::enter)).kind, Action::Kind::write_export);
  model.finish_export({});
  EXPECT_EQ(model.mode(), Mode::browse);
  EXPECT_EQ(model.message().text, "Wrote 1 scenario to concurrent_copy-results.md");
}

TEST_F(Menu, QuestionMarkShowsTheKeysAndAnyKeyReturns) {
  (void)model.press(ch('?'));
  EXPECT_EQ(model.mode(), Mode::help);
  EXPECT_EQ(model.press(ch('q')).kind, Action::Kind::none) << "q leaves the help, not the menu";
  EXPECT_EQ(model.mode(), Mode::browse);
}

TEST_F(Menu, QAndCtrlCQuit) {
  EXPECT_EQ(model.press(ch('q')).kind, Action::Kind::quit);
  EXPECT_EQ(model.press(key(Key::interrupt)).kind, Action::Kind::quit);
}

TEST_F(Menu, EscOrCtrlCInAPromptCloseItOnly) {
  open_typed_directory(model);
  EXPECT_EQ(model.press(key(Key::interrupt)).kind, Action::Kind::none);
  EXPECT_EQ(model.mode(), Mode::browse);
}

TEST_F(Menu, PageUpScrollsBackThroughTheResultsAndStopsAtTheOldest) {
  finish_one_run(model);  // two lines: the conditions and one engine
  (void)model.press(key(Key::page_up));
  EXPECT_EQ(model.results_scroll(), 1u);
  (void)model.press(key(Key::page_down));
  EXPECT_EQ(model.results_scroll(), 0u);
}

// A table holding "Your own tree…" with a filler that records what it was given, as the
// library's trees will: the prompt's steps are the menu's, whatever the library can do.
std::vector<MenuItem> own_tree_table(std::string* source_seen) {
  return {{"Your own tree…", "a directory you choose", true, true,
           [source_seen](const std::string& source, BenchmarkConfig& config) {
             *source_seen = source;
             config.scenarios = {{1, 1}};
             return Error{};
           }}};
}

TEST(OwnTree, ThePathIsTypedCompletedCheckedAndGivenToTheItem) {
  TestDir dir, tree;
  std::filesystem::create_directories(tree.path() + "/project/src");
  std::string seen;
  MenuModel model(own_tree_table(&seen), test_settings(dir.path()));
  (void)model.press(key(Key::enter));
  ASSERT_EQ(model.mode(), Mode::prompt);
  EXPECT_EQ(model.prompt().purpose, PromptPurpose::tree);
  type(model, tree.path() + "/pro");
  (void)model.press(key(Key::tab));
  EXPECT_EQ(model.prompt().text, tree.path() + "/project/");
  const Action a = model.press(key(Key::enter));
  ASSERT_EQ(a.kind, Action::Kind::start_run);
  EXPECT_EQ(seen, tree.path() + "/project/");
  EXPECT_EQ(a.config.directory, dir.path());
  EXPECT_EQ(model.mode(), Mode::running);
}

TEST(OwnTree, AnUnreadablePathIsShownInTheMenuAndNothingRuns) {
  TestDir dir;
  std::string seen;
  MenuModel model(own_tree_table(&seen), test_settings(dir.path()));
  (void)model.press(key(Key::enter));
  type(model, dir.path() + "/missing");
  EXPECT_EQ(model.press(key(Key::enter)).kind, Action::Kind::none);
  EXPECT_EQ(model.mode(), Mode::prompt);
  EXPECT_EQ(model.prompt().error, dir.path() + "/missing: No such file or directory");
  EXPECT_TRUE(seen.empty());
}

TEST(OwnTree, ATreeHoldingTheBenchmarksDirectoryIsRefused) {
  TestDir dir;
  std::string seen;
  MenuModel model(own_tree_table(&seen), test_settings(dir.path()));
  (void)model.press(key(Key::enter));
  type(model, std::filesystem::path(dir.path()).parent_path().string());
  EXPECT_EQ(model.press(key(Key::enter)).kind, Action::Kind::none);
  EXPECT_NE(model.prompt().error.find("lies inside"), std::string::npos) << model.prompt().error;
  EXPECT_TRUE(seen.empty());
}

// The real table: "Your own tree…" is the last item; a readable directory that does not hold
// the benchmark's directory starts a run of that tree as a -src scenario.
TEST(OwnTree, TheRealItemRunsTheTypedTreeAsASource) {
  TestDir dir;
  MenuModel model(shown_items(all_menu_items(), true), test_settings(dir.path()));
  (void)model.press(key(Key::end));
  (void)model.press(key(Key::enter));
  type(model, "/usr/include");
  const Action a = model.press(key(Key::enter));
  ASSERT_EQ(a.kind, Action::Kind::start_run) << model.message().text << model.prompt().error;
  ASSERT_EQ(a.config.scenarios.size(), 1u);
  EXPECT_EQ(a.config.scenarios[0].kind, Scenario::Kind::source);
  EXPECT_EQ(a.config.scenarios[0].source, "/usr/include");
  EXPECT_EQ(a.config.directory, dir.path());
  EXPECT_EQ(model.mode(), Mode::running);
}

}  // namespace
}  // namespace ccopy::cli::menu
