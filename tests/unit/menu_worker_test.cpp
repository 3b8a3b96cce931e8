// The benchmark on the worker's thread: it wakes the menu's descriptor with progress and with
// the result, and a cancelled run leaves nothing in its directory.
#include "menu_worker.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>

#include "sys/sys.hpp"
#include "test_dir.hpp"

namespace ccopy::cli::menu {
namespace {

using ccopy::testing::entries_in;
using ccopy::testing::TestDir;

BenchmarkConfig small_run(const std::string& dir, std::size_t files, unsigned runs) {
  BenchmarkConfig c;
  c.directory = dir;
  c.scenarios = {{files, 4096}};
  c.engines = {{"goroutine", "threads"}};
  c.runs = runs;
  c.warmup = 0;
  return c;
}

// Waits on the wake descriptor until `done` holds or a minute has passed (the test's timeout
// is the real bound; this one only keeps a failure from hanging).
template <typename Done>
bool wait_for(int wake_fd, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    pollfd p{wake_fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) > 0) {
      std::uint64_t count = 0;
      (void)!::read(wake_fd, &count, sizeof count);
    }
  }
  return true;
}

TEST(BenchmarkWorker, RunsTheBenchmarkAndWakesTheMenuWithProgressAndTheResult) {
  TestDir dir;
  const sys::unique_fd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  BenchmarkWorker worker(wake.get());
  worker.start(small_run(dir.path(), 3, 2));
  bool progressed = false;
  std::optional<BenchmarkResult> result;
  ASSERT_TRUE(wait_for(wake.get(), [&] {
    progressed = worker.take_progress().has_value() || progressed;
    result = worker.take_result();
    return result.has_value();
  }));
  EXPECT_TRUE(progressed);
  EXPECT_TRUE(result->ok()) << result->first_error().message();
  ASSERT_EQ(result->scenarios.size(), 1u);
  EXPECT_EQ(result->scenarios[0].engines[0].runs.size(), 2u);
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

TEST(BenchmarkWorker, ACancelledRunRemovesItsFiles) {
  TestDir dir;
  const sys::unique_fd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  BenchmarkWorker worker(wake.get());
  worker.start(small_run(dir.path(), 200, 100'000));
  ASSERT_TRUE(wait_for(wake.get(), [&] {
    const std::optional<ProgressState> p = worker.take_progress();
    return p && p->phase == ProgressEvent::Phase::copying;
  }));
  EXPECT_GT(entries_in(dir.path()), 0u) << "the run's workspace exists while it goes";
  worker.cancel();
  std::optional<BenchmarkResult> result;
  ASSERT_TRUE(wait_for(wake.get(), [&] { return (result = worker.take_result()).has_value(); }));
  EXPECT_TRUE(result->cancelled);
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

TEST(BenchmarkWorker, DestroyingItCancelsAndWaits) {
  TestDir dir;
  const sys::unique_fd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  {
    BenchmarkWorker worker(wake.get());
    worker.start(small_run(dir.path(), 200, 100'000));
    ASSERT_TRUE(wait_for(wake.get(), [&] { return worker.take_progress().has_value(); }));
  }
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

}  // namespace
}  // namespace ccopy::cli::menu
