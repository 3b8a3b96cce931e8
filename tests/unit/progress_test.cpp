// The progress line's text: where the run is, the time so far and the estimate of the rest.
#include "progress.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace ccopy::cli {
namespace {

using std::chrono::seconds;

ProgressState copying(unsigned run, unsigned warmup, std::size_t step) {
  ProgressState s;
  s.phase = ProgressEvent::Phase::copying;
  s.scenario_index = 1;
  s.scenario_count = 7;
  s.scenario = "200x64K";
  s.engine = "xev";
  s.run = run;
  s.runs = 3;
  s.warmup = warmup;
  s.warmups = 1;
  s.step = step;
  s.steps = 56;
  return s;
}

TEST(Progress, ShowsScenarioEngineRunElapsedAndRemaining) {
  EXPECT_EQ(format_progress(copying(2, 0, 14), seconds(12), 200),
            "[2/7 200x64K] xev: run 2/3 | 0:12 elapsed, ~0:36 left");
}

TEST(Progress, ShowsWarmUpsAndVerification) {
  EXPECT_EQ(format_progress(copying(0, 1, 8), seconds(4), 200),
            "[2/7 200x64K] xev: warm-up 1/1 | 0:04 elapsed, ~0:24 left");
  ProgressState s = copying(3, 0, 28);
  s.phase = ProgressEvent::Phase::verifying;
  EXPECT_EQ(format_progress(s, seconds(100), 200),
            "[2/7 200x64K] xev: verifying run 3/3 | 1:40 elapsed, ~1:40 left");
}

TEST(Progress, NoEstimateBeforeTheFirstCopy) {
  ProgressState s = copying(0, 0, 0);
  s.phase = ProgressEvent::Phase::generating;
  s.scenario_index = 0;
  s.scenario = "1000x4K";
  EXPECT_EQ(format_progress(s, seconds(0), 200), "[1/7 1000x4K] generating files | 0:00 elapsed");
}

TEST(Progress, FitsTheTerminalWithoutReachingItsLastColumn) {
  const std::string line = format_progress(copying(2, 0, 14), seconds(12), 20);
  EXPECT_EQ(line.size(), 19u);
  EXPECT_EQ(line, "[2/7 200x64K] xev: ");
}

TEST(Progress, ClockFormat) {
  EXPECT_EQ(format_clock(seconds(0)), "0:00");
  EXPECT_EQ(format_clock(seconds(65)), "1:05");
  EXPECT_EQ(format_clock(seconds(3723)), "1:02:03");
  EXPECT_EQ(format_clock(seconds(-5)), "0:00");
}

TEST(Progress, IsOffWhenNotATerminal) {
  // The test's stdout may be anything; /dev/null is never a terminal.
  const int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  {
    ProgressLine line(fd, false);
    EXPECT_FALSE(line.enabled());
  }
  ::close(fd);
}

}  // namespace
}  // namespace ccopy::cli
