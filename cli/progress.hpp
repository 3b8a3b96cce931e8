// The live progress line on stderr: where the benchmark is, how long it has taken, and about
// how long it still needs. Shown only on a terminal; the results on stdout never mix with it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>

#include "ccopy/benchmark.hpp"

namespace ccopy::cli {

/// What the progress line shows, copied out of a ProgressEvent (whose pointers live only for
/// the duration of the callback).
struct ProgressState {
  ProgressEvent::Phase phase = ProgressEvent::Phase::generating;
  std::size_t scenario_index = 0, scenario_count = 0;
  std::string scenario, engine;
  unsigned run = 0, runs = 0, warmup = 0, warmups = 0;
  std::size_t step = 0, steps = 0;

  [[nodiscard]] static ProgressState from(const ProgressEvent& event);
};

/// "1:05", "12:00", "1:02:03": a duration for people.
[[nodiscard]] std::string format_clock(std::chrono::seconds duration);

/// The progress line for `state` after `elapsed`, at most `columns - 1` characters, without
/// control characters: "[2/7 200x64K] xev: run 2/3 | 0:12 elapsed, ~0:30 left" (scenario k of
/// N, engine, run r of R). The estimate of what remains scales the time so far by the share of
/// copies still to do.
[[nodiscard]] std::string format_progress(const ProgressState& state,
                                          std::chrono::nanoseconds elapsed, std::size_t columns);

/// Draws the progress line on a terminal: at every event, and a few times a second in
/// between so that the elapsed time moves during long copies. Does nothing when disabled.
class ProgressLine {
 public:
  /// Enabled when `fd` is a terminal and `quiet` is false.
  ProgressLine(int fd, bool quiet);
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  ~ProgressLine();

  [[nodiscard]] bool enabled() const { return enabled_; }
  /// Takes a runner event; called on the runner's thread.
  void update(const ProgressEvent& event);
  /// Erases the line and stops redrawing it; call before printing anything else.
  void clear();
  /// Erases the line until the next event redraws it: for output printed while the run goes.
  void erase();

 private:
  void draw_locked();
  void tick();

  int fd_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mutex_;
  std::condition_variable wake_;
  ProgressState state_;
  bool have_state_ = false, drawn_ = false, stopped_ = false;
  std::thread ticker_;
};

}  // namespace ccopy::cli
