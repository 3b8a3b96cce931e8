// The menu as a state machine without a terminal: keys go in, actions for the loop come out
// (start a run, cancel it, write an export, quit), and the view draws whatever state it is in.
// Every transition is unit-tested; only path completion and directory checks touch the file
// system.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ccopy/benchmark.hpp"
#include "menu_items.hpp"
#include "menu_path.hpp"
#include "menu_settings.hpp"
#include "progress.hpp"

namespace ccopy::cli::menu {

/// A key, as the terminal layer translates it.
enum class Key : std::uint8_t {
  character,  ///< a printable byte (UTF-8 arrives one byte at a time)
  up,
  down,
  left,
  right,
  page_up,
  page_down,
  home,
  end,
  enter,
  tab,
  backspace,
  escape,
  interrupt,  ///< Ctrl-C: the terminal is in raw mode, so it is a key and not SIGINT
  kill_line,  ///< Ctrl-U
  kill_word,  ///< Ctrl-W
  other,
};

struct KeyPress {
  Key key = Key::other;
  char byte = 0;  ///< for Key::character
};

/// The screen the menu is on.
enum class Mode : std::uint8_t {
  browse,         ///< the list and the settings
  running,        ///< a benchmark runs; Esc or Ctrl-C cancels it
  prompt,         ///< a path is being typed
  export_format,  ///< choosing the export's format
  help,           ///< the keys
};

/// Which column the cursor is in while browsing.
enum class Pane : std::uint8_t { items, settings };

/// What a path prompt is for.
enum class PromptPurpose : std::uint8_t { tree, directory, export_file };

struct Prompt {
  PromptPurpose purpose = PromptPurpose::tree;
  std::string title;  ///< "Tree to copy"
  std::string text;   ///< what has been typed
  PathKind completes = PathKind::directories;
  std::vector<std::string> listing;  ///< the candidates of an ambiguous Tab
  std::string error;                 ///< why Enter did not accept `text`
  std::size_t item = 0;              ///< tree: the item that asked
  std::string format;                ///< export: the writer's name
};

/// A line for the status bar: an outcome, a note, or an error.
struct Message {
  std::string text;
  bool error = false;
};

/// What the loop must do after a key.
struct Action {
  enum class Kind : std::uint8_t {
    none,
    quit,
    start_run,
    cancel_run,
    write_export
  } kind = Kind::none;
  BenchmarkConfig config;    ///< start_run: the run, complete
  std::string format, path;  ///< write_export: the writer and the file
};

/// The choices the flags set at start and the user changes in the menu.
struct MenuSettings {
  BenchmarkConfig base;  ///< runs, warm-ups, engine options and seed
  std::vector<EngineRow> engines;
  std::vector<DirectoryRow> directories;
  std::size_t directory = 0;  ///< the chosen row of `directories`
};

class MenuModel {
 public:
  MenuModel(std::vector<MenuItem> items, MenuSettings settings);

  /// Handles one key in the current mode.
  [[nodiscard]] Action press(const KeyPress& key);
  /// The runner's latest step, while running.
  void show_progress(const ProgressState& progress);
  /// The run ended (finished, failed or cancelled): its complete scenarios join the table.
  void finish_run(BenchmarkResult result);
  /// The export asked for by the last write_export action was written, or failed with `error`.
  void finish_export(const Error& error);
  /// Puts `text` on the status bar until the next key.
  void say(std::string text, bool error = false);

  [[nodiscard]] Mode mode() const { return mode_; }
  [[nodiscard]] Pane pane() const { return pane_; }
  [[nodiscard]] std::size_t item_cursor() const { return item_cursor_; }
  /// The settings column's row: engines first, then directories.
  [[nodiscard]] std::size_t settings_cursor() const { return settings_cursor_; }
  [[nodiscard]] const std::vector<MenuItem>& items() const { return items_; }
  [[nodiscard]] const MenuSettings& settings() const { return settings_; }
  [[nodiscard]] const Prompt& prompt() const { return prompt_; }
  [[nodiscard]] const Message& message() const { return message_; }
  [[nodiscard]] const std::optional<ProgressState>& progress() const { return progress_; }
  [[nodiscard]] const std::string& running_label() const { return running_label_; }
  [[nodiscard]] bool cancelling() const { return cancelling_; }
  [[nodiscard]] const std::vector<BenchmarkResult>& results() const { return results_; }
  /// Lines of the results table scrolled back from the newest.
  [[nodiscard]] std::size_t results_scroll() const { return results_scroll_; }

 private:
  Action press_browse(const KeyPress& key);
  Action press_running(const KeyPress& key);
  Action press_prompt(const KeyPress& key);
  Action press_export_format(const KeyPress& key);
  void move(int delta);
  void scroll(int delta);
  Action activate();
  Action activate_item();
  void activate_setting();
  void open_prompt(PromptPurpose purpose, std::string title, std::string text, PathKind completes);
  void complete_prompt();
  Action submit_prompt();
  Action submit_tree();
  void submit_directory();
  Action start(const MenuItem& item, const std::string& source);
  Error make_config(const MenuItem& item, const std::string& source, BenchmarkConfig& out) const;

  std::vector<MenuItem> items_;
  MenuSettings settings_;
  Mode mode_ = Mode::browse;
  Pane pane_ = Pane::items;
  std::size_t item_cursor_ = 0, settings_cursor_ = 0;
  Prompt prompt_;
  Message message_;
  std::optional<ProgressState> progress_;
  std::string running_label_;
  bool cancelling_ = false;
  std::vector<BenchmarkResult> results_;
  std::size_t results_scroll_ = 0;
};

}  // namespace ccopy::cli::menu
