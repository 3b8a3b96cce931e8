// -mode on the real binary: lists, `all`, the ranking of more than two engines, and what
// happens when io_uring is forbidden by a real seccomp filter (tests/cli/deny_io_uring.cpp).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

#include "ccopy/engine.hpp"
#include "process.hpp"
#include "test_dir.hpp"

namespace ccopy {
namespace {

using testing::Process;
using testing::ProcessResult;
using testing::run_binary;
using testing::TestDir;

// The launcher's exit code when it cannot install its filter.
constexpr int kCannotFilter = 77;

std::vector<std::string> small_run(const TestDir& dir, std::vector<std::string> extra) {
  std::vector<std::string> args{"-files",  "8", "-size",  "10K",  "-runs",   "1",
                                "-warmup", "0", "-quiet", "-dir", dir.path()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

bool has_line(const std::string& text, const std::string& pattern) {
  return std::regex_search(text, std::regex(pattern, std::regex::multiline));
}

std::size_t count_lines(const std::string& text, const std::string& pattern) {
  const std::regex re(pattern, std::regex::multiline);
  return static_cast<std::size_t>(
      std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

// The labels of the "Running X copy" lines, in the order printed.
std::vector<std::string> running(const std::string& out) {
  std::vector<std::string> labels;
  const std::regex re("^Running (\\S+) copy", std::regex::multiline);
  for (auto it = std::sregex_iterator(out.begin(), out.end(), re); it != std::sregex_iterator();
       ++it)
    labels.push_back((*it)[1].str());
  return labels;
}

bool uring_available() { return find_engine("uring")->probe().available; }

// Runs the binary with io_uring_setup denied by seccomp.
ProcessResult run_without_io_uring(const std::vector<std::string>& args) {
  std::vector<std::string> full{CCOPY_BINARY};
  full.insert(full.end(), args.begin(), args.end());
  Process child(CCOPY_DENY_IO_URING, full);
  return child.finish(std::chrono::seconds(60));
}

class WithoutIoUring : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string(CCOPY_DENY_IO_URING).empty()) GTEST_SKIP() << "built without libseccomp";
    ASSERT_TRUE(dir_.ok());
  }

  ProcessResult run(std::vector<std::string> extra) {
    ProcessResult r = run_without_io_uring(small_run(dir_, std::move(extra)));
    if (r.exit_code == kCannotFilter) skip_reason_ = r.err;
    return r;
  }

  TestDir dir_;
  std::string skip_reason_;
};

#define SKIP_IF_NO_FILTER() \
  if (!skip_reason_.empty()) GTEST_SKIP() << "seccomp filter unavailable: " << skip_reason_

TEST_F(WithoutIoUring, DefaultModeRunsXevOnUvAndSaysWhyInOneLine) {
  const ProcessResult r = run({});
  SKIP_IF_NO_FILTER();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(count_lines(r.out, "^.*io_uring.*$"), 1u) << r.out;
  EXPECT_TRUE(has_line(r.out,
                       "^Note: io_uring is not available here \\(io_uring_setup: Operation not "
                       "permitted\\): xev runs on the uv engine$"))
      << r.out;
  EXPECT_TRUE(has_line(r.out,
                       "^Running xev copy \\(libuv event loop, [0-9]+-thread pool, 16 files in "
                       "flight, uv_fs_sendfile \\(copy_file_range\\)\\)\\.\\.\\. done in"))
      << r.out;
  EXPECT_TRUE(has_line(r.out, "^Running goroutine copy \\(a thread per waiting file\\)\\.\\.\\. done in"))
      << r.out;
  EXPECT_TRUE(has_line(r.out, "^Verification: OK$")) << r.out;
}

TEST_F(WithoutIoUring, ExplicitUringFailsWithAClearMessage) {
  const ProcessResult r = run({"-mode", "uring"});
  SKIP_IF_NO_FILTER();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(
      r.err,
      "concurrent_copy: mode 'uring' cannot run here: io_uring_setup: Operation not permitted\n");
  EXPECT_EQ(testing::entries_in(dir_.path()), 0u);
}

TEST_F(WithoutIoUring, AllSkipsUringWithANoteAndRunsTheRest) {
  const ProcessResult r = run({"-mode", "all"});
  SKIP_IF_NO_FILTER();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "^Note: skipping uring: io_uring_setup: Operation not permitted$"))
      << r.out;
  EXPECT_EQ(running(r.out), (std::vector<std::string>{"uv", "threads", "kernel"})) << r.out;
  EXPECT_TRUE(has_line(r.out, "^Verification: OK$")) << r.out;
}

TEST_F(WithoutIoUring, ListsNamingUringFail) {
  const ProcessResult r = run({"-mode", "uv,uring"});
  SKIP_IF_NO_FILTER();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("mode 'uring' cannot run here"), std::string::npos) << r.err;
}

TEST(Modes, AListRunsItsEnginesInOrder) {
  if (!uring_available()) GTEST_SKIP() << "io_uring cannot run here";
  TestDir dir;
  const ProcessResult r = run_binary(small_run(dir, {"-mode", "uring,uv,kernel"}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "^Mode: uring,uv,kernel$")) << r.out;
  EXPECT_EQ(running(r.out), (std::vector<std::string>{"uring", "uv", "kernel"})) << r.out;
  EXPECT_TRUE(has_line(r.out, "^Verification: OK$")) << r.out;
}

