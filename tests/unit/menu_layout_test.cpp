// The screen as text: it fits the terminal (80x24 with and without the tree items), shows the
// cursor, the choices, the results with their bars, the prompt and the progress, and says so
// when the terminal is too small.
#include "menu_layout.hpp"

#include <gtest/gtest.h>

#include "menu_fixtures.hpp"
#include "test_dir.hpp"

namespace ccopy::cli::menu {
namespace {

using namespace testing;  // the menu's fixtures
using std::chrono::seconds;

constexpr std::int64_t ms = 1'000'000;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void expect_fits(const Screen& screen, ScreenSize size) {
  ASSERT_EQ(screen.lines.size(), static_cast<std::size_t>(size.rows));
  for (const Line& line : screen.lines) {
    std::size_t width = 0;
    for (const Segment& s : line) width += text_width(s.text);
    EXPECT_LE(width, static_cast<std::size_t>(size.cols));
  }
}

class Layout : public ::testing::Test {
 protected:
  Layout() : model(menu_items(), test_settings(dir.path())) {}
  [[nodiscard]] std::string text(ScreenSize size = {}, bool unicode = true) const {
    const Screen screen = layout_screen(model, size, seconds(0), unicode);
    expect_fits(screen, size);
    return screen_text(screen);
  }
  void finish_run(std::vector<EngineResult> engines, unsigned runs = 3) {
    (void)model.press(key(Key::enter));
    model.finish_run(run_of({scenario_of({1000, 4096}, std::move(engines))}, runs));
  }
  ccopy::testing::TestDir dir;
  MenuModel model;
};

TEST_F(Layout, The80x24MenuShowsTheListTheEnginesAndTheDirectories) {
  const std::string screen = text();
  EXPECT_TRUE(contains(screen, " > 1000 files x 4 KiB")) << screen;
  EXPECT_TRUE(contains(screen, "   Run all")) << screen;
  EXPECT_TRUE(contains(screen, "[x] xev")) << screen;
  EXPECT_TRUE(contains(screen, "[ ] uv         unavailable: not on t…")) << screen;
  EXPECT_TRUE(contains(screen, "(o) scratch")) << screen;
  EXPECT_TRUE(contains(screen, "( ) typed    type a path…")) << screen;
  EXPECT_TRUE(contains(screen, "3 timed runs after 1 warm-up per engine")) << screen;
  EXPECT_TRUE(contains(screen, "No results yet")) << screen;
  EXPECT_TRUE(
      contains(screen, "Enter runs 1000 files x 4 KiB in " + dir.path() + " with xev, goroutine"))
      << screen;
}

TEST_F(Layout, TheMarkerFollowsTheCursorIntoTheSettings) {
  (void)model.press(key(Key::tab));
  (void)model.press(ch('j'));
  const std::string screen = text();
  EXPECT_FALSE(contains(screen, "> 1000 files")) << screen;
  EXPECT_TRUE(contains(screen, "> [x] goroutine")) << screen;
  EXPECT_TRUE(contains(screen, "goroutine: goroutine summary")) << screen;
  (void)model.press(ch('j'));
  EXPECT_TRUE(contains(text(), " uv cannot run here: not on this machine\n")) << "the whole reason";
}

TEST_F(Layout, WithTheTreeItemsItStillFits80x24) {
  MenuModel with_trees(shown_items(all_menu_items(), true), test_settings(dir.path()));
  const Screen screen = layout_screen(with_trees, {24, 80}, seconds(0), true);
  expect_fits(screen, {24, 80});
  EXPECT_TRUE(contains(screen_text(screen), "Your own tree…"));
  EXPECT_LE(minimum_size(with_trees).rows, 24);
}

TEST_F(Layout, ATooSmallTerminalIsToldSo) {
  const std::string screen = text({10, 50});
  EXPECT_EQ(screen.substr(0, screen.find('\n')),
            "Too small (50x10): the menu needs 60x19; q quits");
}

TEST_F(Layout, AWiderTerminalGetsLongerBars) {
  finish_run({engine_with("xev", {10 * ms, 11 * ms, 12 * ms}),
              engine_with("goroutine", {20 * ms, 22 * ms, 24 * ms})});
  const std::string narrow = text({24, 80}), wide = text({30, 120});
  EXPECT_TRUE(contains(narrow, "*xev") && contains(narrow, "2.00x, beyond noise")) << narrow;
  EXPECT_TRUE(contains(narrow, std::string(" ") + draw_bar(1, 17, true) + " 2.00x")) << narrow;
  EXPECT_TRUE(contains(wide, draw_bar(1, 57, true))) << wide;
}

TEST_F(Layout, WithoutUtf8EverythingIsAscii) {
  finish_run({engine_with("xev", {10 * ms, 11 * ms, 12 * ms}),
              engine_with("goroutine", {20 * ms, 22 * ms, 24 * ms})});
  const std::string screen = text({24, 80}, false);
  for (char c : screen) EXPECT_EQ(static_cast<unsigned char>(c) & 0x80u, 0u) << screen;
  EXPECT_TRUE(contains(screen, "#################")) << screen;
  EXPECT_TRUE(contains(screen, "type a path...")) << screen;
}

TEST_F(Layout, TheNewestResultsShowAndPageUpShowsOlderOnes) {
  for (int i = 0; i < 8; ++i)
    finish_run({engine_with("xev", {(10 + i) * ms}), engine_with("goroutine", {40 * ms})}, 1);
  std::string screen = text();
  EXPECT_TRUE(contains(screen, "17.0 ms")) << screen;
  EXPECT_FALSE(contains(screen, "10.0 ms")) << screen;
  EXPECT_TRUE(contains(screen, "lines 11-17 of 17 (PgUp/PgDn)")) << screen;
  (void)model.press(key(Key::page_up));
  (void)model.press(key(Key::page_up));
  screen = text();
  EXPECT_TRUE(contains(screen, "10.0 ms")) << screen;
}

TEST_F(Layout, WhileRunningTheStatusLineIsTheProgress) {
  (void)model.press(key(Key::enter));
  EXPECT_TRUE(contains(text(), "Starting 1000 files x 4 KiB…"));
  ProgressState p;
  p.phase = ProgressEvent::Phase::copying;
  p.scenario_count = 1;
  p.scenario = "1000x4K";
  p.engine = "xev";
  p.run = 2;
  p.runs = 3;
  p.step = 4;
  p.steps = 8;
  model.show_progress(p);
  const std::string screen = screen_text(layout_screen(model, {24, 80}, seconds(12), true));
  EXPECT_TRUE(contains(screen, " [1/1 1000x4K] xev: run 2/3 | 0:12 elapsed, ~0:12 left\n"))
      << screen;
  EXPECT_TRUE(contains(screen, "Esc or Ctrl-C cancels the run")) << screen;
  (void)model.press(key(Key::escape));
  EXPECT_TRUE(contains(text(), "Cancelling 1000 files x 4 KiB: removing its files…"));
}

TEST_F(Layout, ThePromptShowsItsTextCursorErrorAndListing) {
  (void)model.press(key(Key::tab));
  (void)model.press(key(Key::end));
  (void)model.press(key(Key::enter));
  type(model, "/x");
  const Screen screen = layout_screen(model, {24, 80}, seconds(0), true);
  const std::string shown = screen_text(screen);
  EXPECT_TRUE(contains(shown, " Directory to run in (Tab completes):\n > /x\n")) << shown;
  ASSERT_GE(screen.cursor_row, 0);
  EXPECT_EQ(screen.cursor_col, 5);
  (void)model.press(key(Key::enter));
  EXPECT_TRUE(contains(text(), "   /x: No such file or directory\n"));
}

TEST_F(Layout, HelpListsTheKeys) {
  (void)model.press(ch('?'));
  const std::string screen = text();
  EXPECT_TRUE(contains(screen, "Esc, Ctrl-C        cancel the run")) << screen;
  EXPECT_TRUE(contains(screen, "Any key returns to the menu")) << screen;
}

TEST(DrawBar, EighthsOfACharacterAndAsciiHashes) {
  EXPECT_EQ(draw_bar(1, 4, true), "████");
  EXPECT_EQ(draw_bar(0.5, 4, true), "██");
  EXPECT_EQ(draw_bar(1.0 / 32, 4, true), "▏");
  EXPECT_EQ(draw_bar(0.3, 4, true), "█▎");  // 9.6 eighths round to 10
  EXPECT_EQ(draw_bar(0, 4, true), "");
  EXPECT_EQ(draw_bar(2, 4, true), "████") << "never longer than its width";
  EXPECT_EQ(draw_bar(0.5, 4, false), "##");
}

}  // namespace
}  // namespace ccopy::cli::menu
