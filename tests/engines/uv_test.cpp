// The uv engine's own behaviour: the size of libuv's thread pool (fixed once per process),
// faults injected into the completions that come back to the loop, and cancellation, on the
// read/write path (-kernel-copy off) and the uv_fs_sendfile path (on, and auto).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <uv.h>

#include <regex>

#include "ccopy/engine.hpp"
#include "ccopy/verify.hpp"
#include "scoped_fault.hpp"

namespace ccopy {
namespace {

using testing::GeneratedFiles;
using testing::ScopedFault;

std::unique_ptr<Engine> uv_engine() { return find_engine("uv")->make(); }

// Counts open descriptors once libuv has opened those it keeps for the life of the process
// (its signal pipe, made at the first loop's start).
std::size_t descriptors_after_libuv_started() {
  uv_loop_t loop;
  if (uv_loop_init(&loop) == 0) (void)uv_loop_close(&loop);
  return testing::open_descriptors();
}

unsigned pool_in(const std::string& description) {
  std::smatch m;
  if (!std::regex_search(description, m, std::regex("([0-9]+)-thread pool"))) return 0;
  return static_cast<unsigned>(std::stoul(m[1].str()));
}

TEST(UvEngine, KeepsThePoolLibuvStartedAndSaysSoWhenAskedForAnother) {
  GeneratedFiles files(3, 1000);
  ASSERT_TRUE(files.ok());
  const std::unique_ptr<Engine> engine = uv_engine();
  // After one run the pool exists, whatever size this process gave it first.
  ASSERT_FALSE(engine->copy(files.jobs(), {}).first_error());
  ASSERT_TRUE(files.reset());
  const unsigned running = pool_in(engine->describe({}, 3));
  ASSERT_GT(running, 0u);

  EngineOptions other;
  other.pool = running + 1;
  EXPECT_EQ(pool_in(engine->describe(other, 3)), running) << "describe() says the pool in use";
  const CopyReport report = engine->copy(files.jobs(), other);
  EXPECT_FALSE(report.first_error()) << report.first_error().message();
  ASSERT_EQ(report.notes.size(), 1u);
  EXPECT_NE(report.notes[0].find(fmt::format("-pool {} could not change it", running + 1)),
            std::string::npos)
      << report.notes[0];

  ASSERT_TRUE(files.reset());
  EngineOptions same;
  same.pool = running;
  EXPECT_TRUE(engine->copy(files.jobs(), same).notes.empty());
}

TEST(UvEngine, ResumesShortTransfersAndRetriesEintrAndEagain) {
  GeneratedFiles files(6, 150'001);
  ASSERT_TRUE(files.ok());
  std::atomic<int> calls{0};
  const ScopedFault fault([&](sys::Op op, long result) {
    if ((op != sys::Op::read && op != sys::Op::write) || result <= 0) return result;
    const int n = ++calls;
    if (n % 5 == 0) return long{-EINTR};
    if (n % 5 == 1) return long{-EAGAIN};
    return std::max(1L, result / 3);
  });
  EngineOptions options;
  options.kernel_copy = KernelCopy::off;
  options.inflight = 3;
  const CopyReport report = uv_engine()->copy(files.jobs(), options);
  ASSERT_FALSE(report.first_error()) << report.first_error().message();
  for (const FileOutcome& f : report.files) EXPECT_EQ(f.bytes, 150'001u);
  const VerifyReport verdict = verify_copies(files.jobs());
  EXPECT_TRUE(verdict.ok()) << verdict.first_error().message();
  EXPECT_GT(calls.load(), 40);
}

TEST(UvEngine, ReportsAFailedWriteAndClosesBothEnds) {
  GeneratedFiles files(4, 70'000);
  ASSERT_TRUE(files.ok());
  const std::size_t before = descriptors_after_libuv_started();
  std::atomic<int> writes{0};
  const ScopedFault fault([&](sys::Op op, long result) {
    // Each file takes two writes: the third is the first of the second file.
    return op == sys::Op::write && ++writes == 3 ? long{-ENOSPC} : result;
  });
  EngineOptions options;
  options.kernel_copy = KernelCopy::off;
  options.inflight = 1;
  const CopyReport report = uv_engine()->copy(files.jobs(), options);
  EXPECT_EQ(testing::open_descriptors(), before);
  ASSERT_EQ(report.failed_count(), 1u);
  EXPECT_EQ(report.files[1].error.code, ENOSPC);
  EXPECT_NE(report.files[1].error.message().find("write " + files.jobs()[1].destination),
            std::string::npos)
      << report.files[1].error.message();
}

TEST(UvEngine, CancelledMidRunStopsStartingAndClosesEveryDescriptor) {
  GeneratedFiles files(40, 50'000);
  ASSERT_TRUE(files.ok());
  const std::size_t before = descriptors_after_libuv_started();
  std::atomic<bool> cancel{false};
  std::atomic<int> writes{0};
  const ScopedFault fault([&](sys::Op op, long result) {
    if (op == sys::Op::write && ++writes == 3) cancel = true;
    return result;
  });
  EngineOptions options;
  options.kernel_copy = KernelCopy::off;
  options.inflight = 4;
  options.chunk = 4096;
  options.cancel = &cancel;
  const CopyReport report = uv_engine()->copy(files.jobs(), options);
  EXPECT_TRUE(report.cancelled);
  EXPECT_EQ(testing::open_descriptors(), before);
  std::size_t untouched = 0;
  for (std::size_t i = 0; i < report.files.size(); ++i) {
    const FileOutcome& f = report.files[i];
    if (!f.attempted) {
      ++untouched;
    } else if (!f.error) {
      EXPECT_EQ(f.bytes, files.jobs()[i].size);
    } else {
      EXPECT_EQ(f.error.code, ECANCELED) << f.error.message();
    }
  }
  EXPECT_EQ(untouched, 36u) << "only the first four files had started";
}

TEST(UvEngine, SaysWhichCopyPathRuns) {
  EngineOptions options;
  options.kernel_copy = KernelCopy::off;
  EXPECT_NE(uv_engine()->describe(options, 5).find("uv_fs_read and uv_fs_write"),
            std::string::npos);
  for (const KernelCopy mode : {KernelCopy::on, KernelCopy::automatic}) {
    options.kernel_copy = mode;
    EXPECT_NE(uv_engine()->describe(options, 5).find("uv_fs_sendfile (copy_file_range)"),
              std::string::npos);
  }
}

// A file larger than one sendfile request (16 MiB) takes several, each resuming where the
// last one ended; no read or write is needed.
TEST(UvEngine, SendsALargeFileInSeveralPieces) {
  GeneratedFiles files(1, (std::uint64_t{33} << 20) + 5);
  ASSERT_TRUE(files.ok());
  std::atomic<int> pieces{0};
  std::atomic<int> reads{0};
  EngineOptions options;
  options.kernel_copy = KernelCopy::on;
  CopyReport report;
  {
    const ScopedFault fault([&](sys::Op op, long result) {
      if (op == sys::Op::copy_range && result > 0) ++pieces;
      if (op == sys::Op::read || op == sys::Op::write) ++reads;
      return result;
    });
    report = uv_engine()->copy(files.jobs(), options);
  }
  ASSERT_FALSE(report.first_error()) << report.first_error().message();
  EXPECT_EQ(report.files[0].bytes, files.jobs()[0].size);
  EXPECT_TRUE(verify_copies(files.jobs()).ok());
  EXPECT_GE(pieces.load(), 3);
  EXPECT_EQ(reads.load(), 0);
  EXPECT_TRUE(report.notes.empty());
}

TEST(UvEngine, ReportsAFailedSendfileAndClosesBothEnds) {
  GeneratedFiles files(4, 70'000);
  ASSERT_TRUE(files.ok());
  const std::size_t before = descriptors_after_libuv_started();
  std::atomic<int> sends{0};
  const ScopedFault fault([&](sys::Op op, long result) {
    // One request per file: the second is the second file's.
    return op == sys::Op::copy_range && ++sends == 2 ? long{-ENOSPC} : result;
  });
  EngineOptions options;
  options.kernel_copy = KernelCopy::on;
  options.inflight = 1;
  const CopyReport report = uv_engine()->copy(files.jobs(), options);
  EXPECT_EQ(testing::open_descriptors(), before);
  ASSERT_EQ(report.failed_count(), 1u);
  EXPECT_EQ(report.files[1].error.code, ENOSPC);
  EXPECT_NE(report.files[1].error.message().find(fmt::format(
                "sendfile {} to {}", files.jobs()[1].source, files.jobs()[1].destination)),
            std::string::npos)
      << report.files[1].error.message();
  EXPECT_LT(report.files[1].bytes, files.jobs()[1].size);
  for (const std::size_t i : {std::size_t{0}, std::size_t{2}, std::size_t{3}})
    EXPECT_TRUE(verify_copy(files.jobs()[i]).ok());
}

// Cancelled at the first piece of a file three pieces long: the file stops with ECANCELED
// before the next piece, and no later file starts.
TEST(UvEngine, CancelledMidSendfileStopsAtTheNextPieceAndClosesEveryDescriptor) {
  GeneratedFiles files(3, std::uint64_t{40} << 20);
  ASSERT_TRUE(files.ok());
  const std::size_t before = descriptors_after_libuv_started();
  std::atomic<bool> cancel{false};
  const ScopedFault fault([&](sys::Op op, long result) {
    if (op == sys::Op::copy_range) cancel = true;
    return result;
  });
  EngineOptions options;
  options.kernel_copy = KernelCopy::on;
  options.inflight = 1;
  options.cancel = &cancel;
  const CopyReport report = uv_engine()->copy(files.jobs(), options);
  EXPECT_TRUE(report.cancelled);
  EXPECT_EQ(testing::open_descriptors(), before);
  ASSERT_TRUE(report.files[0].error);
  EXPECT_EQ(report.files[0].error.code, ECANCELED) << report.files[0].error.message();
  EXPECT_GT(report.files[0].bytes, 0u);
  EXPECT_LT(report.files[0].bytes, files.jobs()[0].size);
  EXPECT_FALSE(report.files[1].attempted);
  EXPECT_FALSE(report.files[2].attempted);
}

}  // namespace
}  // namespace ccopy
