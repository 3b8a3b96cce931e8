#include "progress.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace ccopy::cli {
namespace {

constexpr std::size_t kDefaultColumns = 80;
constexpr auto kRedrawEvery = std::chrono::milliseconds(250);

std::size_t terminal_columns(int fd) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return kDefaultColumns;
}

// Writes all of `text`, retrying short writes and EINTR; a terminal that fails is ignored,
// since progress is only a courtesy.
void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

std::string activity(const ProgressState& s) {
  using Phase = ProgressEvent::Phase;
  switch (s.phase) {
    case Phase::generating:
      return "generating files";
    case Phase::describing:
      return "reading the tree";
    case Phase::cleaning:
      return "removing files";
    case Phase::copying:
    case Phase::verifying:
      break;
  }
  const std::string what = s.phase == Phase::verifying ? "verifying " : "";
  if (s.warmup > 0) return fmt::format("{}: {}warm-up {}/{}", s.engine, what, s.warmup, s.warmups);
  return fmt::format("{}: {}run {}/{}", s.engine, what, s.run, s.runs);
}

}  // namespace

ProgressState ProgressState::from(const ProgressEvent& event) {
  ProgressState s;
  s.phase = event.phase;
  s.scenario_index = event.scenario_index;
  s.scenario_count = event.scenario_count;
  if (event.scenario != nullptr) s.scenario = event.scenario->name();
  if (event.engine != nullptr) s.engine = event.engine->label;
  s.run = event.run;
  s.runs = event.runs;
  s.warmup = event.warmup;
  s.warmups = event.warmups;
  s.step = event.step;
  s.steps = event.steps;
  return s;
}

std::string format_clock(std::chrono::seconds duration) {
  const long long total = std::max<long long>(0, duration.count());
  const long long hours = total / 3600, minutes = total / 60 % 60, seconds = total % 60;
  if (hours > 0) return fmt::format("{}:{:02}:{:02}", hours, minutes, seconds);
  return fmt::format("{}:{:02}", minutes, seconds);
}

std::string format_progress(const ProgressState& state, std::chrono::nanoseconds elapsed,
                            std::size_t columns) {
  std::string line = fmt::format(
      "[{}/{} {}] {} | {} elapsed", state.scenario_index + 1, state.scenario_count, state.scenario,
      activity(state), format_clock(std::chrono::duration_cast<std::chrono::seconds>(elapsed)));
  if (state.step > 0 && state.steps >= state.step) {
    const double left = static_cast<double>(elapsed.count()) *
                        static_cast<double>(state.steps - state.step) /
                        static_cast<double>(state.step);
    line.append(", ~");
    line.append(format_clock(std::chrono::seconds(static_cast<long long>(left / 1e9 + 0.5))));
    line.append(" left");
  }
  const std::size_t room = columns > 1 ? columns - 1 : 0;
  if (line.size() > room) line.resize(room);
  return line;
}

ProgressLine::ProgressLine(int fd, bool quiet)
    : fd_(fd), enabled_(!quiet && ::isatty(fd) == 1), start_(std::chrono::steady_clock::now()) {
  if (enabled_) ticker_ = std::thread([this] { tick(); });
}

ProgressLine::~ProgressLine() { clear(); }

void ProgressLine::update(const ProgressEvent& event) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  state_ = ProgressState::from(event);
  have_state_ = true;
  draw_locked();
}

void ProgressLine::clear() {
  if (!enabled_) return;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    if (drawn_) write_all(fd_, "\r\033[K");
  }
  wake_.notify_one();
  ticker_.join();
}

// Rewrites the line in place: carriage return, the text, then erase what an earlier, longer
// line left to the right.
void ProgressLine::erase() {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  if (drawn_) write_all(fd_, "\r\033[K");
  drawn_ = false;
  have_state_ = false;  // until the next event: nothing is redrawn over what is printed now
}

void ProgressLine::draw_locked() {
  if (!have_state_) return;
  const auto elapsed = std::chrono::steady_clock::now() - start_;
  std::string text = "\r";
  text.append(format_progress(state_, elapsed, terminal_columns(fd_)));
  text.append("\033[K");
  write_all(fd_, text);
  drawn_ = true;
}

void ProgressLine::tick() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, kRedrawEvery, [this] { return stopped_; })) draw_locked();
}

}  // namespace ccopy::cli
