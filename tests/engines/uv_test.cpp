// The uv engine's own behaviour: the size of libuv's thread pool (fixed once per process),
// faults injected into the completions that come back to the loop, and cancellation, on the
// read/write path (-kernel-copy off) and the uv_fs_sendfile path (on, and auto).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <uv.h>

#include <filesystem>
#include <regex>

#include "ccopy/engine.hpp"
#include "scoped_fault.hpp"

namespace ccopy {
namespace {

using testing::ScopedFault;
using testing::TreeFixture;

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

std::string file_name(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

// The one error of a copy in which a single file failed: named by its source in the tree, and
// by its destination when the failure was there; nothing of that file left in the copy.
void expect_one_failed_file(const TreeFixture& tree, const CopyResult& result, int code,
                            const std::string& operation) {
  ASSERT_EQ(result.failed, 1u) << testing::first_error(result);
  ASSERT_EQ(result.errors.size(), 1u);
  const CopyError& e = result.errors[0];
  EXPECT_EQ(e.code, code) << e.reason();
  EXPECT_EQ(e.operation, operation) << e.reason();
  EXPECT_EQ(e.path.rfind(tree.source() + "/file_", 0), 0u) << e.path;
  EXPECT_EQ(e.destination, tree.destination() + "/" + file_name(e.path));
  EXPECT_FALSE(std::filesystem::exists(tree.destination() + "/" + file_name(e.path)))
      << "the failed file was left in the copy";
}

TEST(UvEngine, KeepsThePoolLibuvStartedAndSaysSoWhenAskedForAnother) {
  const TreeFixture tree(3, 1000);
  ASSERT_TRUE(tree.ok()) << tree.error();
  const std::unique_ptr<Engine> engine = uv_engine();
  // After one run the pool exists, whatever size this process gave it first.
  const CopyResult first = tree.copy(*engine, {});
  ASSERT_TRUE(first.ok()) << testing::first_error(first);
  ASSERT_TRUE(tree.reset());
  const unsigned running = pool_in(engine->describe({}, 3));
  ASSERT_GT(running, 0u);

  EngineOptions other;
  other.pool = running + 1;
  EXPECT_EQ(pool_in(engine->describe(other, 3)), running) << "describe() says the pool in use";
  const CopyResult result = tree.copy(*engine, other);
  EXPECT_TRUE(result.ok()) << testing::first_error(result);
  ASSERT_EQ(result.notes.size(), 1u);
  EXPECT_NE(result.notes[0].find(fmt::format("-pool {} could not change it", running + 1)),
            std::string::npos)
      << result.notes[0];

  ASSERT_TRUE(tree.reset());
  EngineOptions same;
  same.pool = running;
  EXPECT_TRUE(tree.copy(*engine, same).notes.empty());
}

TEST(UvEngine, ResumesShortTransfersAndRetriesEintrAndEagain) {
  const TreeFixture tree(6, 150'001);
  ASSERT_TRUE(tree.ok()) << tree.error();
  std::atomic<int> calls{0};
  EngineOptions options;
  options.kernel_copy = KernelCopy::off;
  options.inflight = 3;
  CopyResult result;
  {
    const ScopedFault fault([&](sys::Op op, long res) {
      if ((op != sys::Op::read && op != sys::Op::write) || res <= 0) return res;
      const int n = ++calls;
      if (n % 5 == 0) return long{-EINTR};
      if (n % 5 == 1) return long{-EAGAIN};
      return std::max(1L, res / 3);
    });
    result = tree.copy(*uv_engine(), options);
  }
  testing::expect_whole_copy(tree, result);
  EXPECT_GT(calls.load(), 40);
}

TEST(UvEngine, ReportsAFailedWriteAndClosesBothEnds) {
  const TreeFixture tree(4, 70'000);
  ASSERT_TRUE(tree.ok()) << tree.error();
  const std::size_t before = descriptors_after_libuv_started();
  std::atomic<int> writes{0};
  EngineOptions options;
  options.kernel_copy = KernelCopy::off;
  options.inflight = 1;
  CopyResult result;
  {
    // Each file takes two writes: the third is the first of the second file.
    const ScopedFault fault([&](sys::Op op, long res) {
      return op == sys::Op::write && ++writes == 3 ? long{-EIO} : res;
    });
    result = tree.copy(*uv_engine(), options);
  }
  EXPECT_EQ(testing::open_descriptors(), before);
  expect_one_failed_file(tree, result, EIO, "write");
  EXPECT_EQ(result.copied.files, 3u);
  EXPECT_EQ(testing::expect_only_complete_files(tree), 3u);
}

// Cancelled at the third write, while the first four files (one per slot) are in progress: no
// later file is started, those four are abandoned and removed, and nothing stays open.
TEST(UvEngine, CancelledMidRunStopsStartingAndClosesEveryDescriptor) {
  const TreeFixture tree(40, 50'000);
  ASSERT_TRUE(tree.ok()) << tree.error();
  const std::size_t before = descriptors_after_libuv_started();
  std::atomic<bool> cancel{false};
  std::atomic<int> writes{0}, opens{0};
  EngineOptions options;
  options.kernel_copy = KernelCopy::off;
  options.inflight = 4;
  options.chunk = 4096;
  CopyOptions copy = testing::benchmark_options();
  copy.cancel = &cancel;
  CopyResult result;
  {
    const ScopedFault fault([&](sys::Op op, long res) {
      if (op == sys::Op::open_source) ++opens;
      if (op == sys::Op::write && ++writes == 3) cancel = true;
      return res;
    });
    result = tree.copy(*uv_engine(), options, copy);
  }
  EXPECT_TRUE(result.cancelled);
  EXPECT_EQ(result.failed, 0u) << testing::first_error(result);
  EXPECT_EQ(testing::open_descriptors(), before);
  EXPECT_EQ(opens.load(), 4) << "only the first four files had started";
  EXPECT_EQ(testing::expect_only_complete_files(tree), result.copied.files);
  EXPECT_LT(result.copied.files, 4u);
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
  const TreeFixture tree(1, (std::uint64_t{33} << 20) + 5);
  ASSERT_TRUE(tree.ok()) << tree.error();
  std::atomic<int> pieces{0};
  std::atomic<int> reads{0};
  EngineOptions options;
  options.kernel_copy = KernelCopy::on;
  CopyResult result;
  {
    const ScopedFault fault([&](sys::Op op, long res) {
      if (op == sys::Op::copy_range && res > 0) ++pieces;
      if (op == sys::Op::read || op == sys::Op::write) ++reads;
      return res;
    });
    result = tree.copy(*uv_engine(), options);
  }
  testing::expect_whole_copy(tree, result);
  EXPECT_GE(pieces.load(), 3);
  EXPECT_EQ(reads.load(), 0);
  EXPECT_TRUE(result.notes.empty()) << result.notes.front();
}

TEST(UvEngine, ReportsAFailedSendfileAndClosesBothEnds) {
  const TreeFixture tree(4, 70'000);
  ASSERT_TRUE(tree.ok()) << tree.error();
  const std::size_t before = descriptors_after_libuv_started();
  std::atomic<int> sends{0};
  EngineOptions options;
  options.kernel_copy = KernelCopy::on;
  options.inflight = 1;
  CopyResult result;
  {
    // One request per file: the second is the second file's.
    const ScopedFault fault([&](sys::Op op, long res) {
      return op == sys::Op::copy_range && ++sends == 2 ? long{-EIO} : res;
    });
    result = tree.copy(*uv_engine(), options);
  }
  EXPECT_EQ(testing::open_descriptors(), before);
  expect_one_failed_file(tree, result, EIO, "sendfile");
  EXPECT_EQ(result.copied.files, 3u);
  EXPECT_EQ(testing::expect_only_complete_files(tree), 3u);
}

// Cancelled at the first piece of a file three pieces long: the file stops before the next
// piece and is removed, and no later file starts.
TEST(UvEngine, CancelledMidSendfileStopsAtTheNextPieceAndClosesEveryDescriptor) {
  const TreeFixture tree(3, std::uint64_t{40} << 20);
  ASSERT_TRUE(tree.ok()) << tree.error();
  const std::size_t before = descriptors_after_libuv_started();
  std::atomic<bool> cancel{false};
  std::atomic<int> sends{0}, opens{0};
  EngineOptions options;
  options.kernel_copy = KernelCopy::on;
  options.inflight = 1;
  CopyOptions copy = testing::benchmark_options();
  copy.cancel = &cancel;
  CopyResult result;
  {
    const ScopedFault fault([&](sys::Op op, long res) {
      if (op == sys::Op::open_source) ++opens;
      if (op == sys::Op::copy_range) ++sends, cancel = true;
      return res;
    });
    result = tree.copy(*uv_engine(), options, copy);
  }
  EXPECT_TRUE(result.cancelled);
  EXPECT_EQ(result.failed, 0u) << testing::first_error(result);
  EXPECT_EQ(testing::open_descriptors(), before);
  EXPECT_EQ(sends.load(), 1) << "a piece was sent after the cancellation";
  EXPECT_EQ(opens.load(), 1) << "a later file started";
  EXPECT_EQ(result.copied.files, 0u);
  EXPECT_EQ(testing::entries_in(tree.destination()), 0u) << "the partial file was left";
}

}  // namespace
}  // namespace ccopy
