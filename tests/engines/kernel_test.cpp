// The kernel engine's own behaviour: how it falls back from FICLONE and copy_file_range, what
// it remembers, and that a fallback in the middle of a file resumes where the kernel stopped.
#include <gtest/gtest.h>

#include <algorithm>

#include "ccopy/engine.hpp"
#include "ccopy/verify.hpp"
#include "scoped_fault.hpp"

namespace ccopy {
namespace {

using testing::GeneratedFiles;
using testing::ScopedFault;

std::unique_ptr<Engine> kernel_engine() { return find_engine("kernel")->make(); }

bool has_note(const CopyReport& report, const std::string& text) {
  return std::any_of(report.notes.begin(), report.notes.end(),
                     [&](const std::string& note) { return note.find(text) != std::string::npos; });
}

void expect_copied(const CopyReport& report, const std::vector<CopyJob>& jobs) {
  ASSERT_FALSE(report.first_error()) << report.first_error().message();
  const VerifyReport verdict = verify_copies(jobs);
  EXPECT_TRUE(verdict.ok()) << verdict.first_error().message();
}

EngineOptions one_worker() {
  EngineOptions options;
  options.workers = 1;
  return options;
}

TEST(KernelEngine, FallsBackToReadWriteWhenCopyFileRangeIsRefused) {
  GeneratedFiles files(6, 100'000);
  ASSERT_TRUE(files.ok());
  std::atomic<int> ranges{0}, reads{0};
  const ScopedFault fault([&](sys::Op op, long result) {
    if (op == sys::Op::copy_range) return ++ranges, long{-EXDEV};
    if (op == sys::Op::read) ++reads;
    return result;
  });
  const CopyReport report = kernel_engine()->copy(files.jobs(), one_worker());
  expect_copied(report, files.jobs());
  EXPECT_EQ(ranges.load(), 1) << "the refusal is remembered for the rest of the run";
  EXPECT_GT(reads.load(), 0);
  EXPECT_TRUE(has_note(report, "copy_file_range refused (EXDEV"))
      << ::testing::PrintToString(report.notes);
}

TEST(KernelEngine, ResumesWithReadWriteWhereCopyFileRangeStopped) {
  GeneratedFiles files(1, 300'000);
  ASSERT_TRUE(files.ok());
  std::atomic<int> ranges{0};
  // The first call copies 1000 bytes (whatever the kernel did, the offsets are explicit), the
  // second is refused: read/write must continue from byte 1000.
  const ScopedFault fault([&](sys::Op op, long result) {
    if (op != sys::Op::copy_range) return result;
    return ++ranges == 1 ? std::min(result, 1000L) : long{-EINVAL};
  });
  const CopyReport report = kernel_engine()->copy(files.jobs(), one_worker());
  expect_copied(report, files.jobs());
  EXPECT_EQ(ranges.load(), 2);
  EXPECT_EQ(report.files[0].bytes, 300'000u);
  EXPECT_TRUE(has_note(report, "copy_file_range refused (EINVAL"));
}

TEST(KernelEngine, ARefusalHoldsForOneRunOnly) {
  GeneratedFiles files(3, 10'000);
  ASSERT_TRUE(files.ok());
  const std::unique_ptr<Engine> engine = kernel_engine();
  {
    const ScopedFault fault([](sys::Op op, long result) {
      return op == sys::Op::copy_range ? long{-EOPNOTSUPP} : result;
    });
    expect_copied(engine->copy(files.jobs(), one_worker()), files.jobs());
  }
  ASSERT_TRUE(files.reset());
  std::atomic<int> ranges{0};
  const ScopedFault count([&](sys::Op op, long result) {
    if (op == sys::Op::copy_range) ++ranges;
    return result;
  });
  const CopyReport report = engine->copy(files.jobs(), one_worker());
  expect_copied(report, files.jobs());
  EXPECT_GE(ranges.load(), 3);
  EXPECT_FALSE(has_note(report, "copy_file_range refused"));
}

TEST(KernelEngine, TriesFicloneOnceARunWhenTheFileSystemRefusesIt) {
  GeneratedFiles files(5, 5'000);
  ASSERT_TRUE(files.ok());
  std::atomic<int> clones{0};
  const ScopedFault fault([&](sys::Op op, long result) {
    if (op == sys::Op::clone) return ++clones, long{-EOPNOTSUPP};
    return result;
  });
  const CopyReport report = kernel_engine()->copy(files.jobs(), one_worker());
  expect_copied(report, files.jobs());
  EXPECT_EQ(clones.load(), 1);
  EXPECT_TRUE(has_note(report, "FICLONE refused (EOPNOTSUPP"));
}

TEST(KernelEngine, ResumesShortAndInterruptedCopies) {
  GeneratedFiles files(4, 200'003);
  ASSERT_TRUE(files.ok());
  std::atomic<int> calls{0};
  const ScopedFault fault([&](sys::Op op, long result) {
    if (op != sys::Op::copy_range || result <= 0) return result;
    const int n = ++calls;
    if (n % 3 == 0) return long{-EINTR};
    if (n % 3 == 1) return long{-EAGAIN};
    return std::max(1L, result / 7);
  });
  const CopyReport report = kernel_engine()->copy(files.jobs(), {});
  expect_copied(report, files.jobs());
  EXPECT_GT(calls.load(), 12);
  EXPECT_FALSE(has_note(report, "copy_file_range refused"));
}

TEST(KernelEngine, CancelledMidRunClosesEveryDescriptor) {
  GeneratedFiles files(40, 50'000);
  ASSERT_TRUE(files.ok());
  const std::size_t before = testing::open_descriptors();
  std::atomic<bool> cancel{false};
  std::atomic<int> ranges{0};
  const ScopedFault fault([&](sys::Op op, long result) {
    // Refused so that read/write runs chunk by chunk and sees the cancel between chunks.
    if (op == sys::Op::copy_range) return long{-EXDEV};
    if (op == sys::Op::write && ++ranges == 3) cancel = true;
    return result;
  });
  EngineOptions options;
  options.workers = 2;
  options.chunk = 4096;
  options.cancel = &cancel;
  const CopyReport report = kernel_engine()->copy(files.jobs(), options);
  EXPECT_TRUE(report.cancelled);
  EXPECT_EQ(testing::open_descriptors(), before);
  std::size_t untouched = 0;
  for (std::size_t i = 0; i < report.files.size(); ++i) {
    const FileOutcome& f = report.files[i];
    if (!f.attempted) {
      ++untouched;
    } else if (!f.error) {
      EXPECT_EQ(f.bytes, files.jobs()[i].size);
    }
  }
  EXPECT_GT(untouched, 0u);
}

}  // namespace
}  // namespace ccopy