TEST(Modes, AllRunsEveryEngineThatCanRunInRegistryOrder) {
  TestDir dir;
  const ProcessResult r = run_binary(small_run(dir, {"-mode", "all"}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::vector<std::string> expected;
  for (const EngineInfo& info : engine_registry())
    if (info.probe().available) expected.emplace_back(info.name);
  EXPECT_EQ(running(r.out), expected) << r.out;
  EXPECT_TRUE(has_line(r.out, "^Verification: OK$")) << r.out;
}

TEST(Modes, EveryEngineLineStatesItsConcurrency) {
  TestDir dir;
  const ProcessResult r = run_binary(small_run(
      dir, {"-mode", "uv,threads,kernel", "-workers", "3", "-inflight", "5", "-pool", "2"}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out,
                       "^Running uv copy \\(libuv event loop, 2-thread pool, 5 files in flight, "
                       "uv_fs_sendfile \\(copy_file_range\\)\\)"))
      << r.out;
  EXPECT_TRUE(has_line(r.out, "^Running threads copy \\(3 worker threads\\)")) << r.out;
  EXPECT_TRUE(has_line(
      r.out, "^Running kernel copy \\(FICLONE, else copy_file_range on 3 worker threads\\)"))
      << r.out;
}

// The CPUs this process may run on, as libuv's uv_available_parallelism counts them.
unsigned usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return static_cast<unsigned>(std::max(1, CPU_COUNT(&set)));
}

// Copying inside the kernel, the pool has a thread per usable CPU; reading and writing through
// buffers (-kernel-copy off), libuv's own default of 4.
TEST(Modes, TheDefaultPoolHasAThreadPerCpuAndTheOutputSaysItsSize) {
  if (std::getenv("UV_THREADPOOL_SIZE") != nullptr)
    GTEST_SKIP() << "UV_THREADPOOL_SIZE is set in this environment: it chooses the pool";
  TestDir dir;
  ProcessResult r = run_binary(small_run(dir, {"-mode", "uv"}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, fmt::format("^Running uv copy \\(libuv event loop, {}-thread pool, ",
                                          usable_cpus())))
      << r.out;
  r = run_binary(small_run(dir, {"-mode", "uv", "-kernel-copy", "off"}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "^Running uv copy \\(libuv event loop, 4-thread pool, ")) << r.out;
}

TEST(Modes, AnExportedUvThreadpoolSizeChoosesThePoolAndTheOutputSaysItsSize) {
  TestDir dir;
  const ProcessResult r = run_binary(small_run(dir, {"-mode", "uv"}), {"UV_THREADPOOL_SIZE=3"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(
      has_line(r.out, "^Running uv copy \\(libuv event loop, 3-thread pool, 16 files in flight, "))
      << r.out;
}

// -kernel-copy off is the original's design, a read and a write through a buffer, and the
// line says so; on says sendfile, as auto does. The files in flight are -inflight's (16), not
// bounded by the scenario's 8 files: the engine takes files from the walk as it finds them.
TEST(Modes, TheUvLineSaysWhichCopyPathRuns) {
  TestDir dir;
  const ProcessResult off = run_binary(small_run(dir, {"-mode", "uv", "-kernel-copy", "off"}));
  ASSERT_EQ(off.exit_code, 0) << off.out << off.err;
  EXPECT_TRUE(has_line(off.out,
                       "^Running uv copy \\(libuv event loop, [0-9]+-thread pool, 16 files in "
                       "flight, uv_fs_read and uv_fs_write\\)"))
      << off.out;
  TestDir other;
  const ProcessResult on = run_binary(small_run(other, {"-mode", "uv", "-kernel-copy", "on"}));
  ASSERT_EQ(on.exit_code, 0) << on.out << on.err;
  EXPECT_TRUE(has_line(on.out,
                       "^Running uv copy \\(libuv event loop, [0-9]+-thread pool, 16 files in "
                       "flight, uv_fs_sendfile \\(copy_file_range\\)\\)"))
      << on.out;
}

// With more than two engines the comparison ranks them, fastest first, each with its ratio to
// the fastest.
TEST(Modes, MoreThanTwoEnginesAreRankedAgainstTheFastest) {
  TestDir dir;
  const ProcessResult r = run_binary(small_run(dir, {"-mode", "uv,threads,kernel", "-runs", "2"}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::regex row("^  ([0-9]+)\\. (\\S+) +(\\S+ \\S+) +([0-9]+\\.[0-9]{2}) MiB/s  (.*)$",
                       std::regex::multiline);
  std::vector<std::smatch> rows;
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), row);
       it != std::sregex_iterator(); ++it)
    rows.push_back(*it);
  ASSERT_EQ(rows.size(), 3u) << r.out;
  std::vector<std::string> labels;
  double previous_speed = 0;
  double previous_ratio = 1.0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i][1].str(), std::to_string(i + 1));
    labels.push_back(rows[i][2].str());
    const double speed = std::stod(rows[i][4].str());
    const std::string tail = rows[i][5].str();
    if (i == 0) {
      EXPECT_EQ(tail, "fastest");
    } else {
      EXPECT_LE(speed, previous_speed) << r.out;
      std::smatch ratio;
      ASSERT_TRUE(std::regex_search(
          tail, ratio,
          std::regex("^([0-9]+\\.[0-9]{2})(?: \u00b1 [0-9]+\\.[0-9]{2})?x slower than (\\S+)")))
          << tail;
      EXPECT_EQ(ratio[2].str(), labels.front());
      EXPECT_GE(std::stod(ratio[1].str()), previous_ratio) << r.out;
      previous_ratio = std::stod(ratio[1].str());
    }
    previous_speed = speed;
  }
  std::sort(labels.begin(), labels.end());
  EXPECT_EQ(labels, (std::vector<std::string>{"kernel", "threads", "uv"}));
}

}  // namespace
}  // namespace ccopy
