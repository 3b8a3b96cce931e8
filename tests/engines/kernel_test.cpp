// The kernel engine's own behaviour: how it falls back from FICLONE and copy_file_range, what
// it remembers, and that a fallback in the middle of a file resumes where the kernel stopped.
#include <gtest/gtest.h>

#include <algorithm>

#include "ccopy/engine.hpp"
#include "scoped_fault.hpp"

namespace ccopy {
namespace {

using testing::has_note;
using testing::ScopedFault;
using testing::TreeFixture;

std::unique_ptr<Engine> kernel_engine() { return find_engine("kernel")->make(); }

EngineOptions one_worker() {
  EngineOptions options;
  options.workers = 1;
  return options;
}

TEST(KernelEngine, FallsBackToReadWriteWhenCopyFileRangeIsRefused) {
  const TreeFixture tree(6, 100'000);
  ASSERT_TRUE(tree.ok()) << tree.error();
  std::atomic<int> ranges{0}, reads{0};
  CopyResult result;
  {
    const ScopedFault fault([&](sys::Op op, long res) {
      if (op == sys::Op::copy_range) return ++ranges, long{-EXDEV};
      if (op == sys::Op::read) ++reads;
      return res;
    });
    result = tree.copy(*kernel_engine(), one_worker());
  }
  testing::expect_whole_copy(tree, result);
  EXPECT_EQ(ranges.load(), 1) << "the refusal is remembered for the rest of the run";
  EXPECT_GT(reads.load(), 0);
  EXPECT_TRUE(has_note(result,
                       "copy_file_range refused (EXDEV, Invalid cross-device link): "
                       "fell back to read/write"))
      << ::testing::PrintToString(result.notes);
}

TEST(KernelEngine, ResumesWithReadWriteWhereCopyFileRangeStopped) {
  const TreeFixture tree(1, 300'000);
  ASSERT_TRUE(tree.ok()) << tree.error();
  std::atomic<int> ranges{0};
  CopyResult result;
  {
    // The first call copies 1000 bytes (whatever the kernel did, the offsets are explicit), the
    // second is refused: read/write must continue from byte 1000.
    const ScopedFault fault([&](sys::Op op, long res) {
      if (op != sys::Op::copy_range) return res;
      return ++ranges == 1 ? std::min(res, 1000L) : long{-EINVAL};
    });
    result = tree.copy(*kernel_engine(), one_worker());
  }
  testing::expect_whole_copy(tree, result);
  EXPECT_EQ(ranges.load(), 2);
  EXPECT_EQ(result.copied.bytes, 300'000u);
  EXPECT_TRUE(has_note(result, "copy_file_range refused (EINVAL"))
      << ::testing::PrintToString(result.notes);
}

TEST(KernelEngine, ARefusalHoldsForOneRunOnly) {
  const TreeFixture tree(3, 10'000);
  ASSERT_TRUE(tree.ok()) << tree.error();
  const std::unique_ptr<Engine> engine = kernel_engine();
  {
    const ScopedFault fault(
        [](sys::Op op, long res) { return op == sys::Op::copy_range ? long{-EOPNOTSUPP} : res; });
    const CopyResult refused = tree.copy(*engine, one_worker());
    testing::expect_whole_copy(tree, refused);
    EXPECT_TRUE(has_note(refused, "copy_file_range refused (EOPNOTSUPP"));
  }
  ASSERT_TRUE(tree.reset());
  std::atomic<int> ranges{0};
  CopyResult result;
  {
    const ScopedFault count([&](sys::Op op, long res) {
      if (op == sys::Op::copy_range) ++ranges;
      return res;
    });
    result = tree.copy(*engine, one_worker());
  }
  testing::expect_whole_copy(tree, result);
  EXPECT_GE(ranges.load(), 3);
  EXPECT_FALSE(has_note(result, "copy_file_range refused"));
}

// A file system without reflinks answers FICLONE once per copy: the copy path remembers the
// refusal for the rest of the copy, says so, and copies the bytes.
TEST(KernelEngine, TriesFicloneOnceARunWhenTheFileSystemRefusesIt) {
  const TreeFixture tree(5, 5'000);
  ASSERT_TRUE(tree.ok()) << tree.error();
  std::atomic<int> clones{0};
  CopyResult result;
  {
    const ScopedFault fault([&](sys::Op op, long res) {
      if (op == sys::Op::clone) return ++clones, long{-EOPNOTSUPP};
      return res;
    });
    result = tree.copy(*kernel_engine(), one_worker());
  }
  testing::expect_whole_copy(tree, result);
  EXPECT_EQ(clones.load(), 1);
  EXPECT_EQ(result.copied.reflinked, 0u);
  EXPECT_TRUE(has_note(
      result, "FICLONE refused (Operation not supported): no reflinks, the bytes were copied"))
      << ::testing::PrintToString(result.notes);
}

TEST(KernelEngine, ResumesShortAndInterruptedCopies) {
  const TreeFixture tree(4, 200'003);
  ASSERT_TRUE(tree.ok()) << tree.error();
  std::atomic<int> calls{0};
  CopyResult result;
  {
    const ScopedFault fault([&](sys::Op op, long res) {
      if (op != sys::Op::copy_range || res <= 0) return res;
      const int n = ++calls;
      if (n % 3 == 0) return long{-EINTR};
      if (n % 3 == 1) return long{-EAGAIN};
      return std::max(1L, res / 7);
    });
    result = tree.copy(*kernel_engine(), {});
  }
  testing::expect_whole_copy(tree, result);
  EXPECT_GT(calls.load(), 12);
  EXPECT_FALSE(has_note(result, "copy_file_range refused"));
}

TEST(KernelEngine, CancelledMidRunClosesEveryDescriptor) {
  const TreeFixture tree(40, 50'000);
  ASSERT_TRUE(tree.ok()) << tree.error();
  const std::size_t before = testing::open_descriptors();
  std::atomic<bool> cancel{false};
  std::atomic<int> writes{0}, opens{0};
  EngineOptions options;
  options.workers = 2;
  options.chunk = 4096;
  CopyOptions copy = testing::benchmark_options();
  copy.cancel = &cancel;
  CopyResult result;
  {
    const ScopedFault fault([&](sys::Op op, long res) {
      // Refused so that read/write runs chunk by chunk and sees the cancel between chunks.
      if (op == sys::Op::copy_range) return long{-EXDEV};
      if (op == sys::Op::open_source) ++opens;
      if (op == sys::Op::write && ++writes == 3) cancel = true;
      return res;
    });
    result = tree.copy(*kernel_engine(), options, copy);
  }
  EXPECT_TRUE(result.cancelled);
  EXPECT_EQ(result.failed, 0u) << testing::first_error(result);
  EXPECT_EQ(testing::open_descriptors(), before);
  EXPECT_EQ(testing::expect_only_complete_files(tree), result.copied.files);
  EXPECT_LT(opens.load(), 40) << "every file was started after the cancellation";
}

}  // namespace
}  // namespace ccopy
