// The terminal, through ncurses: the one place that draws, reads keys and knows the screen's
// size. Everything it shows comes from layout_screen(); every key it reads goes to the model.
#pragma once

#include <memory>
#include <string>

#include "menu_layout.hpp"
#include "menu_model.hpp"

// ncurses' SCREEN, declared as its header does (typedef struct screen SCREEN).
struct screen;

namespace ccopy::cli::menu {

/// What reading the keyboard gave.
struct Input {
  enum class Kind : std::uint8_t { none, key, resize } kind = Kind::none;
  KeyPress key;
};

/// ncurses on stdin and stdout for as long as it lives: raw mode (Ctrl-C is a key, not SIGINT),
/// no echo, the keypad's keys decoded, the alternate screen. Destroying it restores the
/// terminal as it was.
class Terminal {
 public:
  /// Takes over the terminal; returns nullptr and says why in `error` when ncurses cannot
  /// (a TERM it does not know).
  [[nodiscard]] static std::unique_ptr<Terminal> open(std::string& error);
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;
  ~Terminal();

  /// Paints `screen`, which is as large as size().
  void draw(const Screen& screen);
  [[nodiscard]] ScreenSize size() const;
  /// Takes the terminal's new size (after SIGWINCH) and repaints everything at the next draw.
  void resize();
  /// The next key, without waiting; Kind::none when none is waiting.
  [[nodiscard]] Input read();
  /// Whether the locale is UTF-8, so that block characters and "…" can be drawn.
  [[nodiscard]] bool unicode() const { return unicode_; }

 private:
  Terminal(::screen* screen, bool unicode) : screen_(screen), unicode_(unicode) {}
  ::screen* screen_;
  bool unicode_;
  bool repaint_ = true;
};

/// The key an ncurses key code stands for.
[[nodiscard]] KeyPress translate_key(int code);

}  // namespace ccopy::cli::menu
