// The runner's side of faults: an engine whose copy fails is reported with the file and the
// errno text and is not counted as verified, while the other engines' results stand; a cancel
// through the hooks stops the run; and the checks made before anything is written (free space,
// descriptors) refuse or bound clearly.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>

#include "ccopy/benchmark.hpp"
#include "fault_support.hpp"
#include "preflight.hpp"

namespace ccopy {
namespace {

using testing::TestDir;

// Armed by the runner's progress callback when the victim engine starts its copy; fails the
// next data transfer with EIO, once.
struct FailVictimOnce {
  std::atomic<bool> armed{false};
  std::atomic<bool> fired{false};
  static long hook(sys::Op op, long result, void* context) {
    auto& self = *static_cast<FailVictimOnce*>(context);
    if (!testing::moves_data(op) || !self.armed.exchange(false)) return result;
    self.fired = true;
    return -EIO;
  }
};

TEST(RunnerFaults, AFailedCopyIsNamedAndNotCountedAsVerified) {
  TestDir dir;
  ASSERT_TRUE(dir.ok());
  BenchmarkConfig config;
  config.directory = dir.path();
  config.scenarios = {{6, 200'000}};
  for (const std::string& name : testing::every_engine()) {
    if (find_engine(name)->probe().available) config.engines.push_back({name, name});
  }
  ASSERT_GE(config.engines.size(), 1u);
  const std::string victim = config.engines.front().label;
  config.runs = 2;
  config.warmup = 0;
  FailVictimOnce fault;
  bool armed_once = false;
  BenchmarkHooks hooks;
  hooks.progress = [&](const ProgressEvent& event) {
    if (event.phase == ProgressEvent::Phase::copying && event.engine->label == victim &&
        !armed_once) {
      armed_once = true;
      fault.armed = true;
    }
  };
  BenchmarkResult result;
  {
    testing::ScopedFaultHook hook(FailVictimOnce::hook, &fault);
    result = run_benchmark(config, hooks);
  }
  ASSERT_TRUE(fault.fired.load());
  ASSERT_FALSE(result.setup_error) << result.setup_error.message();
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(result.cancelled);
  const Error first = result.first_error();
  EXPECT_EQ(first.code, EIO);
  // "copy DIR/concurrent_copy.XXXXXX/src/file_000003: read: Input/output error": the file by
  // its source path, the step, and the errno text.
  EXPECT_NE(first.message().find("copy " + dir.path() + "/"), std::string::npos)
      << first.message();
  EXPECT_NE(first.message().find("/src/file_"), std::string::npos) << first.message();
  EXPECT_NE(first.message().find("Input/output error"), std::string::npos) << first.message();
  ASSERT_EQ(result.scenarios.size(), 1u);
  for (const EngineResult& e : result.scenarios[0].engines) {
    if (e.choice.label == victim) {
      EXPECT_FALSE(e.verified);
      EXPECT_TRUE(e.error);
    } else {
      EXPECT_TRUE(e.verified) << e.choice.label << ": " << e.error.message();
      EXPECT_FALSE(e.error) << e.error.message();
      EXPECT_EQ(e.runs.size(), 2u);
    }
  }
  EXPECT_EQ(testing::entries_in(dir.path()), 0u) << "the workspace was left behind";
}

// The cancel hook, set as the second timed run of the first engine starts: the runner stops
// within that copy, says it was cancelled (not failed), and leaves nothing behind.
TEST(RunnerFaults, ACancelThroughTheHooksStopsTheRunAndLeavesNothing) {
  TestDir dir;
  ASSERT_TRUE(dir.ok());
  BenchmarkConfig config;
  config.directory = dir.path();
  config.scenarios = {{20, 100'000}};
  config.engines = {{"goroutine", "threads"}};
  config.runs = 3;
  config.warmup = 0;
  std::atomic<bool> cancel{false};
  unsigned copies = 0;
  BenchmarkHooks hooks;
  hooks.cancel = &cancel;
  hooks.progress = [&](const ProgressEvent& event) {
    if (event.phase == ProgressEvent::Phase::copying && ++copies == 2) cancel = true;
  };
  const BenchmarkResult result = run_benchmark(config, hooks);
  EXPECT_TRUE(result.cancelled);
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(result.setup_error) << result.setup_error.message();
  EXPECT_EQ(copies, 2u) << "a copy started after the cancellation";
  EXPECT_EQ(testing::entries_in(dir.path()), 0u) << "the workspace was left behind";
}

TEST(Preflight, CountsSourcesCopiesAndMetadataInWholeBlocks) {
  const std::vector<Scenario> one{{10, 5000}};
  const SpaceNeeded need = space_needed(one, false, 4096);
  EXPECT_EQ(need.bytes, 10 * (2 * 8192 + 4096) + 3 * 4096u);
  EXPECT_EQ(need.inodes, 23u);
}

TEST(Preflight, ASweepNeedsItsLargestScenarioUnlessKeptThenAll) {
  const std::vector<Scenario> sweep{{10, 4096}, {20, 4096}};
  EXPECT_EQ(space_needed(sweep, false, 4096).bytes, 20 * 3 * 4096u + 3 * 4096u);
  EXPECT_EQ(space_needed(sweep, true, 4096).bytes, 30 * 3 * 4096u + 6 * 4096u);
}

TEST(Preflight, RefusesTooLittleSpaceNamingTheDirectoryAndBothFigures) {
  sys::FilesystemSpace space;
  space.available_bytes = 1024 * 1024;
  const Error e = check_space("/data", {3 * 1024 * 1024, 10}, space);
  ASSERT_TRUE(e);
  EXPECT_NE(e.message().find("not enough space in /data: the run needs 3.0 MiB"), std::string::npos)
      << e.message();
  EXPECT_NE(e.message().find("1.0 MiB free"), std::string::npos) << e.message();
  space.available_bytes = 4 * 1024 * 1024;
  EXPECT_FALSE(check_space("/data", {3 * 1024 * 1024, 10}, space));
  space.available_inodes = 5;
  EXPECT_NE(check_space("/data", {3 * 1024 * 1024, 10}, space).message().find("not enough inodes"),
            std::string::npos);
}

TEST(Preflight, LeavesOptionsAloneWhenEveryFileFits) {
  EngineOptions requested;
  const DescriptorBound b = bound_by_descriptors(requested, 100, 1024, 10);
  EXPECT_FALSE(b.error);
  EXPECT_TRUE(b.note.empty());
  EXPECT_EQ(b.options.workers, 0u);
  EXPECT_EQ(b.options.inflight, 16u);
}

TEST(Preflight, BoundsAThreadPerFileAndInflightBelowTheLimit) {
  EngineOptions requested;
  requested.inflight = 200;
  requested.kernel_copy = KernelCopy::off;
  // 256 - 10 open - 64 reserved = 182 spare: 91 files at once.
  const DescriptorBound b = bound_by_descriptors(requested, 1000, 256, 10);
  EXPECT_FALSE(b.error);
  EXPECT_EQ(b.options.workers, 91u);
  EXPECT_EQ(b.options.inflight, 91u);
  EXPECT_NE(b.note.find("the open-file limit (256) allows 91 files open at once"),
            std::string::npos)
      << b.note;
  EXPECT_NE(b.note.find("-workers 91, -inflight 91"), std::string::npos) << b.note;
}

TEST(Preflight, LeavesAThreadPerFileAloneWhenItsBufferBudgetBoundsItBelowTheLimit) {
  EngineOptions requested;  // -workers 0, 64 KiB chunks: at most 512 threads at once
  // 20000 - 10 open - 64 reserved = 19926 spare: 9963 files at once, more than 512.
  const DescriptorBound b = bound_by_descriptors(requested, 10000, 20000, 10);
  EXPECT_FALSE(b.error);
  EXPECT_EQ(b.options.workers, 0u);
  EXPECT_TRUE(b.note.empty()) << b.note;
}

TEST(Preflight, SharesTheBoundAmongLoops) {
  EngineOptions requested;
  requested.inflight = 64;
  requested.loops = 4;
  requested.workers = 8;
  requested.kernel_copy = KernelCopy::off;
  const DescriptorBound b = bound_by_descriptors(requested, 1000, 256, 10);
  EXPECT_EQ(b.options.workers, 8u);
  EXPECT_EQ(b.options.inflight, 22u);
}

// With kernel copy possible, each in-flight slot of a loop holds a pipe too: 4 descriptors.
TEST(Preflight, CountsASplicePipePerInflightSlot) {
  EngineOptions requested;
  requested.inflight = 64;
  requested.loops = 2;
  requested.workers = 8;
  requested.kernel_copy = KernelCopy::automatic;
  // 182 spare descriptors: 182 / 4 / 2 loops = 22 files in flight per loop.
  const DescriptorBound b = bound_by_descriptors(requested, 1000, 256, 10);
  EXPECT_EQ(b.options.workers, 8u);
  EXPECT_EQ(b.options.inflight, 22u);
  EXPECT_NE(b.note.find("(-inflight 22); an event loop that may splice holds 4 descriptors "
                        "per file in flight"),
            std::string::npos)
      << b.note;
}

// Pipes count even when fewer files than slots are left: 16 slots hold 16 pipes whatever
// the number of files, so 40 files and 16 slots need 2 x 16 + 2 x 16 descriptors.
TEST(Preflight, CountsPipesWhenTheFilesFit) {
  EngineOptions requested;
  requested.inflight = 16;
  requested.workers = 4;
  const long fits = 10 + kReservedDescriptors + 64;
  const long short_by_4 = 10 + kReservedDescriptors + 60;
  EXPECT_TRUE(bound_by_descriptors(requested, 40, fits, 10).note.empty());
  const DescriptorBound b = bound_by_descriptors(requested, 40, short_by_4, 10);
  EXPECT_EQ(b.options.inflight, 15u);
  requested.kernel_copy = KernelCopy::off;
  EXPECT_TRUE(bound_by_descriptors(requested, 40, short_by_4, 10).note.empty());
}

// Only what the run's engines hold is bounded: uv and the thread engines hold no pipes, so they
// keep every slot the limit allows for files; uv runs one loop whatever -loops says; and a run
// of event loops alone leaves -workers alone.
TEST(Preflight, BoundsOnlyWhatTheEnginesOfTheRunHold) {
  EngineOptions requested;
  requested.inflight = 64;
  requested.workers = 8;
  requested.kernel_copy = KernelCopy::automatic;
  // 182 spare descriptors: 91 files at once, 2 descriptors each.
  const DescriptorHolders uv{.threads = false, .loops = true, .rings = false};
  const DescriptorBound b = bound_by_descriptors(requested, 1000, 256, 10, uv);
  EXPECT_EQ(b.options.inflight, 64u);
  EXPECT_TRUE(b.note.empty()) << b.note;
  requested.inflight = 100;
  requested.workers = 0;  // a thread per file: more than 91 threads
  const DescriptorBound c = bound_by_descriptors(requested, 1000, 256, 10, uv);
  EXPECT_EQ(c.options.inflight, 91u);
  EXPECT_EQ(c.options.workers, 0u);
  EXPECT_NE(c.note.find("(-inflight 91)"), std::string::npos) << c.note;
  EXPECT_EQ(c.note.find("pipe"), std::string::npos) << c.note;
  requested.loops = 4;  // the uring engine's option: uv still has 91 slots
  EXPECT_EQ(bound_by_descriptors(requested, 1000, 256, 10, uv).options.inflight, 91u);
  requested.loops = 1;
  const DescriptorHolders threads{.threads = true, .loops = false, .rings = false};
  const DescriptorBound t = bound_by_descriptors(requested, 1000, 256, 10, threads);
  EXPECT_EQ(t.options.workers, 91u);
  EXPECT_EQ(t.options.inflight, 100u);
  EXPECT_NE(t.note.find("(-workers 91)"), std::string::npos) << t.note;
}

TEST(Preflight, EachEngineSaysHowItHoldsFiles) {
  for (const EngineInfo& info : engine_registry()) {
    const bool thread_engine = info.name == "threads" || info.name == "kernel";
    EXPECT_EQ(info.open_files == OpenFiles::per_thread, thread_engine) << info.name;
    EXPECT_EQ(info.open_files == OpenFiles::rings_with_pipes, info.name == "uring") << info.name;
  }
}

TEST(Preflight, RefusesWhenNotOneFileFits) {
  const DescriptorBound b = bound_by_descriptors({}, 10, 70, 10);
  ASSERT_TRUE(b.error);
  EXPECT_NE(b.error.message().find("the open-file limit (70) leaves no room"), std::string::npos);
}

// The refusal names the limit that would let the run start: the descriptors open, the reserve,
// and one file at a time (two descriptors; four in an io_uring loop that may splice, for the
// pipe; one file in flight per loop).
TEST(Preflight, ARefusalSaysWhichLimitWouldDo) {
  struct Case {
    DescriptorHolders holders;
    KernelCopy kernel_copy;
    unsigned loops;
    long enough;
  };
  const DescriptorHolders threads{.threads = true, .loops = false, .rings = false};
  const DescriptorHolders uring{.threads = false, .loops = true, .rings = true};
  for (const Case& c : {Case{threads, KernelCopy::automatic, 1, 10 + 64 + 2},
                        Case{uring, KernelCopy::automatic, 1, 10 + 64 + 4},
                        Case{uring, KernelCopy::off, 1, 10 + 64 + 2},
                        Case{uring, KernelCopy::automatic, 3, 10 + 64 + 12}}) {
    EngineOptions requested;
    requested.kernel_copy = c.kernel_copy;
    requested.loops = c.loops;
    const DescriptorBound refused =
        bound_by_descriptors(requested, 10, c.enough - 1, 10, c.holders);
    ASSERT_TRUE(refused.error) << c.enough;
    EXPECT_NE(refused.error.message().find(
                  fmt::format("raise it to at least {} with 'ulimit -n {}'", c.enough, c.enough)),
              std::string::npos)
        << refused.error.message();
    const DescriptorBound runs = bound_by_descriptors(requested, 10, c.enough, 10, c.holders);
    EXPECT_FALSE(runs.error) << runs.error.message();
    EXPECT_GE(runs.options.inflight, 1u);
  }
}

// ramfs reports no size at all (statvfs: 0 blocks): it grows until memory runs out, so the space
// check has nothing to refuse.
TEST(Preflight, AFileSystemWithoutASizeIsNotRefusedForItsBytes) {
  sys::FilesystemSpace ramfs;
  ramfs.available_bytes = -1;
  EXPECT_FALSE(check_space("/mnt/ramfs", {std::uint64_t{1} << 40, 10}, ramfs));
}

// "needs 2.0 MiB, 2.0 MiB free" would hide why: the exact bytes are given when the rounded
// figures read the same, and only then.
TEST(Preflight, GivesExactBytesWhenRoundingHidesTheShortfall) {
  sys::FilesystemSpace space;
  space.available_bytes = 2 * 1024 * 1024;
  const Error close = check_space("/small", {2 * 1024 * 1024 + 8192, 10}, space);
  ASSERT_TRUE(close);
  EXPECT_NE(close.message().find("the run needs 2.0 MiB (2105344 bytes) (the source files"),
            std::string::npos)
      << close.message();
  EXPECT_NE(close.message().find(", 2.0 MiB (2097152 bytes) free"), std::string::npos)
      << close.message();
  const Error far = check_space("/small", {3 * 1024 * 1024, 10}, space);
  EXPECT_EQ(far.message().find("bytes)"), std::string::npos) << far.message();
}

}  // namespace
}  // namespace ccopy
