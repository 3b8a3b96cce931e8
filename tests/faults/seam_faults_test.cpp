// Faults injected through the syscall seam (sys::set_fault_hook), on every engine: short
// reads and writes and EINTR must not change a single byte of the copies; an unexpected error
// (-EIO, -ECANCELED, as an io_uring completion or a blocking call returns it) must reach the
// caller as that file's error, leave every other file's result honest, and leak nothing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/time.h>

#include <atomic>

#include "ccopy/verify.hpp"
#include "fault_support.hpp"

namespace ccopy {
namespace {

using testing::ScopedFaultHook;

// Shortens every second data transfer to half its length (at least one byte), and turns
// every third one into EINTR after it happened: the engine must redo the same range.
struct ShortAndInterrupted {
  std::atomic<unsigned long> calls{0};
  std::atomic<unsigned long> shortened{0};
  std::atomic<unsigned long> interrupted{0};
  bool shorten = true;
  bool interrupt = true;

  static long hook(sys::Op op, long result, void* context) {
    auto& self = *static_cast<ShortAndInterrupted*>(context);
    if (!testing::moves_data(op) || result <= 0) return result;
    const unsigned long n = self.calls.fetch_add(1, std::memory_order_relaxed);
    if (self.interrupt && n % 3 == 2) {
      self.interrupted.fetch_add(1, std::memory_order_relaxed);
      return -EINTR;
    }
    if (self.shorten && n % 2 == 1 && result > 1) {
      self.shortened.fetch_add(1, std::memory_order_relaxed);
      return result / 2;
    }
    return result;
  }
};

// Fails exactly one data transfer, the `which`-th, with `-error`.
struct FailOnce {
  int error = EIO;
  unsigned long which = 3;
  std::atomic<unsigned long> calls{0};

