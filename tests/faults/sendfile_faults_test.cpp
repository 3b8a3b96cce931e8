// Faults on the uv engine's uv_fs_sendfile path (-kernel-copy on). libuv passes no destination
// offset to copy_file_range, so the destination's file offset moves with every byte the kernel
// copies, whatever the seam then reports: a piece the seam shortens or turns into EINTR leaves
// the offset ahead, and the file must finish with read/write, which names its offsets. A
// refusal (the file system or kernel cannot) turns the rest of the run to read/write, with a
// note. Every copy must still verify, every failure name its file, and nothing may leak.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

#include "fault_support.hpp"

namespace ccopy {
namespace {

// Counts what the engine does, and changes the `which`-th kernel copy's result (0 = none).
struct SendfileFaults {
  std::atomic<unsigned long> sends{0};
  std::atomic<unsigned long> reads{0};
  unsigned long which = 0;
  long replacement = 0;        // the result the `which`-th send reports instead
  bool shorten_every = false;  // every send reports half of what it moved
  bool interrupt_every_third = false;

  static long hook(sys::Op op, long result, void* context) {
    auto& self = *static_cast<SendfileFaults*>(context);
    if (op == sys::Op::read) self.reads.fetch_add(1);
    if (op != sys::Op::copy_range) return result;
    const unsigned long n = self.sends.fetch_add(1) + 1;
    if (n == self.which) return self.replacement;
    if (self.interrupt_every_third && n % 3 == 0) return -EINTR;
    if (self.shorten_every && result > 1) return result / 2;
    return result;
  }
};

class SendfileFaultsTest : public ::testing::Test, protected testing::EngineUnderFaults {
 protected:
  void SetUp() override {
    start("uv", 11);
    options_.kernel_copy = KernelCopy::on;
    options_.inflight = 4;
  }

  // Copies `tree` with `faults` installed; checks that every file copied and verifies and
  // that no descriptor leaked.
  CopyResult expect_verified_copies(const testing::TreeFixture& tree, SendfileFaults& faults) {
    return EngineUnderFaults::expect_verified_copy(tree, SendfileFaults::hook, &faults, options_);
  }

