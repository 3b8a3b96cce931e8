#include "menu_view.hpp"

#include <curses.h>
#include <langinfo.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ccopy::cli::menu {
namespace {

// How long a lone Esc waits for the rest of an escape sequence (an arrow key), in ms: short
// enough that Esc cancels at once, long enough for a terminal's sequence to arrive whole.
constexpr int kEscapeDelayMs = 25;

enum ColorPair : short { kErrorPair = 1, kWinnerPair = 2, kBarPair = 3 };

void start_colors() {
  if (!has_colors() || start_color() == ERR) return;
  use_default_colors();
  init_pair(kErrorPair, COLOR_RED, -1);
  init_pair(kWinnerPair, COLOR_GREEN, -1);
  init_pair(kBarPair, COLOR_CYAN, -1);
}

attr_t attributes(Style style) {
  switch (style) {
    case Style::normal:
      return A_NORMAL;
    case Style::bar_line:
    case Style::cursor:
      return A_REVERSE;
    case Style::heading:
      return A_BOLD;
    case Style::dim:
      return A_DIM;
    case Style::error:
      return A_BOLD | static_cast<attr_t>(COLOR_PAIR(kErrorPair));
    case Style::winner:
      return A_BOLD | static_cast<attr_t>(COLOR_PAIR(kWinnerPair));
    case Style::bar:
      return static_cast<attr_t>(COLOR_PAIR(kBarPair));
  }
  return A_NORMAL;
}

bool locale_is_utf8() {
  const char* codeset = nl_langinfo(CODESET);
  return codeset != nullptr &&
         (std::strcmp(codeset, "UTF-8") == 0 || std::strcmp(codeset, "utf8") == 0);
}

// A terminal that cannot move its cursor (TERM=dumb) cannot show a menu.
bool can_address_cursor() {
  const char* move = tigetstr("cup");
  return move != nullptr && move != reinterpret_cast<const char*>(-1);
}

std::string terminal_name() {
  const char* term = std::getenv("TERM");
  return term != nullptr && *term != '\0' ? std::string("TERM=") + term
                                          : std::string("TERM is not set");
}

}  // namespace

KeyPress translate_key(int code) {
  switch (code) {
    case KEY_UP:
      return {Key::up};
    case KEY_DOWN:
      return {Key::down};
    case KEY_LEFT:
      return {Key::left};
    case KEY_RIGHT:
      return {Key::right};
    case KEY_PPAGE:
      return {Key::page_up};
    case KEY_NPAGE:
      return {Key::page_down};
    case KEY_HOME:
      return {Key::home};
    case KEY_END:
      return {Key::end};
    case KEY_ENTER:
    case '\r':
    case '\n':
      return {Key::enter};
    case '\t':
    case KEY_BTAB:
      return {Key::tab};
    case KEY_BACKSPACE:
    case 127:
    case 8:
      return {Key::backspace};
    case 27:
      return {Key::escape};
    case 3:
      return {Key::interrupt};
    case 21:
      return {Key::kill_line};
    case 23:
      return {Key::kill_word};
    default:
      break;
  }
  if ((code >= 0x20 && code < 0x7f) || (code >= 0x80 && code <= 0xff))
    return {Key::character, static_cast<char>(static_cast<unsigned char>(code))};
  return {Key::other};
}

std::unique_ptr<Terminal> Terminal::open(std::string& error) {
  std::setlocale(LC_ALL, "");
  // The size comes from the terminal (TIOCGWINSZ), not from a stale $LINES or $COLUMNS.
  use_tioctl(TRUE);
  set_escdelay(kEscapeDelayMs);
  ::screen* screen = newterm(nullptr, stdout, stdin);
  if (screen == nullptr) {
    error = "cannot use the terminal (" + terminal_name() + ")";
    return nullptr;
  }
  if (!can_address_cursor()) {
    endwin();
    delscreen(screen);
    error = "the terminal cannot move its cursor (" + terminal_name() + ")";
    return nullptr;
  }
  raw();
  noecho();
  nonl();
  keypad(stdscr, TRUE);
  nodelay(stdscr, TRUE);
  curs_set(0);
  start_colors();
  return std::unique_ptr<Terminal>(new Terminal(screen, locale_is_utf8()));
}

Terminal::~Terminal() {
  endwin();
  delscreen(screen_);
}

void Terminal::draw(const Screen& screen) {
  if (repaint_) clearok(stdscr, TRUE);
  repaint_ = false;
  werase(stdscr);
  for (std::size_t row = 0; row < screen.lines.size(); ++row) {
    wmove(stdscr, static_cast<int>(row), 0);
    for (const Segment& s : screen.lines[row]) {
      wattrset(stdscr, static_cast<int>(attributes(s.style)));
      waddstr(stdscr, s.text.c_str());
    }
  }
  wattrset(stdscr, A_NORMAL);
  if (screen.cursor_row >= 0) wmove(stdscr, screen.cursor_row, screen.cursor_col);
  curs_set(screen.cursor_row >= 0 ? 1 : 0);
  wrefresh(stdscr);
}

ScreenSize Terminal::size() const { return {getmaxy(stdscr), getmaxx(stdscr)}; }

void Terminal::resize() {
  winsize size{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_row > 0 && size.ws_col > 0)
    resizeterm(size.ws_row, size.ws_col);
  repaint_ = true;
}

Input Terminal::read() {
  const int code = wgetch(stdscr);
  if (code == ERR) return {};
  if (code == KEY_RESIZE) return {Input::Kind::resize, {}};
  return {Input::Kind::key, translate_key(code)};
}

}  // namespace ccopy::cli::menu
