// The thread pool the thread engines share (src/engines/blocking.hpp): how many threads a
// thread per file may run at once, how that reads in the output, and that threads are started
// only for files still waiting.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "ccopy/engine.hpp"
#include "engines/blocking.hpp"

namespace ccopy::engines {
namespace {

EngineOptions with(unsigned workers, std::size_t chunk) {
  EngineOptions options;
  options.workers = workers;
  options.chunk = chunk;
  return options;
}

TEST(ThreadPool, AThreadPerFileIsBoundedByTheBufferBudget) {
  EXPECT_EQ(threads_within_budget(64 * 1024), 512u);
  EXPECT_EQ(threads_within_budget(1024 * 1024), 32u);
  EXPECT_EQ(threads_within_budget(std::size_t{256} << 20), 4u);  // never fewer than 4
  EXPECT_EQ(worker_threads(with(0, 64 * 1024), 10'000), 512u);
  EXPECT_EQ(worker_threads(with(0, 64 * 1024), 100), 100u);
  EXPECT_EQ(worker_threads(with(0, 1024 * 1024), 100), 32u);
}

TEST(ThreadPool, ExplicitWorkersAreTakenAsGivenUpToTheFileCount) {
  EXPECT_EQ(worker_threads(with(8, 64 * 1024), 100), 8u);
  EXPECT_EQ(worker_threads(with(8, 64 * 1024), 3), 3u);
  EXPECT_EQ(worker_threads(with(2000, 64 * 1024), 10'000), 2000u);
}

TEST(ThreadPool, TheOutputSaysWhenTheBudgetBoundsAThreadPerFile) {
  EXPECT_EQ(describe_workers(with(0, 64 * 1024), 100), "a thread per waiting file");
  EXPECT_EQ(describe_workers(with(0, 64 * 1024), 10'000),
            "a thread per waiting file, at most 512 at once: 32.0 MiB of buffers");
  EXPECT_EQ(describe_workers(with(6, 64 * 1024), 100), "6 worker threads");
  EXPECT_EQ(describe_workers(with(6, 64 * 1024), 4), "4 worker threads");
  EXPECT_EQ(describe_workers(with(0, 64 * 1024), 10'000, Buffers::on_fallback),
            "a thread per waiting file, at most 512 at once: 32.0 MiB of buffers if read/write "
            "is needed");
}

// The kernel engine allocates its buffers only for a read/write fallback, and says so; threads
// always hold theirs.
TEST(ThreadPool, OnlyTheKernelEngineHoldsBuffersOnlyOnAFallback) {
  const std::string kernel = find_engine("kernel")->make()->describe(with(0, 64 * 1024), 10'000);
  const std::string threads = find_engine("threads")->make()->describe(with(0, 64 * 1024), 10'000);
  EXPECT_TRUE(kernel.ends_with("32.0 MiB of buffers if read/write is needed")) << kernel;
  EXPECT_TRUE(threads.ends_with("32.0 MiB of buffers")) << threads;
}

TEST(ThreadPool, RunsEveryIndexExactlyOnce) {
  constexpr std::size_t kCount = 2000;
  std::vector<std::atomic<int>> runs(kCount);
  const PoolReport report =
      run_on_threads(kCount, 64, nullptr, 4096, [&](std::size_t i, Scratch& scratch) {
        EXPECT_EQ(scratch.buffer().size(), 4096u);
        runs[i].fetch_add(1);
      });
  EXPECT_FALSE(report.refused);
  EXPECT_GE(report.started, 1u);
  EXPECT_LE(report.started, 64u);
  for (std::size_t i = 0; i < kCount; ++i) ASSERT_EQ(runs[i].load(), 1) << "index " << i;
}

// Each index blocks until all of them have started: the pool must give every waiting index its
// own thread, or this never finishes (the wait gives up after a minute so a broken pool fails
// instead of hanging the suite).
TEST(ThreadPool, StartsAThreadForEveryIndexThatWaits) {
  constexpr std::size_t kCount = 6;
  std::mutex mutex;
  std::condition_variable all_in;
  std::size_t entered = 0;
  bool gave_up = false;
  const PoolReport report = run_on_threads(kCount, kCount, nullptr, 0, [&](std::size_t, Scratch&) {
    std::unique_lock lock(mutex);
    if (++entered == kCount) all_in.notify_all();
    if (!all_in.wait_for(lock, std::chrono::minutes(1), [&] { return entered == kCount; }))
      gave_up = true;
  });
  EXPECT_FALSE(gave_up);
  EXPECT_EQ(report.started, kCount);
}

TEST(ThreadPool, StartsNoMoreThreadsOnceCancelled) {
  const std::atomic<bool> cancel{true};
  std::atomic<int> runs{0};
  const PoolReport report = run_on_threads(100, 100, &cancel, 0,
                                           [&](std::size_t, Scratch&) { runs.fetch_add(1); });
  EXPECT_EQ(report.started, 1u);
  EXPECT_EQ(runs.load(), 0);
}

}  // namespace
}  // namespace ccopy::engines
