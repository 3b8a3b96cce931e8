#include "menu_layout.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "menu_export.hpp"
#include "menu_results.hpp"

namespace ccopy::cli::menu {
namespace {

constexpr int kMinCols = 60;
constexpr std::size_t kLabelWidth = 20;
// A result line: margin, scenario, engine, time, rate, two blanks, the bar, a blank, verdict.
constexpr std::size_t kScenarioWidth = 9, kEngineWidth = 11, kTimeWidth = 9, kRateWidth = 9;
constexpr std::size_t kVerdictWidth = 20;
constexpr std::size_t kFixedResultWidth =
    1 + kScenarioWidth + 1 + kEngineWidth + kTimeWidth + kRateWidth + 2 + 1 + kVerdictWidth;

bool is_continuation(char byte) { return (static_cast<unsigned char>(byte) & 0xC0u) == 0x80u; }

// The byte offset where the first `columns` characters of `text` end.
std::size_t byte_offset(std::string_view text, std::size_t columns) {
  std::size_t i = 0;
  for (std::size_t seen = 0; i < text.size(); ++i) {
    if (is_continuation(text[i])) continue;
    if (seen == columns) break;
    ++seen;
  }
  return i;
}

// Replaces the one non-ASCII character of the menu's own texts when the terminal is not UTF-8.
std::string plain(std::string text, bool unicode) {
  if (unicode) return text;
  for (std::size_t at; (at = text.find("…")) != std::string::npos;)
    text.replace(at, std::string("…").size(), "...");
  return text;
}

// `text` in exactly `width` columns: cut with an ellipsis when longer, padded when shorter.
std::string fit(std::string_view text, std::size_t width, bool unicode, bool right = false) {
  const std::size_t w = text_width(text);
  if (w > width) {
    if (width == 0) return {};
    return std::string(text.substr(0, byte_offset(text, width - 1))) + (unicode ? "…" : "~");
  }
  const std::string blanks(width - w, ' ');
  return right ? blanks + std::string(text) : std::string(text) + blanks;
}

// Builds one line, cutting whatever would go past the screen's right edge.
class LineBuilder {
 public:
  explicit LineBuilder(std::size_t cols) : cols_(cols) {}
  LineBuilder& add(std::string_view text, Style style = Style::normal) {
    const std::size_t room = cols_ - used_;
    const std::string_view cut =
        text_width(text) > room ? text.substr(0, byte_offset(text, room)) : text;
    if (!cut.empty()) line_.push_back({std::string(cut), style});
    used_ += text_width(cut);
    return *this;
  }
  LineBuilder& add(const Line& line) {
    for (const Segment& s : line) add(s.text, s.style);
    return *this;
  }
  LineBuilder& pad_to(std::size_t column, Style style = Style::normal) {
    if (column > used_) add(std::string(column - used_, ' '), style);
    return *this;
  }
  [[nodiscard]] Line take() { return std::move(line_); }

