#include "menu_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "menu_export.hpp"
#include "menu_results.hpp"

namespace ccopy::cli::menu {
namespace {

constexpr int kScrollStep = 5;

bool is_continuation(char byte) { return (static_cast<unsigned char>(byte) & 0xC0u) == 0x80u; }

// Removes the last character of `text`, all bytes of it when it is UTF-8.
void erase_last_character(std::string& text) {
  while (!text.empty() && is_continuation(text.back())) text.pop_back();
  if (!text.empty()) text.pop_back();
}

// Removes the last path component, keeping the '/' before it (readline's
// unix-filename-rubout): "/usr/include/" becomes "/usr/".
void erase_last_component(std::string& text) {
  while (!text.empty() && text.back() == '/') text.pop_back();
  while (!text.empty() && text.back() != '/') text.pop_back();
}

std::string joined_labels(const std::vector<EngineChoice>& engines) {
  std::string text;
  for (const EngineChoice& e : engines) text += (text.empty() ? "" : ",") + e.label;
  return text;
}

std::size_t scenario_count(const std::vector<BenchmarkResult>& results) {
  std::size_t n = 0;
  for (const BenchmarkResult& r : results) n += r.scenarios.size();
  return n;
}

}  // namespace

MenuModel::MenuModel(std::vector<MenuItem> items, MenuSettings settings)
    : items_(std::move(items)), settings_(std::move(settings)) {}

Action MenuModel::press(const KeyPress& key) {
  switch (mode_) {
    case Mode::browse:
      return press_browse(key);
    case Mode::running:
      return press_running(key);
    case Mode::prompt:
      return press_prompt(key);
    case Mode::export_format:
      return press_export_format(key);
    case Mode::help:
      mode_ = Mode::browse;
      return {};
  }
  return {};
}

Action MenuModel::press_browse(const KeyPress& key) {
  message_ = {};
  const char c = key.key == Key::character ? key.byte : '\0';
  if (key.key == Key::interrupt || c == 'q') return {Action::Kind::quit, {}, {}, {}};
  if (key.key == Key::up || c == 'k')
    move(-1);
  else if (key.key == Key::down || c == 'j')
    move(1);
  else if (key.key == Key::home)
    move(-1'000'000);
  else if (key.key == Key::end)
    move(1'000'000);
  else if (key.key == Key::tab)
    pane_ = pane_ == Pane::items ? Pane::settings : Pane::items;
  else if (key.key == Key::left || c == 'h')
    pane_ = Pane::items;
  else if (key.key == Key::right || c == 'l')
    pane_ = Pane::settings;
  else if (key.key == Key::page_up)
    scroll(kScrollStep);
  else if (key.key == Key::page_down)
    scroll(-kScrollStep);
  else if (key.key == Key::enter || c == ' ')
    return activate();
  else if (c == '?')
    mode_ = Mode::help;
  else if (c == 'e' && results_.empty())
    say("Nothing to export yet: run a benchmark first.", true);
  else if (c == 'e')
    mode_ = Mode::export_format;
  return {};
}

Action MenuModel::press_running(const KeyPress& key) {
  if (key.key != Key::escape && key.key != Key::interrupt) return {};
  if (cancelling_) return {};
  cancelling_ = true;
  return {Action::Kind::cancel_run, {}, {}, {}};
}

Action MenuModel::press_export_format(const KeyPress& key) {
  mode_ = Mode::browse;
  if (key.key != Key::character) return {};
  for (const ExportFormat& f : export_formats()) {
    if (f.key != key.byte) continue;
    open_prompt(PromptPurpose::export_file, fmt::format("Export {} to", f.title),
                default_export_path(f), PathKind::any);
    prompt_.format = std::string(f.name);
  }
  return {};
}

void MenuModel::move(int delta) {
  std::size_t& cursor = pane_ == Pane::items ? item_cursor_ : settings_cursor_;
  const std::size_t count = pane_ == Pane::items
                                ? items_.size()
                                : settings_.engines.size() + settings_.directories.size();
  if (count == 0) return;
  const long long next = static_cast<long long>(cursor) + delta;
  cursor =
      static_cast<std::size_t>(std::clamp<long long>(next, 0, static_cast<long long>(count) - 1));
}

void MenuModel::scroll(int delta) {
  const std::size_t lines = result_lines(results_).size();
  const long long next = static_cast<long long>(results_scroll_) + delta;
  results_scroll_ = static_cast<std::size_t>(
      std::clamp<long long>(next, 0, std::max<long long>(0, static_cast<long long>(lines) - 1)));
}

Action MenuModel::activate() {
  if (pane_ == Pane::items) return activate_item();
  activate_setting();
  return {};
}

Action MenuModel::activate_item() {
  if (items_.empty()) return {};
  const MenuItem& item = items_[item_cursor_];
  if (!item.asks_for_path) return start(item, {});
  open_prompt(PromptPurpose::tree, "Tree to copy (a directory; Tab completes)", {},
              PathKind::directories);
  prompt_.item = item_cursor_;
  return {};
}

void MenuModel::activate_setting() {
  if (settings_cursor_ < settings_.engines.size()) {
    EngineRow& row = settings_.engines[settings_cursor_];
    if (!row.availability.available)
      say(fmt::format("{} cannot run here: {}", row.choice.label, row.availability.reason), true);
    else
      row.selected = !row.selected;
    return;
  }
  const std::size_t index = settings_cursor_ - settings_.engines.size();
  const DirectoryRow& row = settings_.directories[index];
  if (row.typed) {
    open_prompt(PromptPurpose::directory, "Directory to run in (Tab completes)", row.path,
                PathKind::directories);
    return;
  }
  if (!row.problem.empty())
    say(row.problem, true);
  else
    settings_.directory = index;
}

void MenuModel::open_prompt(PromptPurpose purpose, std::string title, std::string text,
                            PathKind completes) {
  prompt_ = {};
  prompt_.purpose = purpose;
  prompt_.title = std::move(title);
  prompt_.text = std::move(text);
  prompt_.completes = completes;
  mode_ = Mode::prompt;
}

Action MenuModel::press_prompt(const KeyPress& key) {
  if (key.key == Key::escape || key.key == Key::interrupt) {
    mode_ = Mode::browse;
    return {};
  }
  if (key.key == Key::enter) return submit_prompt();
  if (key.key == Key::tab) {
    complete_prompt();
    return {};
  }
  prompt_.listing.clear();
  prompt_.error.clear();
  if (key.key == Key::character)
    prompt_.text.push_back(key.byte);
  else if (key.key == Key::backspace)
    erase_last_character(prompt_.text);
  else if (key.key == Key::kill_line)
    prompt_.text.clear();
  else if (key.key == Key::kill_word)
    erase_last_component(prompt_.text);
  return {};
}

void MenuModel::complete_prompt() {
  Completion c = complete_path(prompt_.text, prompt_.completes);
  prompt_.text = std::move(c.text);
  prompt_.listing = std::move(c.candidates);
  prompt_.error = c.matches == 0 ? "no match" : "";
}

Action MenuModel::submit_prompt() {
  prompt_.listing.clear();
  switch (prompt_.purpose) {
    case PromptPurpose::tree:
      return submit_tree();
    case PromptPurpose::directory:
      submit_directory();
      return {};
    case PromptPurpose::export_file:
      if (prompt_.text.empty()) {
        prompt_.error = "type a file name";
        return {};
      }
      return {Action::Kind::write_export, {}, prompt_.format, prompt_.text};
  }
  return {};
}

Action MenuModel::submit_tree() {
  prompt_.error = check_readable_directory(prompt_.text);
  if (!prompt_.error.empty()) return {};
  const std::string& directory = settings_.directories[settings_.directory].path;
  if (lies_inside(directory, prompt_.text)) {
    prompt_.error = fmt::format("the benchmark's directory {} lies inside {}: choose another one",
                                directory, prompt_.text);
    return {};
  }
  mode_ = Mode::browse;
  return start(items_[prompt_.item], expand_home(prompt_.text));
}

void MenuModel::submit_directory() {
  prompt_.error = check_writable_directory(prompt_.text);
  if (!prompt_.error.empty()) return;
  const std::size_t index = static_cast<std::size_t>(
      std::find_if(settings_.directories.begin(), settings_.directories.end(),
                   [](const DirectoryRow& r) { return r.typed; }) -
      settings_.directories.begin());
  settings_.directories[index].path = prompt_.text;
  settings_.directories[index].problem.clear();
  settings_.directory = index;
  mode_ = Mode::browse;
}

Error MenuModel::make_config(const MenuItem& item, const std::string& source,
                             BenchmarkConfig& out) const {
  out = settings_.base;
  out.engines = chosen_engines(settings_.engines);
  if (out.engines.empty())
    return Error::failure("No engine chosen: Tab to the engines and toggle one with Space.");
  out.mode = joined_labels(out.engines);
  const DirectoryRow& dir = settings_.directories[settings_.directory];
  if (std::string problem = check_writable_directory(dir.path); !problem.empty())
    return Error::failure(problem);
  out.directory = expand_home(dir.path);
  return item.fill(source, out);
}

Action MenuModel::start(const MenuItem& item, const std::string& source) {
  Action action{Action::Kind::start_run, {}, {}, {}};
  if (Error e = make_config(item, source, action.config)) {
    mode_ = Mode::browse;
    say(e.message(), true);
    return {};
  }
  mode_ = Mode::running;
  running_label_ = item.label;
  progress_.reset();
  cancelling_ = false;
  return action;
}

void MenuModel::show_progress(const ProgressState& progress) {
  if (mode_ == Mode::running) progress_ = progress;
}

void MenuModel::finish_run(BenchmarkResult result) {
  const bool cancelled = result.cancelled;
  drop_unfinished_scenarios(result);
  mode_ = Mode::browse;
  progress_.reset();
  cancelling_ = false;
  results_scroll_ = 0;
  const std::size_t finished = result.scenarios.size();
  const std::string setup_error = result.setup_error ? result.setup_error.message() : std::string();
  if (finished > 0) results_.push_back(std::move(result));
  if (cancelled)
    say(fmt::format("{}: cancelled; its files were removed{}", running_label_,
                    finished > 0 ? fmt::format(" ({} scenario{} finished first)", finished,
                                               finished == 1 ? "" : "s")
                                 : std::string()));
  else if (!setup_error.empty())
    say(fmt::format("{}: {}", running_label_, setup_error), true);
  else
    say(fmt::format("{}: done", running_label_));
}

void MenuModel::finish_export(const Error& error) {
  if (mode_ != Mode::prompt || prompt_.purpose != PromptPurpose::export_file) return;
  if (error) {
    prompt_.error = error.message();
    return;
  }
  const std::size_t n = scenario_count(results_);
  mode_ = Mode::browse;
  say(fmt::format("Wrote {} scenario{} to {}", n, n == 1 ? "" : "s", prompt_.text));
}

void MenuModel::say(std::string text, bool error) { message_ = {std::move(text), error}; }

}  // namespace ccopy::cli::menu
