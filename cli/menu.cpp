// The menu's loop: one thread owns the terminal and waits, in one poll, for a key, for the
// worker's progress or result, and for a signal; the benchmark runs on the worker's thread.
#include "menu.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>

#include "menu_export.hpp"
#include "menu_options.hpp"
#include "menu_view.hpp"
#include "menu_worker.hpp"
#include "options.hpp"
#include "sys/sys.hpp"

namespace ccopy::cli::menu {
namespace {

// How often the status line's elapsed time moves while a run goes.
constexpr int kRedrawWhileRunningMs = 250;

int usage_error(const std::string& message) {
  std::cerr << "concurrent_copy menu: " << message
            << "\nRun 'concurrent_copy menu -help' for usage.\n";
  return exit_usage;
}

int failure(const std::string& message) {
  std::cerr << "concurrent_copy menu: " << message << '\n';
  return exit_failed;
}

// SIGINT, SIGTERM and SIGHUP sent from outside end the menu, and SIGWINCH redraws it. The four
// are blocked before any thread exists, so that every thread (the worker, the engines' threads)
// inherits the mask, and read from a signalfd by the loop: no handler runs, ncurses' neither.
// Ctrl-C typed at the terminal is no signal at all: raw mode turns it into a key.
sys::unique_fd take_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGWINCH}) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return sys::unique_fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
}

Error make_settings(const BenchmarkConfig& base, MenuSettings& settings,
                    std::vector<std::string>& notes) {
  settings.base = base;
  settings.engines = engine_rows();
  if (Error e = select_engines(base.mode, settings.engines, notes)) return e;
  settings.directories = directory_rows();
  settings.directory = select_directory(base.directory, settings.directories);
  return {};
}

class MenuLoop {
 public:
  MenuLoop(MenuModel& model, Terminal& terminal, int signal_fd, int wake_fd)
      : model_(model),
        terminal_(terminal),
        signal_fd_(signal_fd),
        wake_fd_(wake_fd),
        worker_(wake_fd) {}

  // Returns the exit code.
  int run() {
    for (;;) {
      draw();
      pollfd fds[] = {{STDIN_FILENO, POLLIN, 0}, {wake_fd_, POLLIN, 0}, {signal_fd_, POLLIN, 0}};
      const int timeout = model_.mode() == Mode::running ? kRedrawWhileRunningMs : -1;
      if (::poll(fds, 3, timeout) < 0) {
        if (errno == EINTR) continue;
        return end_run(exit_failed);
      }
      if ((fds[2].revents & POLLIN) != 0)
        if (const std::optional<int> code = on_signal()) return *code;
      if ((fds[1].revents & POLLIN) != 0) on_wake();
      if ((fds[0].revents & POLLIN) != 0)
        if (const std::optional<int> code = on_keys()) return *code;
      // The terminal went away without a SIGHUP reaching us: end as if it had.
      if ((fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) return end_run(128 + SIGHUP);
    }
  }

 private:
  void draw() {
    const auto elapsed = model_.mode() == Mode::running
                             ? std::chrono::steady_clock::now() - run_start_
                             : std::chrono::steady_clock::duration{};
    terminal_.draw(layout_screen(model_, terminal_.size(), elapsed, terminal_.unicode()));
  }

  // Cancels a run that goes, waits until the runner has removed its files, and returns `code`.
  int end_run(int code) {
    worker_.cancel();
    worker_.wait();
    return code;
  }

  std::optional<int> on_signal() {
    signalfd_siginfo info{};
    while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      if (info.ssi_signo == SIGWINCH)
        terminal_.resize();
      else
        return end_run(128 + static_cast<int>(info.ssi_signo));
    }
    return std::nullopt;
  }

  void on_wake() {
    std::uint64_t count = 0;
    (void)!::read(wake_fd_, &count, sizeof count);
    if (std::optional<ProgressState> progress = worker_.take_progress())
      model_.show_progress(*progress);
    if (std::optional<BenchmarkResult> result = worker_.take_result())
      model_.finish_run(std::move(*result));
  }

  std::optional<int> on_keys() {
    for (Input input = terminal_.read(); input.kind != Input::Kind::none;
         input = terminal_.read()) {
      if (input.kind == Input::Kind::resize) continue;  // already taken from SIGWINCH
      if (const std::optional<int> code = perform(model_.press(input.key))) return code;
    }
    return std::nullopt;
  }

  std::optional<int> perform(Action action) {
    switch (action.kind) {
      case Action::Kind::none:
        break;
      case Action::Kind::quit:
        return exit_ok;
      case Action::Kind::start_run:
        run_start_ = std::chrono::steady_clock::now();
        worker_.start(std::move(action.config));
        break;
      case Action::Kind::cancel_run:
        worker_.cancel();
        break;
      case Action::Kind::write_export:
        model_.finish_export(
            write_export(action.format, action.path, merge_results(model_.results())));
        break;
    }
    return std::nullopt;
  }

  MenuModel& model_;
  Terminal& terminal_;
  int signal_fd_, wake_fd_;
  BenchmarkWorker worker_;
  std::chrono::steady_clock::time_point run_start_;
};

std::string joined(const std::vector<std::string>& notes) {
  std::string text;
  for (const std::string& n : notes) text += (text.empty() ? "" : "; ") + n;
  return text;
}

}  // namespace

int run_menu(const std::vector<std::string>& args) {
  BenchmarkConfig base;
  const ParseResult parsed = parse_menu_command_line(args, base);
  if (parsed.kind == ParseResult::Kind::exit_with_text) {
    std::cout << parsed.text;
    return exit_ok;
  }
  if (parsed.kind == ParseResult::Kind::usage_error) return usage_error(parsed.text);
  if (::isatty(STDIN_FILENO) != 1 || ::isatty(STDOUT_FILENO) != 1) {
    std::cerr << "concurrent_copy menu: needs a terminal on stdin and stdout\n";
    return exit_usage;
  }
  if (std::string problem = check_writable_directory(base.directory); !problem.empty())
    return usage_error("-dir " + problem);
  (void)sys::raise_open_file_limit();

  const sys::unique_fd signals = take_signals();
  const sys::unique_fd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!signals.valid() || !wake.valid())
    return failure("signalfd or eventfd: " + sys::error_text(errno));
  MenuSettings settings;
  std::vector<std::string> notes;
  if (Error e = make_settings(base, settings, notes)) return failure(e.message());
  MenuModel model(menu_items(), std::move(settings));
  if (!notes.empty()) model.say(joined(notes));

  std::string error;
  const std::unique_ptr<Terminal> terminal = Terminal::open(error);
  if (terminal == nullptr) {
    std::cerr << "concurrent_copy menu: " << error << '\n';
    return exit_usage;
  }
  // The loop, and with it the worker, ends before the terminal is restored.
  MenuLoop loop(model, *terminal, signals.get(), wake.get());
  return loop.run();
}

}  // namespace ccopy::cli::menu