 private:
  Line line_;
  std::size_t cols_, used_ = 0;
};

struct Frame {
  const MenuModel& model;
  std::size_t cols;
  bool unicode;
};

Line title_line(const Frame& f) {
  const BenchmarkConfig& base = f.model.settings().base;
  const std::string right =
      fmt::format("{} timed run{} after {} warm-up{} per engine ", base.runs,
                  base.runs == 1 ? "" : "s", base.warmup, base.warmup == 1 ? "" : "s");
  const std::string left = " concurrent_copy menu";
  LineBuilder b(f.cols);
  b.add(left, Style::bar_line);
  if (text_width(left) + text_width(right) < f.cols)
    b.pad_to(f.cols - text_width(right), Style::bar_line);
  else
    b.add(" ", Style::bar_line);
  return b.add(right, Style::bar_line).pad_to(f.cols, Style::bar_line).take();
}

Style row_style(bool at_cursor, bool focused, bool usable) {
  if (at_cursor && focused) return Style::cursor;
  return usable ? Style::normal : Style::dim;
}

std::vector<Line> item_lines(const Frame& f, std::size_t width) {
  const MenuModel& m = f.model;
  const bool focused = m.pane() == Pane::items && m.mode() == Mode::browse;
  std::vector<Line> lines{LineBuilder(width).add(" Benchmark", Style::heading).take()};
  // The cursor's marker shows in the column that has it; its highlight only while browsing.
  const std::size_t detail_width = width > kLabelWidth + 5 ? width - kLabelWidth - 5 : 0;
  for (std::size_t i = 0; i < m.items().size(); ++i) {
    const MenuItem& item = m.items()[i];
    const bool here = i == m.item_cursor() && m.pane() == Pane::items;
    const std::string text = fmt::format("{}{} {}", here ? "> " : "  ",
                                         fit(plain(item.label, f.unicode), kLabelWidth, f.unicode),
                                         fit(item.detail, detail_width, f.unicode, true));
    lines.push_back(LineBuilder(width).add(" ").add(text, row_style(here, focused, true)).take());
  }
  return lines;
}

// "> [x] xev        one io_uring event loop, one t…": the marker, the box, the label, and what
// the engine is or why it cannot run, cut to the column.
Line engine_line(const Frame& f, const EngineRow& row, bool here, bool focused, std::size_t width) {
  const bool usable = row.availability.available;
  const std::string info = usable ? row.summary : "unavailable: " + row.availability.reason;
  const std::string start = fmt::format("{}[{}] {} ", here ? "> " : "  ", row.selected ? 'x' : ' ',
                                        fit(row.choice.label, 10, f.unicode));
  const std::size_t room = width > text_width(start) + 1 ? width - text_width(start) - 1 : 0;
  return LineBuilder(width)
      .add(start + fit(info, room, f.unicode), row_style(here, focused, usable))
      .take();
}

Line directory_line(const Frame& f, const DirectoryRow& row, bool chosen, bool here, bool focused,
                    std::size_t width) {
  std::string info = row.path == row.label ? std::string() : row.path;
  if (!row.problem.empty())
    info = "unavailable: " + row.problem;
  else if (row.typed && row.path.empty())
    info = plain("type a path…", f.unicode);
  const std::string start = fmt::format("{}({}) {} ", here ? "> " : "  ", chosen ? 'o' : ' ',
                                        fit(row.label, 8, f.unicode));
  const std::size_t room = width > text_width(start) + 1 ? width - text_width(start) - 1 : 0;
  return LineBuilder(width)
      .add(start + fit(info, room, f.unicode), row_style(here, focused, row.problem.empty()))
      .take();
}

std::vector<Line> settings_lines(const Frame& f, std::size_t width) {
  const MenuModel& m = f.model;
  const MenuSettings& s = m.settings();
  const bool mine = m.pane() == Pane::settings;
  const bool focused = mine && m.mode() == Mode::browse;
  std::vector<Line> lines{LineBuilder(width).add("Engines (Space toggles)", Style::heading).take()};
  for (std::size_t i = 0; i < s.engines.size(); ++i)
    lines.push_back(engine_line(f, s.engines[i], mine && i == m.settings_cursor(), focused, width));
  lines.push_back(LineBuilder(width).add("Directory (Enter chooses)", Style::heading).take());
  for (std::size_t i = 0; i < s.directories.size(); ++i) {
    const bool here = mine && s.engines.size() + i == m.settings_cursor();
    lines.push_back(directory_line(f, s.directories[i], i == s.directory, here, focused, width));
  }
  return lines;
}

std::size_t top_height(const MenuModel& m) {
  const MenuSettings& s = m.settings();
  return std::max(m.items().size() + 1, s.engines.size() + s.directories.size() + 2);
}

void add_top_block(const Frame& f, std::vector<Line>& screen) {
  const std::size_t left_width = f.cols / 2;
  const std::vector<Line> left = item_lines(f, left_width);
  const std::vector<Line> right = settings_lines(f, f.cols - left_width);
  for (std::size_t i = 0; i < top_height(f.model); ++i) {
    LineBuilder b(f.cols);
    if (i < left.size()) b.add(left[i]);
    b.pad_to(left_width);
    if (i < right.size()) b.add(right[i]);
    screen.push_back(b.take());
  }
}

std::size_t bar_width(std::size_t cols) {
  return cols > kFixedResultWidth + 4 ? cols - kFixedResultWidth : 4;
}

Line result_line(const Frame& f, const ResultLine& r) {
  LineBuilder b(f.cols);
  if (r.kind == ResultLine::Kind::conditions) return b.add("  " + r.text, Style::dim).take();
  b.add(" ").add(fit(r.scenario, kScenarioWidth, f.unicode)).add(" ");
  b.add(fit((r.winner ? "*" : " ") + r.engine, kEngineWidth, f.unicode),
        r.winner ? Style::winner : Style::normal);
  if (r.kind == ResultLine::Kind::failure) return b.add(r.text, Style::error).take();
  b.add(fit(r.time, kTimeWidth, f.unicode, true))
      .add(fit(r.rate, kRateWidth, f.unicode, true))
      .add("  ");
  const std::size_t width = bar_width(f.cols);
  b.add(draw_bar(r.fraction, width, f.unicode), r.winner ? Style::winner : Style::bar)
      .pad_to(1 + kScenarioWidth + 1 + kEngineWidth + kTimeWidth + kRateWidth + 2 + width + 1);
  return b.add(r.verdict, Style::winner).take();
}

Line results_heading(const Frame& f, std::size_t first, std::size_t shown, std::size_t total) {
  LineBuilder b(f.cols);
  b.add(fmt::format(" {}", fit("Results", kScenarioWidth + 1, f.unicode)), Style::heading);
  b.add(fit(" engine", kEngineWidth, f.unicode) + fit("median", kTimeWidth, f.unicode, true) +
            fit("MiB/s", kRateWidth, f.unicode, true),
        Style::heading);
  if (shown < total)
    b.add(fmt::format("   lines {}-{} of {} (PgUp/PgDn)", first + 1, first + shown, total),
          Style::dim);
  return b.take();
}

void add_results(const Frame& f, std::size_t rows, std::vector<Line>& screen) {
  const std::vector<ResultLine> lines = result_lines(f.model.results());
  const std::size_t room = rows - 1;
  const std::size_t scroll = std::min(f.model.results_scroll(), lines.size());
  const std::size_t end = lines.size() - scroll;
  const std::size_t first = end > room ? end - room : 0;
  screen.push_back(results_heading(f, first, end - first, lines.size()));
  if (lines.empty())
    screen.push_back(LineBuilder(f.cols)
                         .add("  No results yet: choose a benchmark and press Enter.", Style::dim)
                         .take());
  for (std::size_t i = first; i < end; ++i) screen.push_back(result_line(f, lines[i]));
}

// The candidates of an ambiguous completion in columns, as many rows as there is room for.
void add_listing(const Frame& f, const std::vector<std::string>& names, std::size_t rows,
                 std::vector<Line>& screen) {
  std::size_t widest = 0;
  for (const std::string& n : names) widest = std::max(widest, text_width(n));
  const std::size_t column = std::min(widest + 2, f.cols - 2);
  const std::size_t per_row = std::max<std::size_t>(1, (f.cols - 2) / column);
  const std::size_t needed = (names.size() + per_row - 1) / per_row;
  const std::size_t shown_rows = std::min(needed, rows);
  for (std::size_t r = 0; r < shown_rows; ++r) {
    LineBuilder b(f.cols);
    b.add("  ");
    const bool last = r + 1 == shown_rows && shown_rows < needed;
    for (std::size_t c = 0; c < per_row && !last; ++c)
      if (const std::size_t i = r * per_row + c; i < names.size())
        b.add(fit(names[i], column, f.unicode));
    if (last) b.add(fmt::format("... and {} more", names.size() - r * per_row), Style::dim);
    screen.push_back(b.take());
  }
}

void add_prompt(const Frame& f, std::size_t rows, Screen& screen) {
  const Prompt& p = f.model.prompt();
  screen.lines.push_back(LineBuilder(f.cols).add(" " + p.title + ":", Style::heading).take());
  const std::size_t room = f.cols > 5 ? f.cols - 5 : 0;
  const std::size_t w = text_width(p.text);
  const std::string shown =
      w > room ? std::string(p.text.substr(byte_offset(p.text, w - room))) : p.text;
  screen.cursor_row = static_cast<int>(screen.lines.size());
  screen.cursor_col = static_cast<int>(3 + text_width(shown));
  screen.lines.push_back(LineBuilder(f.cols).add(" > ").add(shown).take());
  screen.lines.push_back(LineBuilder(f.cols).add("   " + p.error, Style::error).take());
  if (rows > 3) add_listing(f, p.listing, rows - 3, screen.lines);
}

std::string focused_hint(const MenuModel& m) {
  const MenuSettings& s = m.settings();
  if (m.pane() == Pane::items) {
    if (m.items().empty()) return {};
    const DirectoryRow& dir = s.directories[s.directory];
    std::string engines;
    for (const EngineChoice& e : chosen_engines(s.engines))
      engines += (engines.empty() ? "" : ", ") + e.label;
    return fmt::format("Enter runs {} in {} with {}", m.items()[m.item_cursor()].label,
                       dir.path.empty() ? "(no directory)" : dir.path,
                       engines.empty() ? "no engine" : engines);
  }
  if (m.settings_cursor() < s.engines.size()) {
    const EngineRow& row = s.engines[m.settings_cursor()];
    return row.availability.available
               ? row.choice.label + ": " + row.summary
               : row.choice.label + " cannot run here: " + row.availability.reason;
  }
  const DirectoryRow& row = s.directories[m.settings_cursor() - s.engines.size()];
  if (!row.problem.empty()) return row.problem;
  return row.typed ? "Enter asks for a directory" : "Enter runs the benchmarks in " + row.path;
}

Line status_line(const Frame& f, std::chrono::nanoseconds elapsed) {
  const MenuModel& m = f.model;
  LineBuilder b(f.cols);
  if (m.mode() == Mode::running) {
    if (m.cancelling())
      return b.add(plain(" Cancelling " + m.running_label() + ": removing its files…", f.unicode))
          .take();
    if (!m.progress())
      return b.add(plain(" Starting " + m.running_label() + "…", f.unicode)).take();
    return b.add(fmt::format(" {}", format_progress(*m.progress(), elapsed, f.cols - 1))).take();
  }
  if (m.mode() == Mode::export_format) {
    std::string text = " Export as:";
    for (const ExportFormat& e : export_formats()) text += fmt::format("  {} {}", e.key, e.title);
    return b.add(text).take();
  }
  if (!m.message().text.empty()) {
    const std::string text = fit(plain(m.message().text, f.unicode), f.cols - 2, f.unicode);
    return b.add(fmt::format(" {}", text), m.message().error ? Style::error : Style::normal).take();
  }
  if (m.mode() == Mode::browse)
    return b.add(fmt::format(" {}", plain(focused_hint(m), f.unicode)), Style::dim).take();
  return b.take();
}

Line key_line(const Frame& f) {
  std::string keys;
  switch (f.model.mode()) {
    case Mode::browse:
      keys = " Enter run  Space toggle  Tab column  e export  ? keys  q quit";
      break;
    case Mode::running:
      keys = " Esc or Ctrl-C cancels the run";
      break;
    case Mode::prompt:
      keys = " Enter accepts  Tab completes  Ctrl-U clears  Esc cancels";
      break;
    case Mode::export_format:
      keys = " A format's key chooses it  any other key cancels";
      break;
    case Mode::help:
      keys = " Any key returns to the menu";
      break;
  }
  return LineBuilder(f.cols).add(keys, Style::bar_line).pad_to(f.cols, Style::bar_line).take();
}

constexpr std::string_view kHelp[] = {
    " Keys",
    "   Up/Down, j/k       move in the column",
    "   Tab, Left/Right    switch between the benchmarks and the settings",
    "   Enter, Space       run the benchmark; toggle an engine; choose a directory",
    "   Esc, Ctrl-C        cancel the run that is going (its files are removed)",
    "   PgUp/PgDn          scroll the results",
    "   e                  export the results shown: JSON, CSV, Markdown or SVG",
    "   ?                  this list",
    "   q, Ctrl-C          quit",
    " In a path",
    "   Tab                complete; lists the choices when several match",
    "   Ctrl-U, Ctrl-W     clear the line, erase the last directory",
    "   Enter, Esc         accept, cancel",
    " Results",
    "   * marks the fastest engine of a scenario, 1.42x its lead over the next one;",
    "   beyond noise: the ranges of their runs do not overlap (it takes 2 runs each)",
};

void add_help(const Frame& f, std::size_t rows, std::vector<Line>& screen) {
  for (std::size_t i = 0; i < std::size(kHelp) && i < rows; ++i)
    screen.push_back(LineBuilder(f.cols)
                         .add(kHelp[i], kHelp[i][1] != ' ' ? Style::heading : Style::normal)
                         .take());
}

Screen too_small(const MenuModel& model, ScreenSize size) {
  const ScreenSize need = minimum_size(model);
  Screen screen;
  screen.lines.push_back(LineBuilder(static_cast<std::size_t>(size.cols))
                             .add(fmt::format("Too small ({}x{}): the menu needs {}x{}; q quits",
                                              size.cols, size.rows, need.cols, need.rows))
                             .take());
  screen.lines.resize(static_cast<std::size_t>(std::max(size.rows, 1)));
  return screen;
}

}  // namespace

std::size_t text_width(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !is_continuation(c); }));
}

