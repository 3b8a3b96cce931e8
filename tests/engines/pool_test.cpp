// The thread pool the thread engines share (src/engines/blocking.hpp): how many threads a thread
// per file may run at once and how that reads in the output; WorkerPool, which runs its body on
// the calling thread first and on one more thread per grow(), up to its maximum; and what
// happens when the system refuses a thread (RLIMIT_NPROC or a seccomp filter, in a child
// process): the threads running finish the work, and the engines say so in a note.
#include <gtest/gtest.h>
#include <sched.h>
#ifdef CCOPY_HAVE_SECCOMP
#include <seccomp.h>
#endif

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "ccopy/engine.hpp"
#include "engines/blocking.hpp"
#include "in_child.hpp"
#include "scoped_fault.hpp"

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

// -workers N is the most threads the pool runs: the engines take files from the walk as it
// finds them, and grow() starts a thread only for a file that waits, so a tree of fewer files
// starts fewer.
TEST(ThreadPool, ExplicitWorkersAreTakenAsGiven) {
  EXPECT_EQ(worker_threads(with(8, 64 * 1024), 100), 8u);
  EXPECT_EQ(worker_threads(with(8, 64 * 1024), 3), 8u);
  EXPECT_EQ(worker_threads(with(2000, 64 * 1024), 10'000), 2000u);
}

TEST(ThreadPool, TheOutputSaysWhenTheBudgetBoundsAThreadPerFile) {
  EXPECT_EQ(describe_workers(with(0, 64 * 1024), 100), "a thread per waiting file");
  EXPECT_EQ(describe_workers(with(0, 64 * 1024), 10'000),
            "a thread per waiting file, at most 512 at once: 32.0 MiB of buffers");
  EXPECT_EQ(describe_workers(with(6, 64 * 1024), 100), "6 worker threads");
  EXPECT_EQ(describe_workers(with(6, 64 * 1024), 4), "6 worker threads");
  EXPECT_EQ(describe_workers(with(1, 64 * 1024), 4), "1 worker thread");
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

TEST(WorkerPool, RunsTheBodyOnTheCallingThreadAloneUntilItGrows) {
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> runs{0};
  bool on_caller = false;
  WorkerPool pool(8, 0, [&](Scratch&) {
    on_caller = std::this_thread::get_id() == caller;
    runs.fetch_add(1);
  });
  pool.run();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_TRUE(on_caller);
  EXPECT_EQ(pool.started(), 1u);
  EXPECT_FALSE(pool.refused()) << pool.refused().message();
}

// Work items taken from a shared counter, the pool growing whenever some are left: every item
// runs exactly once, on at most the maximum of threads, each with its own scratch buffer.
TEST(WorkerPool, RunsEveryItemExactlyOnce) {
  constexpr std::size_t kCount = 2000;
  std::vector<std::atomic<int>> runs(kCount);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> wrong_buffer{false};
  WorkerPool* self = nullptr;
  WorkerPool pool(64, 4096, [&](Scratch& scratch) {
    for (std::size_t i; (i = next.fetch_add(1)) < kCount;) {
      if (i + 1 < kCount) self->grow();
      if (scratch.buffer().size() != 4096) wrong_buffer = true;
      runs[i].fetch_add(1);
    }
  });
  self = &pool;
  pool.run();
  EXPECT_FALSE(wrong_buffer.load());
  EXPECT_GE(pool.started(), 1u);
  EXPECT_LE(pool.started(), 64u);
  for (std::size_t i = 0; i < kCount; ++i) ASSERT_EQ(runs[i].load(), 1) << "item " << i;
}

// Every body asks for ten more threads: grow() starts them only up to the maximum, so the body
// runs exactly that many times; after run() has returned, grow() starts nothing.
TEST(WorkerPool, GrowsOnlyUpToItsMaximum) {
  std::atomic<unsigned> bodies{0};
  WorkerPool* self = nullptr;
  WorkerPool pool(5, 0, [&](Scratch&) {
    bodies.fetch_add(1);
    for (int i = 0; i < 10; ++i) self->grow();
  });
  self = &pool;
  pool.run();
  EXPECT_EQ(bodies.load(), 5u);
  EXPECT_EQ(pool.started(), 5u);
  pool.grow();
  EXPECT_EQ(pool.started(), 5u);
  EXPECT_EQ(bodies.load(), 5u);
}

// Each body grows the pool, then blocks until every one of them has started: the pool must
// give each its own thread, or this never finishes (the wait gives up after a minute so that a
// broken pool fails instead of hanging the suite).
TEST(WorkerPool, StartsAThreadForEveryGrowWhileTheOthersWait) {
  constexpr unsigned kThreads = 6;
  std::mutex mutex;
  std::condition_variable all_in;
  unsigned entered = 0;
  bool gave_up = false;
  WorkerPool* self = nullptr;
  WorkerPool pool(kThreads, 0, [&](Scratch&) {
    self->grow();
    std::unique_lock lock(mutex);
    if (++entered == kThreads) all_in.notify_all();
    if (!all_in.wait_for(lock, std::chrono::minutes(1), [&] { return entered == kThreads; }))
      gave_up = true;
  });
  self = &pool;
  pool.run();
  EXPECT_FALSE(gave_up);
  EXPECT_EQ(pool.started(), kThreads);
}

// One body throws while others still run: run() waits for every one of them to end, then
// throws that exception again.
TEST(WorkerPool, RethrowsABodysExceptionOnceEveryBodyHasEnded) {
  std::atomic<unsigned> entered{0}, ended{0};
  std::atomic<bool> thrown{false};
  WorkerPool* self = nullptr;
  WorkerPool pool(3, 0, [&](Scratch&) {
    const unsigned me = entered.fetch_add(1);
    struct End {
      std::atomic<unsigned>& ended;
      ~End() { ended.fetch_add(1); }
    } end{ended};
    if (me == 0) {
      self->grow();
      self->grow();
      return;
    }
    if (me == 1) {
      thrown = true;
      throw std::runtime_error("body 1 failed");
    }
    // The last body is still working when the exception is thrown.
    while (!thrown.load()) std::this_thread::yield();
    for (int i = 0; i < 1000; ++i) std::this_thread::yield();
  });
  self = &pool;
  try {
    pool.run();
    ADD_FAILURE() << "run() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "body 1 failed");
    EXPECT_EQ(ended.load(), pool.started()) << "rethrown before every body ended";
  }
  EXPECT_EQ(pool.started(), 3u);
}

// With RLIMIT_NPROC at 1, no thread can start: the first refusal is kept (which thread, of how
// many, and why), no more are asked for, and the calling thread does all the work.
TEST(WorkerPool, ARefusedThreadLeavesTheWorkToTheThreadsRunning) {
  testing::TestDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string answer = testing::in_child([&]() -> std::string {
    if (std::string e = testing::refuse_threads(dir.path()); !e.empty()) return e;
    constexpr std::size_t kCount = 100;
    std::vector<int> runs(kCount, 0);
    std::atomic<std::size_t> next{0};
    WorkerPool* self = nullptr;
    WorkerPool pool(8, 0, [&](Scratch&) {
      for (std::size_t i; (i = next.fetch_add(1)) < kCount;) {
        self->grow();
        ++runs[i];
      }
    });
    self = &pool;
    pool.run();
    for (std::size_t i = 0; i < kCount; ++i)
      if (runs[i] != 1) return "item " + std::to_string(i) + " ran " + std::to_string(runs[i]);
    if (pool.started() != 1) return "started " + std::to_string(pool.started());
    const Error refused = pool.refused();
    if (refused.code != EAGAIN) return "refused: '" + refused.message() + "'";
    if (refused.message() !=
        "start thread 2 of 8 (continued with 1): Resource temporarily unavailable")
      return "refused: '" + refused.message() + "'";
    return {};
  });
  if (testing::is_skip(answer)) GTEST_SKIP() << answer;
  EXPECT_EQ(answer, "");
}

#ifdef CCOPY_HAVE_SECCOMP
// In a child: a seccomp filter makes every clone3, and every clone of a thread, fail with
// EAGAIN, as the system answers when it has no thread to give. Unlike RLIMIT_NPROC it leaves
// the kernel's own threads alone: io_uring's workers (io-wq) count against RLIMIT_NPROC, and
// with it at 1 every operation handed to them completes with -ECANCELED (UringRequeue's case).
std::string deny_threads_by_seccomp() {
  scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
  if (filter == nullptr) return std::string(testing::kSkipPrefix) + "seccomp_init failed";
  int rc = seccomp_rule_add(filter, SCMP_ACT_ERRNO(EAGAIN), SCMP_SYS(clone3), 0);
  if (rc == 0)
    rc = seccomp_rule_add(filter, SCMP_ACT_ERRNO(EAGAIN), SCMP_SYS(clone), 1,
                          SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
  if (rc == 0) rc = seccomp_load(filter);
  seccomp_release(filter);
  if (rc != 0)
    return std::string(testing::kSkipPrefix) +
           "cannot install a seccomp filter here: " + std::strerror(-rc);
  pthread_t probe;
  rc = ::pthread_create(
      &probe, nullptr, [](void*) -> void* { return nullptr; }, nullptr);
  if (rc == 0) {
    ::pthread_join(probe, nullptr);
    return std::string(testing::kSkipPrefix) + "the seccomp filter does not refuse threads";
  }
  return rc == EAGAIN ? "" : std::string("the probe thread failed: ") + std::strerror(rc);
}
#endif

// The engines built on WorkerPool, under the same refusal: the thread engines copy every file on
// the calling thread, the io_uring engine runs its first loop alone; each says so in a note.
enum class Refusal : std::uint8_t { nproc, seccomp };

struct RefusalCase {
  std::string engine;
  unsigned loops = 1;
  Refusal refusal = Refusal::nproc;
  std::string note;
};

void PrintTo(const RefusalCase& c, std::ostream* os) { *os << c.engine; }

// Makes the system refuse threads in this child the case's way.
std::string refuse_threads(const RefusalCase& c, const std::string& home) {
  if (c.refusal == Refusal::nproc) return testing::refuse_threads(home);
#ifdef CCOPY_HAVE_SECCOMP
  return deny_threads_by_seccomp();
#else
  return std::string(testing::kSkipPrefix) + "built without libseccomp";
#endif
}

class ThreadsRefused : public ::testing::TestWithParam<RefusalCase> {};

TEST_P(ThreadsRefused, TheCopyGoesOnWithTheThreadsRunningAndSaysSo) {
  const EngineInfo* info = find_engine(GetParam().engine);
  ASSERT_NE(info, nullptr);
  if (const Availability a = info->probe(); !a.available)
    GTEST_SKIP() << GetParam().engine << " cannot run here: " << a.reason;
  const testing::TreeFixture tree(20, 100'000);
  ASSERT_TRUE(tree.ok()) << tree.error();
  const std::unique_ptr<Engine> engine = info->make();
  const std::string answer = testing::in_child([&]() -> std::string {
    if (std::string e = refuse_threads(GetParam(), tree.directory()); !e.empty()) return e;
    EngineOptions options;
    options.loops = GetParam().loops;
    const CopyResult result = tree.copy(*engine, options);
    if (!result.ok()) return "the copy failed: " + testing::first_error(result);
    if (result.copied.files != 20) return std::to_string(result.copied.files) + " files copied";
    if (!testing::has_note(result, GetParam().note)) {
      std::string notes;
      for (const std::string& n : result.notes) notes += "'" + n + "' ";
      return "no note '" + GetParam().note + "' among: " + notes;
    }
    return {};
  });
  if (testing::is_skip(answer)) GTEST_SKIP() << answer;
  EXPECT_EQ(answer, "");
  const VerifyResult verdict = tree.verify();
  EXPECT_TRUE(verdict.ok()) << verdict.first;
}

INSTANTIATE_TEST_SUITE_P(
    Engines, ThreadsRefused,
    ::testing::Values(
        RefusalCase{"threads", 1, Refusal::nproc,
                    "the system refused a thread: start thread 2 of 512 (continued with 1): "
                    "Resource temporarily unavailable"},
        RefusalCase{"kernel", 1, Refusal::nproc,
                    "the system refused a thread: start thread 2 of 512 (continued with 1): "
                    "Resource temporarily unavailable"},
        RefusalCase{"uring", 3, Refusal::seccomp,
                    "the system refused a loop's thread: start thread 2 of 3 (continued with "
                    "1): Resource temporarily unavailable"}),
    [](const auto& param_info) { return param_info.param.engine; });

}  // namespace
}  // namespace ccopy::engines