  static long hook(sys::Op op, long result, void* context) {
    auto& self = *static_cast<FailOnce*>(context);
    if (!testing::moves_data(op)) return result;
    if (self.calls.fetch_add(1, std::memory_order_relaxed) == self.which) return -self.error;
    return result;
  }
};

class SeamFaults : public ::testing::TestWithParam<std::string>,
                   protected testing::EngineUnderFaults {
 protected:
  void SetUp() override { start(GetParam(), 7); }

  // Copies 12 files with `hook` installed and checks every file copied and verified.
  void expect_verified_copies(sys::FaultHook hook, void* context, const EngineOptions& options) {
    (void)EngineUnderFaults::expect_verified_copies(generate(12, 200'003), hook, context, options);
  }

  // Fails one transfer with `error` and checks that exactly that file failed, by name and
  // errno text, and every other file copied and verified.
  void expect_one_named_failure(int error) {
    const std::vector<CopyJob> jobs = generate(8, 300'000);
    FailOnce fail;
    fail.error = error;
    const long fds_before = testing::open_descriptors();
    CopyReport report;
    {
      ScopedFaultHook faults(FailOnce::hook, &fail);
      report = engine_->copy(jobs, {});
    }
    EXPECT_EQ(testing::open_descriptors(), fds_before) << "descriptors leaked";
    ASSERT_GT(fail.calls.load(), fail.which) << "the fault was never injected";
    ASSERT_EQ(report.failed_count(), 1u) << report.first_error().message();
    EXPECT_FALSE(report.engine_error) << report.engine_error.message();
    EXPECT_FALSE(report.cancelled);
    const std::string text = sys::error_text(error);
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      const FileOutcome& f = report.files[i];
      if (f.error) {
        EXPECT_EQ(f.error.code, error);
        const std::string message = f.error.message();
        EXPECT_NE(message.find(text), std::string::npos) << message;
        EXPECT_TRUE(message.find(jobs[i].source) != std::string::npos ||
                    message.find(jobs[i].destination) != std::string::npos)
            << message;
        EXPECT_LT(f.bytes, jobs[i].size) << "a failed file counted as fully copied";
      } else {
        EXPECT_EQ(f.bytes, jobs[i].size);
        EXPECT_TRUE(verify_copy(jobs[i]).ok()) << jobs[i].destination;
      }
    }
  }
};

TEST_P(SeamFaults, ShortReadsAndWritesStillVerify) {
  ShortAndInterrupted faults;
  faults.interrupt = false;
  expect_verified_copies(ShortAndInterrupted::hook, &faults, {});
  EXPECT_GT(faults.shortened.load(), 0u);
}

TEST_P(SeamFaults, EintrStillVerifies) {
  ShortAndInterrupted faults;
  faults.shorten = false;
  expect_verified_copies(ShortAndInterrupted::hook, &faults, {});
  EXPECT_GT(faults.interrupted.load(), 0u);
}

TEST_P(SeamFaults, ShortTransfersAndEintrWithAnOddChunkAndOneWorker) {
  ShortAndInterrupted faults;
  EngineOptions options;
  options.chunk = 4099;
  options.workers = 1;
  options.inflight = 1;
  expect_verified_copies(ShortAndInterrupted::hook, &faults, options);
  EXPECT_GT(faults.shortened.load(), 0u);
  EXPECT_GT(faults.interrupted.load(), 0u);
}

TEST_P(SeamFaults, AnIoErrorNamesTheFile) { expect_one_named_failure(EIO); }

// -ECANCELED from a blocking call, or from libuv, is an error like any other. io_uring returns
// it for operations it cancelled before they ran (when it cannot start a kernel worker), so the
// uring engine submits such an operation again: one cancellation costs nothing, and
// tests/engines/uring_test.cpp checks that one that never stops fails the file by name.
TEST_P(SeamFaults, AnUnexpectedCancellationNamesTheFile) {
  if (GetParam() != "uring") return expect_one_named_failure(ECANCELED);
  FailOnce fail;
  fail.error = ECANCELED;
  expect_verified_copies(FailOnce::hook, &fail, {});
  EXPECT_GT(fail.calls.load(), fail.which) << "the fault was never injected";
}

// Sets the cancel flag as the engine opens a file, at the `at`-th open, so that cancellation
// lands mid-copy at the same point on every run, between a file's opening and its first byte
// (where an event loop can forget to mark the file as not copied).
struct CancelMidCopy {
  std::atomic<bool> cancel{false};
  std::atomic<unsigned long> calls{0};
  unsigned long at = 30;
  static long hook(sys::Op op, long result, void* context) {
    auto& self = *static_cast<CancelMidCopy*>(context);
    const bool opens = op == sys::Op::open_source || op == sys::Op::create_destination;
    if (opens && self.calls.fetch_add(1) == self.at) self.cancel = true;
    return result;
  }
};

TEST_P(SeamFaults, CancellationMidCopyCountsNoUnfinishedFileAsCopied) {
  const std::vector<CopyJob> jobs = generate(40, 300'000);
  CancelMidCopy trigger;
  EngineOptions options;
  options.cancel = &trigger.cancel;
  const long fds_before = testing::open_descriptors();
  CopyReport report;
  {
    ScopedFaultHook faults(CancelMidCopy::hook, &trigger);
    report = engine_->copy(jobs, options);
  }
  ASSERT_TRUE(trigger.cancel.load()) << "the copy ended before the cancellation point";
  EXPECT_TRUE(report.cancelled);
  EXPECT_EQ(testing::open_descriptors(), fds_before) << "descriptors leaked";
  std::size_t unfinished = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const FileOutcome& f = report.files[i];
    if (!f.attempted || f.error) {
      ++unfinished;
      continue;
    }
    EXPECT_EQ(f.bytes, jobs[i].size) << jobs[i].source;
    EXPECT_TRUE(verify_copy(jobs[i]).ok()) << jobs[i].destination << " reported copied";
  }
  EXPECT_GT(unfinished, 0u);
}

// A real storm: SIGALRM every millisecond, with a handler installed without SA_RESTART, so
// that blocking calls, io_uring_enter and epoll_wait all see EINTR while the copy runs.
std::atomic<unsigned long> g_alarms{0};
extern "C" void count_alarm(int) { g_alarms.fetch_add(1, std::memory_order_relaxed); }

TEST_P(SeamFaults, SurvivesASignalStorm) {
  const std::vector<CopyJob> jobs = generate(200, 256 * 1024);
  struct sigaction action {};
  action.sa_handler = count_alarm;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: interrupted calls fail with EINTR
  struct sigaction previous {};
  ASSERT_EQ(::sigaction(SIGALRM, &action, &previous), 0);
  const itimerval every_ms{{0, 1000}, {0, 1000}};
  ASSERT_EQ(::setitimer(ITIMER_REAL, &every_ms, nullptr), 0);
  const unsigned long alarms_before = g_alarms.load();
  CopyReport report;
  for (int pass = 0; pass < 3 && !report.first_error(); ++pass) {
    ASSERT_FALSE(workspace_.reset_destination());
    report = engine_->copy(jobs, {});
  }
  const itimerval off{};
  ::setitimer(ITIMER_REAL, &off, nullptr);
  ::sigaction(SIGALRM, &previous, nullptr);
  EXPECT_GT(g_alarms.load(), alarms_before) << "no signal arrived during the copy";
  ASSERT_FALSE(report.first_error()) << report.first_error().message();
  const VerifyReport verdict = verify_copies(jobs);
  EXPECT_TRUE(verdict.ok()) << verdict.first_error().message();
}

INSTANTIATE_TEST_SUITE_P(Every, SeamFaults, ::testing::ValuesIn(testing::every_engine()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace ccopy