std::string draw_bar(double fraction, std::size_t width, bool unicode) {
  const double clamped = std::clamp(std::isfinite(fraction) ? fraction : 0.0, 0.0, 1.0);
  const auto eighths =
      static_cast<std::size_t>(std::lround(clamped * static_cast<double>(width * 8)));
  if (!unicode) return std::string((eighths + 4) / 8, '#');
  static constexpr const char* kPartial[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  std::string bar;
  for (std::size_t i = 0; i < eighths / 8; ++i) bar += "█";
  return bar + kPartial[eighths % 8];
}

ScreenSize minimum_size(const MenuModel& model) {
  return {static_cast<int>(top_height(model)) + 6, kMinCols};
}

Screen layout_screen(const MenuModel& model, ScreenSize size, std::chrono::nanoseconds elapsed,
                     bool unicode) {
  const ScreenSize need = minimum_size(model);
  if (size.rows < need.rows || size.cols < need.cols) return too_small(model, size);
  const Frame f{model, static_cast<std::size_t>(size.cols), unicode};
  const std::size_t rows = static_cast<std::size_t>(size.rows);
  Screen screen;
  screen.lines.push_back(title_line(f));
  if (model.mode() == Mode::help) {
    add_help(f, rows - 2, screen.lines);
  } else {
    add_top_block(f, screen.lines);
    const std::size_t area = rows - 2 - screen.lines.size();
    if (model.mode() == Mode::prompt)
      add_prompt(f, area, screen);
    else
      add_results(f, area, screen.lines);
  }
  screen.lines.resize(rows - 2);
  screen.lines.push_back(status_line(f, elapsed));
  screen.lines.push_back(key_line(f));
  return screen;
}

std::string screen_text(const Screen& screen) {
  std::string text;
  for (const Line& line : screen.lines) {
    std::string row;
    for (const Segment& s : line) row += s.text;
    while (!row.empty() && row.back() == ' ') row.pop_back();
    text += row + '\n';
  }
  return text;
}

}  // namespace ccopy::cli::menu
