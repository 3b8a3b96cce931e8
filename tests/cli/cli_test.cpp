// The real binary as a process: its output, its exit codes, and the files it leaves behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "process.hpp"
#include "test_dir.hpp"

namespace ccopy {
namespace {

using testing::entries_in;
using testing::ProcessResult;
using testing::run_binary;
using testing::TestDir;

// A small, quick run in `dir` with the flags given.
ProcessResult run_small(const TestDir& dir, std::vector<std::string> extra) {
  std::vector<std::string> args{"-files", "6", "-size", "10K", "-runs", "1", "-warmup", "0",
                                "-dir", dir.path()};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_binary(args);
}

bool has_line(const std::string& text, const std::string& pattern) {
  return std::regex_search(text, std::regex(pattern, std::regex::multiline));
}

TEST(Cli, DefaultRunPrintsTheOriginalsReport) {
  TestDir dir;
  const ProcessResult r = run_binary({}, {"TMPDIR=" + dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "^Concurrent File Copy Benchmark$"));
  EXPECT_TRUE(has_line(r.out, "^==============================$"));
  EXPECT_TRUE(has_line(r.out, "^Files: 50, Size: 1\\.0 MiB each, Total: 50\\.0 MiB$"));
  EXPECT_TRUE(has_line(r.out, "^CPUs: [0-9]+$"));
  EXPECT_TRUE(has_line(r.out, "^Mode: both$"));
  EXPECT_TRUE(has_line(r.out, "^Running xev copy \\(io_uring event loop, 16 files in flight, "
                              "splice through [0-9]+ (bytes|KiB|MiB) pipes for files of [0-9]+ "
                              "(bytes|KiB|MiB) and more\\)\\.\\.\\. "
                              "done in [0-9.]+ (ns|us|ms|s) \\([0-9]+\\.[0-9]{2} MiB/s\\)$"))
      << r.out;
  EXPECT_TRUE(has_line(r.out, "^Running goroutine copy \\(a thread per waiting file\\)\\.\\.\\. done in "
                              "[0-9.]+ (ns|us|ms|s) \\([0-9]+\\.[0-9]{2} MiB/s\\)$"))
      << r.out;
  EXPECT_TRUE(has_line(r.out, "^Comparison:$"));
  EXPECT_TRUE(has_line(r.out, "^  (xev|goroutine) is [0-9]+\\.[0-9]{2}x faster"));
  EXPECT_TRUE(has_line(r.out, "^Verification: OK$"));
  EXPECT_TRUE(has_line(r.out, "^Directory: " + dir.path() + " \\("));
  EXPECT_EQ(entries_in(dir.path()), 0u) << "the default run left files behind";
}

TEST(Cli, LeavesNothingBehindWithoutKeep) {
  TestDir dir;
  const ProcessResult r = run_small(dir, {});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

TEST(Cli, KeepLeavesTheFilesWhereItSays) {
  TestDir dir;
  const ProcessResult r = run_small(dir, {"-keep"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::smatch src, dst;
  ASSERT_TRUE(std::regex_search(r.out, src, std::regex("source: +(\\S+)"))) << r.out;
  ASSERT_TRUE(std::regex_search(r.out, dst, std::regex("destination: +(\\S+)"))) << r.out;
  EXPECT_EQ(src[1].str().rfind(dir.path(), 0), 0u);
  EXPECT_EQ(entries_in(src[1].str()), 6u);
  EXPECT_EQ(entries_in(dst[1].str()), 6u);
  for (const auto& entry : std::filesystem::directory_iterator(src[1].str()))
    EXPECT_EQ(std::filesystem::file_size(entry.path()), 10240u);
}

struct FlagCase {
  std::vector<std::string> go, gnu;
  std::string expected;  // a line the output must hold
};

void PrintTo(const FlagCase& c, std::ostream* os) {
  for (const std::string& a : c.go) *os << a << ' ';
}

class FlagSpellings : public ::testing::TestWithParam<FlagCase> {};

TEST_P(FlagSpellings, BothSpellingsGiveTheSameRun) {
  for (const auto* args : {&GetParam().go, &GetParam().gnu}) {
    TestDir dir;
    const ProcessResult r = run_small(dir, *args);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has_line(r.out, GetParam().expected)) << GetParam().expected << "\n" << r.out;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Flags, FlagSpellings,
    ::testing::Values(
        FlagCase{{"-files", "3"}, {"--files=3"}, "^Files: 3, Size: 10\\.0 KiB each"},
        FlagCase{{"-size=2K"}, {"--size", "2KiB"}, "^Files: 6, Size: 2\\.0 KiB each, Total: 12\\.0 KiB$"},
        FlagCase{{"-mode", "goroutine"}, {"--mode=goroutine"}, "^Mode: goroutine$"},
        FlagCase{{"-mode=xev"}, {"--mode", "xev"}, "^Running xev copy"},
        FlagCase{{"-mode", "goroutine", "-workers", "2"}, {"--mode", "goroutine", "--workers=2"},
                 "^Running goroutine copy \\(2 worker threads\\)"},
        FlagCase{{"-mode", "xev", "-inflight=3"}, {"--mode", "xev", "--inflight", "3"},
                 "\\(io_uring event loop, 3 files in flight, splice through"},
        FlagCase{{"-mode", "xev", "-kernel-copy", "off"}, {"--mode=xev", "--kernel-copy=off"},
                 "\\(io_uring event loop, 6 files in flight\\)"},
        FlagCase{{"-chunk", "4K"}, {"--chunk=4096"}, "chunk 4\\.0 KiB$"},
        FlagCase{{"-runs", "2"}, {"--runs=2"}, "^Runs: 2 timed after 0 warm-ups"},
        FlagCase{{"-warmup=1"}, {"--warmup", "1"}, "^Runs: 1 timed after 1 warm-up per engine"},
        FlagCase{{"-fsync"}, {"--fsync"}, "fdatasync before close"},
        FlagCase{{"-cold"}, {"--cold"}, "page cache cold"},
        FlagCase{{"-keep=false"}, {"--keep=false"}, "^Verification: OK$"}));

struct UsageCase {
  std::vector<std::string> args;
  std::string message;
};

void PrintTo(const UsageCase& c, std::ostream* os) {
  for (const std::string& a : c.args) *os << a << ' ';
}

class BadUsage : public ::testing::TestWithParam<UsageCase> {};

TEST_P(BadUsage, ExitsWithTwoAndAOneLineMessage) {
  TestDir dir;
  std::vector<std::string> args = GetParam().args;
  args.insert(args.end(), {"-dir", dir.path()});
  const ProcessResult r = run_binary(args);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find(GetParam().message), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--help"), std::string::npos) << r.err;
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Flags, BadUsage,
    ::testing::Values(UsageCase{{"-bogus"}, "bogus"}, UsageCase{{"-mode", "fast"}, "unknown mode 'fast'"},
                      UsageCase{{"-files", "many"}, "-files: 'many' is not a whole number"},
                      UsageCase{{"-files=-1"}, "-files: '-1' is negative"},
                      UsageCase{{"-size", "12Q"}, "-size: unknown unit 'Q'"},
                      UsageCase{{"-workers", "-2"}, "-workers"},
                      UsageCase{{"-inflight", "0"}, "-inflight: 0 is out of range"}));

TEST(Cli, RefusesADirectoryThatDoesNotExist) {
  const ProcessResult r = run_binary({"-dir", "/nonexistent/ccopy"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("-dir /nonexistent/ccopy: No such file or directory"), std::string::npos) << r.err;
}

TEST(Cli, HelpExitsWithZero) {
  for (const char* flag : {"-h", "--help"}) {
    const ProcessResult r = run_binary({flag});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("--files"), std::string::npos);
    EXPECT_NE(r.out.find("Exit codes"), std::string::npos);
  }
}

}  // namespace
}  // namespace ccopy
