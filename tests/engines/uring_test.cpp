// The uring engine's splice path (-kernel-copy): faults the fault seam injects into splice
// completions, where a pipe may hold more or less than a result says; a file system's refusal
// of splice; what describe() says about the path that runs; and the resubmission of what
// io_uring cancelled before it ran.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "ccopy/engine.hpp"
#include "scoped_fault.hpp"

namespace ccopy {
namespace {

using testing::ScopedFault;
using testing::TreeFixture;

std::unique_ptr<Engine> uring_or_skip() {
  const EngineInfo* info = find_engine("uring");
  if (info == nullptr || !info->probe().available) return nullptr;
  return info->make();
}

EngineOptions splicing() {
  EngineOptions options;
  options.kernel_copy = KernelCopy::on;
  return options;
}

std::string file_name(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

// With a 65535-byte chunk every splice but a file's first starts off a page boundary, so the
// kernel's splice-in fills the 1 MiB pipe short of what was asked and cancels the linked
// splice-out. The seam then halves each splice-in's result: the pipe holds more than the
// result says, and the engine must believe the pipe.
TEST(UringSplice, BelievesThePipeWhenASpliceInReportsLessThanItHolds) {
  const std::unique_ptr<Engine> engine = uring_or_skip();
  if (!engine) GTEST_SKIP() << "io_uring cannot run here";
  const TreeFixture tree(3, 3 * 1024 * 1024 + 7);
  ASSERT_TRUE(tree.ok()) << tree.error();
  std::atomic<unsigned> halved{0};
  std::atomic<unsigned> cancelled_by_kernel{0};
  EngineOptions options = splicing();
  options.chunk = 65535;
  const std::size_t descriptors = testing::open_descriptors();
  CopyResult result;
  {
    const ScopedFault fault([&](sys::Op op, long res) {
      if (op == sys::Op::splice_out && res == -ECANCELED) ++cancelled_by_kernel;
      if (op != sys::Op::splice_in || res <= 1) return res;
      ++halved;
      return res / 2;
    });
    result = tree.copy(*engine, options);
  }
  EXPECT_GT(halved.load(), 0u);
  EXPECT_EQ(testing::open_descriptors(), descriptors) << "a pipe or a file was left open";
  testing::expect_whole_copy(tree, result);
  // With large folios in the page cache a pipe slot holds more than a page, and the kernel
  // may fill every splice: then the pipe never held more than a result said.
  if (cancelled_by_kernel.load() == 0)
    GTEST_SKIP() << "no splice-in came back short by itself here (large folios?): the copy "
                    "verified, but the case this test is about did not happen";
}

// Every splice-out reports half of what it moved: the pipe is emptier than the engine thinks,
// and it must splice the rest again from the source rather than wait on an empty pipe.
TEST(UringSplice, SplicesAgainWhenASpliceOutReportsLessThanItMoved) {
  const std::unique_ptr<Engine> engine = uring_or_skip();
  if (!engine) GTEST_SKIP() << "io_uring cannot run here";
  const TreeFixture tree(4, 2 * 1024 * 1024 + 3);
  ASSERT_TRUE(tree.ok()) << tree.error();
  std::atomic<unsigned> halved{0};
  CopyResult result;
  {
    const ScopedFault fault([&](sys::Op op, long res) {
      if (op != sys::Op::splice_out || res <= 1) return res;
      ++halved;
      return res / 2;
    });
    result = tree.copy(*engine, splicing());
  }
  EXPECT_GT(halved.load(), 0u);
  testing::expect_whole_copy(tree, result);
}

// -EIO on one splice-out fails that file alone, named by its source and its destination; its
// pipe is emptied before another file uses it, so every other file still verifies; nothing of
// the failed file is left, and nothing stays open.
TEST(UringSplice, AnIoErrorOnASpliceOutFailsThatFileAlone) {
  const std::unique_ptr<Engine> engine = uring_or_skip();
  if (!engine) GTEST_SKIP() << "io_uring cannot run here";
  const TreeFixture tree(6, 3 * 1024 * 1024 + 11);
  ASSERT_TRUE(tree.ok()) << tree.error();
  std::atomic<unsigned> outs{0};
  EngineOptions options = splicing();
  options.inflight = 2;
  const std::size_t descriptors = testing::open_descriptors();
  CopyResult result;
  {
    const ScopedFault fault([&](sys::Op op, long res) {
      if (op == sys::Op::splice_out && ++outs == 3) return long{-EIO};
      return res;
    });
    result = tree.copy(*engine, options);
  }
  EXPECT_EQ(testing::open_descriptors(), descriptors) << "a pipe or a file was left open";
  ASSERT_EQ(result.failed, 1u) << testing::first_error(result);
  ASSERT_EQ(result.errors.size(), 1u);
  const CopyError& e = result.errors[0];
  EXPECT_EQ(e.code, EIO);
  EXPECT_EQ(e.operation, "splice to");
  EXPECT_EQ(e.path.rfind(tree.source() + "/file_", 0), 0u) << e.path;
  EXPECT_EQ(e.destination, tree.destination() + "/" + file_name(e.path));
  EXPECT_FALSE(std::filesystem::exists(e.destination)) << "the failed file was left in the copy";
  EXPECT_EQ(result.copied.files, 5u);
  EXPECT_EQ(testing::expect_only_complete_files(tree), 5u);
}

// A source that ends before the size its statx gave (truncated once its destination exists):
// the splice-in reports 0 early, and the error is the read path's, naming the first missing
// byte; nothing of the file is left.
TEST(UringSplice, ASourceShorterThanPlannedNamesTheFirstMissingByte) {
  const std::unique_ptr<Engine> engine = uring_or_skip();
  if (!engine) GTEST_SKIP() << "io_uring cannot run here";
  const TreeFixture tree(1, 5'000'000);
  ASSERT_TRUE(tree.ok()) << tree.error();
  const std::string source = tree.source() + "/file_000000";
  std::atomic<bool> truncated{false};
  CopyResult result;
  {
    const ScopedFault fault([&](sys::Op op, long res) {
      if (op == sys::Op::create_destination && res >= 0 && !truncated.exchange(true))
        (void)::truncate(source.c_str(), 1'500'000);
      return res;
    });
    result = tree.copy(*engine, splicing());
  }
  ASSERT_TRUE(truncated.load());
  ASSERT_EQ(result.failed, 1u);
  EXPECT_EQ(result.errors[0].path, source);
  EXPECT_NE(result.errors[0].detail.find("ended at byte 1500000, expected 5000000"),
            std::string::npos)
      << result.errors[0].reason();
  EXPECT_EQ(testing::entries_in(tree.destination()), 0u);
}

// A file system without splice answers EINVAL: the run falls back to read and write, says so
// in a note, and every file still verifies, the one whose splice was refused included.
TEST(UringSplice, FallsBackToReadAndWriteWhenSpliceIsRefused) {
  const std::unique_ptr<Engine> engine = uring_or_skip();
  if (!engine) GTEST_SKIP() << "io_uring cannot run here";
  const TreeFixture tree(5, 1024 * 1024 + 5);
  ASSERT_TRUE(tree.ok()) << tree.error();
  std::atomic<unsigned> splices{0};
  std::atomic<unsigned> reads{0};
  EngineOptions options = splicing();
  options.inflight = 1;  // one chunk at a time: the files after the refusal start after it
  CopyResult result;
  {
    // The refused splice-out did run: the chunk must read again what its pipe no longer has.
    const ScopedFault fault([&](sys::Op op, long res) {
      if (op == sys::Op::read) ++reads;
      if (op == sys::Op::splice_out && ++splices == 2) return long{-EINVAL};
      return res;
    });
    result = tree.copy(*engine, options);
  }
  testing::expect_whole_copy(tree, result);
  EXPECT_GT(reads.load(), 0u) << "nothing was read after the refusal";
  ASSERT_EQ(result.notes.size(), 1u) << ::testing::PrintToString(result.notes);
  EXPECT_NE(result.notes[0].find("splice refused (Invalid argument)"), std::string::npos)
      << result.notes[0];
}

TEST(UringSplice, DescribesWhichPathRuns) {
  const std::unique_ptr<Engine> engine = uring_or_skip();
  if (!engine) GTEST_SKIP() << "io_uring cannot run here";
  EngineOptions options;
  options.kernel_copy = KernelCopy::off;
  EXPECT_EQ(engine->describe(options, 50).find("splice"), std::string::npos);
  options.kernel_copy = KernelCopy::on;
  EXPECT_NE(engine->describe(options, 50).find("pipes of 1 MiB for every file"), std::string::npos)
      << engine->describe(options, 50);
  options.kernel_copy = KernelCopy::automatic;
  EXPECT_NE(engine->describe(options, 50).find("pipes of 1 MiB for files of "), std::string::npos)
      << engine->describe(options, 50);
}

bool transfers(sys::Op op) {
  return op == sys::Op::read || op == sys::Op::write || op == sys::Op::splice_in ||
         op == sys::Op::splice_out;
}

// io_uring completes with -ECANCELED what it queued for a kernel worker it could not start
// (its creation interrupted by signals). Every third transfer coming back that way, on both
// copy paths (every second would always hit the same half of each linked pair): each is
// submitted again, and every copy verifies.
TEST(UringRequeue, SubmitsAgainWhatIoUringCancelledBeforeItRan) {
  const std::unique_ptr<Engine> engine = uring_or_skip();
  if (!engine) GTEST_SKIP() << "io_uring cannot run here";
  for (const KernelCopy path : {KernelCopy::on, KernelCopy::off}) {
    SCOPED_TRACE(kernel_copy_name(path));
    const TreeFixture tree(12, 300'007);
    ASSERT_TRUE(tree.ok()) << tree.error();
    std::atomic<unsigned> calls{0}, cancelled{0};
    EngineOptions options;
    options.kernel_copy = path;
    const std::size_t descriptors = testing::open_descriptors();
    CopyResult result;
    {
      const ScopedFault fault([&](sys::Op op, long res) {
        if (!transfers(op) || calls++ % 3 != 2) return res;
        ++cancelled;
        return long{-ECANCELED};
      });
      result = tree.copy(*engine, options);
    }
    EXPECT_GT(cancelled.load(), 4u);
    EXPECT_EQ(testing::open_descriptors(), descriptors);
    testing::expect_whole_copy(tree, result);
  }
}

// A cancellation that never stops is not retried for ever: each file gives up after its budget
// of resubmissions and fails with ECANCELED, named, and nothing stays open or is left behind.
TEST(UringRequeue, ACancellationThatNeverStopsFailsEachFileByName) {
  const std::unique_ptr<Engine> engine = uring_or_skip();
  if (!engine) GTEST_SKIP() << "io_uring cannot run here";
  for (const KernelCopy path : {KernelCopy::on, KernelCopy::off}) {
    SCOPED_TRACE(kernel_copy_name(path));
    const TreeFixture tree(5, 100'000);
    ASSERT_TRUE(tree.ok()) << tree.error();
    EngineOptions options;
    options.kernel_copy = path;
    const std::size_t descriptors = testing::open_descriptors();
    CopyResult result;
    {
      const ScopedFault fault(
          [&](sys::Op op, long res) { return transfers(op) ? long{-ECANCELED} : res; });
      result = tree.copy(*engine, options);
    }
    EXPECT_EQ(testing::open_descriptors(), descriptors);
    EXPECT_FALSE(result.cancelled);
    ASSERT_EQ(result.failed, 5u) << testing::first_error(result);
    ASSERT_EQ(result.errors.size(), 5u);
    std::set<std::string> named;
    for (const CopyError& e : result.errors) {
      EXPECT_EQ(e.code, ECANCELED) << e.reason();
      EXPECT_EQ(e.path.rfind(tree.source() + "/file_", 0), 0u) << e.path;
      named.insert(e.path);
    }
    EXPECT_EQ(named.size(), 5u) << "a file was named twice";
    EXPECT_EQ(result.copied.files, 0u);
    EXPECT_EQ(testing::entries_in(tree.destination()), 0u);
  }
}

}  // namespace
}  // namespace ccopy