  EngineOptions options_;
};

TEST_F(SendfileFaultsTest, ShortPiecesFinishWithReadWrite) {
  const auto tree = generate(12, 200'003);
  SendfileFaults faults;
  faults.shorten_every = true;
  const CopyResult result = expect_verified_copies(*tree, faults);
  EXPECT_GT(faults.reads.load(), 0u) << "no file finished with read/write";
  EXPECT_TRUE(result.notes.empty()) << "a short piece is no refusal";
}

TEST_F(SendfileFaultsTest, InterruptedPiecesFinishWithReadWrite) {
  const auto tree = generate(12, 200'003);
  SendfileFaults faults;
  faults.interrupt_every_third = true;
  const CopyResult result = expect_verified_copies(*tree, faults);
  EXPECT_GE(faults.sends.load(), 3u);
  EXPECT_GT(faults.reads.load(), 0u);
  EXPECT_TRUE(result.notes.empty());
}

// With one file in flight, the refusal meets the second file: the first was sent whole, the
// second and every later one are read and written, and no later file is offered to sendfile.
class SendfileRefusal : public SendfileFaultsTest, public ::testing::WithParamInterface<int> {};

TEST_P(SendfileRefusal, FallsBackToReadWriteForTheRestOfTheRunWithANote) {
  const auto tree = generate(6, 100'000);
  SendfileFaults faults;
  faults.which = 2;
  faults.replacement = -GetParam();
  options_.inflight = 1;
  const CopyResult result = expect_verified_copies(*tree, faults);
  EXPECT_EQ(faults.sends.load(), 2u) << "sendfile was asked again after a refusal";
  EXPECT_GT(faults.reads.load(), 0u);
  ASSERT_EQ(result.notes.size(), 1u) << ::testing::PrintToString(result.notes);
  EXPECT_NE(result.notes[0].find("fell back to read/write"), std::string::npos) << result.notes[0];
  EXPECT_NE(result.notes[0].find(sys::error_text(GetParam())), std::string::npos)
      << result.notes[0];
}

INSTANTIATE_TEST_SUITE_P(Refusals, SendfileRefusal,
                         ::testing::Values(EXDEV, ENOSYS, EINVAL, EOPNOTSUPP),
                         [](const auto& param_info) {
                           return "errno_" + std::to_string(param_info.param);
                         });

// A refusal in one run is not remembered by the next: the file system may differ.
TEST_F(SendfileFaultsTest, ARefusalHoldsForOneRunOnly) {
  const auto tree = generate(3, 10'000);
  SendfileFaults refuse;
  refuse.which = 1;
  refuse.replacement = -EXDEV;
  ASSERT_EQ(expect_verified_copies(*tree, refuse).notes.size(), 1u);
  ASSERT_TRUE(tree->reset());
  SendfileFaults count;
  const CopyResult result = expect_verified_copies(*tree, count);
  EXPECT_EQ(count.sends.load(), 3u);
  EXPECT_EQ(count.reads.load(), 0u);
  EXPECT_TRUE(result.notes.empty());
}

// A kernel copy that answers 0 before the planned size hands the file to read/write, which
// finds the rest of the data here (a file system that would not splice it) and would report a
// source that really ended with the read path's error (the engine suite checks that one).
TEST_F(SendfileFaultsTest, ANothingSentHandsTheFileToReadWrite) {
  const auto tree = generate(2, 50'000);
  SendfileFaults faults;
  faults.which = 1;
  faults.replacement = 0;
  options_.inflight = 1;
  expect_verified_copies(*tree, faults);
  EXPECT_GT(faults.reads.load(), 0u);
}

// The same after a first piece of 16 MiB: read/write starts where the kernel copy stopped, and
// the file's byte count is the file's size, not more.
class SecondPiece : public SendfileFaultsTest, public ::testing::WithParamInterface<long> {};

TEST_P(SecondPiece, FailingResumesWithReadWriteWhereTheFirstEnded) {
  const auto tree = generate(1, (std::uint64_t{33} << 20) + 5);
  SendfileFaults faults;
  faults.which = 2;
  faults.replacement = GetParam();
  options_.inflight = 1;
  expect_verified_copies(*tree, faults);
  EXPECT_EQ(faults.sends.load(), 2u);
  EXPECT_GT(faults.reads.load(), 0u);
}

INSTANTIATE_TEST_SUITE_P(NothingSentOrRefused, SecondPiece, ::testing::Values(0L, long{-EXDEV}),
                         [](const auto& param_info) {
                           return param_info.param == 0 ? std::string("nothing_sent")
                                                        : std::string("refused");
                         });

// A real cross-device copy, tmpfs to the disk's file system (no seam): copy_file_range cannot
// cross them, and libuv turns to sendfile itself.
TEST_F(SendfileFaultsTest, CopiesAcrossFileSystems) {
  struct stat shm {
  }, tmp{};
  if (::stat("/dev/shm", &shm) != 0 || ::stat("/tmp", &tmp) != 0 || shm.st_dev == tmp.st_dev)
    GTEST_SKIP() << "needs /dev/shm and /tmp on two file systems";
  std::string other = "/tmp/ccopy-test.XXXXXX";
  ASSERT_NE(::mkdtemp(other.data()), nullptr);
  const auto tree = generate(4, 300'001);
  const std::string destination = other + "/dst";
  SendfileFaults faults;
  const std::size_t fds_before = testing::open_descriptors();
  CopyObserver quiet;
  CopyResult result;
  {
    testing::ScopedFaultHook hook(SendfileFaults::hook, &faults);
    result = copy_tree({{tree->source(), destination}}, *engine_, options_,
                       testing::benchmark_options(), quiet);
  }
  EXPECT_EQ(testing::open_descriptors(), fds_before) << "descriptors leaked";
  EXPECT_TRUE(result.ok()) << testing::first_error(result);
  EXPECT_EQ(result.copied.files, 4u);
  VerifyResult verdict;
  EXPECT_FALSE(verify_copy(tree->source(), destination, {}, verdict));
  EXPECT_TRUE(verdict.ok()) << verdict.first;
  EXPECT_EQ(faults.reads.load(), 0u);
  EXPECT_TRUE(result.notes.empty()) << ::testing::PrintToString(result.notes);
  std::error_code ec;
  std::filesystem::remove_all(other, ec);
}

}  // namespace
}  // namespace ccopy
