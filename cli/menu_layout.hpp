// The menu's screen as lines of styled text for a terminal of a given size: what the view
// paints with ncurses, computed without a terminal so that tests can read it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "menu_model.hpp"

namespace ccopy::cli::menu {

enum class Style : std::uint8_t { normal, bar_line, heading, cursor, dim, error, winner, bar };

struct Segment {
  std::string text;  ///< UTF-8 (ASCII when the terminal's locale is not UTF-8)
  Style style = Style::normal;
};

/// One screen line; its segments together are at most the screen's width.
using Line = std::vector<Segment>;

struct Screen {
  std::vector<Line> lines;  ///< exactly `rows` lines
  int cursor_row = -1;      ///< where the text cursor shows (a prompt), or -1 for none
  int cursor_col = -1;
};

struct ScreenSize {
  int rows = 24, cols = 80;
};

/// The smallest terminal the menu draws in: 60 columns, and rows for its list and settings
/// plus at least one result line. Smaller terminals get a line that says so.
[[nodiscard]] ScreenSize minimum_size(const MenuModel& model);

/// The screen for `model` in a terminal of `size`. `elapsed` is how long the current run has
/// been going; `unicode` chooses block characters for the bars and "…", else ASCII.
[[nodiscard]] Screen layout_screen(const MenuModel& model, ScreenSize size,
                                   std::chrono::nanoseconds elapsed, bool unicode);

/// Columns `text` takes: one per UTF-8 character.
[[nodiscard]] std::size_t text_width(std::string_view text);

/// A bar `width` columns long at most, `fraction` (0 to 1) of it filled: with eighth blocks
/// when `unicode`, else '#'.
[[nodiscard]] std::string draw_bar(double fraction, std::size_t width, bool unicode);

/// The screen's lines as plain text, trailing blanks removed: what `tmux capture-pane -p`
/// shows of it.
[[nodiscard]] std::string screen_text(const Screen& screen);

}  // namespace ccopy::cli::menu
