// The real binary as a process: its output, its exit codes, and the files it leaves behind.
#include <gtest/gtest.h>
#include <unistd.h>

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
  // The default run copies 50 MiB 12 times and verifies each: slow under ThreadSanitizer.
  const ProcessResult r = run_binary({}, std::vector<std::string>{"TMPDIR=" + dir.path()}, std::chrono::seconds(100));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "^Concurrent File Copy Benchmark$"));
  EXPECT_TRUE(has_line(r.out, "^==============================$"));
  EXPECT_TRUE(has_line(r.out, "^Files: 50, Size: 1\\.0 MiB each, Total: 50\\.0 MiB$"));
  EXPECT_TRUE(has_line(r.out, "^CPUs: [0-9]+( usable of [0-9]+ \\(affinity\\))?$"));
  EXPECT_TRUE(has_line(r.out, "^Mode: both$"));
  EXPECT_TRUE(has_line(r.out, "^Running xev copy \\(io_uring event loop, 16 files in flight, "
                              "splice through pipes of [0-9]+ (bytes|KiB|MiB) for files of [0-9]+ "
                              "(bytes|KiB|MiB) and more\\)\\.\\.\\. "
                              "done in [0-9.]+ (ns|us|ms|s) \\([0-9]+\\.[0-9]{2} MiB/s\\)$"))
      << r.out;
  EXPECT_TRUE(has_line(r.out, "^Running goroutine copy \\(a thread per waiting file\\)\\.\\.\\. done in "
                              "[0-9.]+ (ns|us|ms|s) \\([0-9]+\\.[0-9]{2} MiB/s\\)$"))
      << r.out;
  EXPECT_TRUE(
      has_line(r.out, "^Comparison \\(ratio of medians \u00b1 its 95% bootstrap interval\\):$"));
  EXPECT_TRUE(has_line(r.out,
                       "^  (xev|goroutine) is [0-9]+\\.[0-9]{2} \u00b1 [0-9]+\\.[0-9]{2}x faster "
                       "than (xev|goroutine) \\((beyond|within) the noise\\)$"))
      << r.out;
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
                 "\\(io_uring event loop, 16 files in flight\\)"},
        FlagCase{{"-chunk", "4K"}, {"--chunk=4096"}, "chunk 4\\.0 KiB$"},
        FlagCase{{"-runs", "2"}, {"--runs=2"}, "^Runs: 2 timed after 0 warm-ups"},
        FlagCase{{"-warmup=1"}, {"--warmup", "1"}, "^Runs: 1 timed after 1 warm-up per engine"},
        FlagCase{{"-fsync"}, {"--fsync"}, "fdatasync before close"},
        FlagCase{{"-cold"}, {"--cold"}, "-cold: a tmpfs holds its files in the page cache"},
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
    ::testing::Values(
        UsageCase{{"-bogus"}, "unknown flag '-bogus'\n"},
        UsageCase{{"-mode", "fast"}, "unknown mode 'fast'"},
        UsageCase{{"-files", "many"}, "-files: 'many' is not a whole number"},
        UsageCase{{"-files=-1"}, "-files: '-1' is negative"},
        UsageCase{{"-size", "12Q"}, "-size: unknown unit 'Q'"},
        UsageCase{{"-workers", "-2"}, "-workers"},
        UsageCase{{"-inflight", "0"}, "-inflight: 0 is out of range"},
        // An empty value is an error naming the flag, never a reason to take the
        // next word as the value.
        UsageCase{{"--json=", "--keep"}, "concurrent_copy: -json: empty value\n"},
        UsageCase{{"-files=", "-quiet"}, "concurrent_copy: -files: empty value\n"},
        UsageCase{{"-json", ""}, "concurrent_copy: -json: empty value\n"},
        UsageCase{{"-svg", ""}, "concurrent_copy: -svg: empty value\n"},
        UsageCase{{"-json", "-keep"}, "-json: needs a value, and '-keep' is a flag"},
        UsageCase{{"-files"}, "concurrent_copy: -files: needs a value"},
        UsageCase{{"-json", "out", "-csv", "./out"},
                  "-json and -csv both write to ./out; give each export its own file"},
        // One rule for a list that names one thing twice: refused, naming both.
        UsageCase{{"-mode", "xev,uring"}, "-mode: 'xev' and 'uring' both name the uring engine"},
        UsageCase{{"-mode", "both,goroutine"},
                  "-mode: 'both' and 'goroutine' both name the threads engine"},
        UsageCase{{"-files", "10,10"}, "-files: '10' is listed twice"},
        UsageCase{{"-files", "10,010"}, "-files: '10' and '010' both name 10 files"},
        UsageCase{{"-size", "4K,4096"}, "-size: '4K' and '4096' both name 4096 bytes"},
        UsageCase{{"-scenarios", "10x4K,10x4K"}, "-scenarios: '10x4K' is listed twice"},
        UsageCase{{"-scenarios", "10x4K,10x4096"},
                  "-scenarios: '10x4K' and '10x4096' both name the scenario 10x4K"},
        // A misspelled flag says which one was meant.
        UsageCase{{"-f", "2"}, "concurrent_copy: unknown flag '-f'; did you mean -files?\n"},
        UsageCase{{"-fiels", "2"}, "unknown flag '-fiels'; did you mean -files?"},
        UsageCase{{"--quite"}, "unknown flag '--quite'; did you mean -quiet?"},
        UsageCase{{"stray"}, "unexpected argument 'stray'"},
        UsageCase{{"-size", "1.3K"},
                  "-size: '1.3K' is 1331.2 bytes: a size must be a whole number of bytes"}));

// `-dir ''` would otherwise run in $TMPDIR: refused like any other empty value, and before the
// directory is looked at.
TEST(Cli, AnEmptyDirIsAUsageError) {
  const ProcessResult r = run_binary({"-dir", "", "-files", "2", "-size", "1K"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(r.err.rfind("concurrent_copy: -dir: empty value\n", 0), 0u) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

// The words that follow a flag with an empty value are left alone: no file named after them.
TEST(Cli, AnEmptyAssignmentNeverTakesTheNextWord) {
  TestDir dir, cwd;
  testing::SpawnOptions options;
  options.cwd = cwd.path();
  const ProcessResult r = run_binary(
      {"--json=", "--keep", "-files", "2", "-size", "1K", "-runs", "1", "-dir", dir.path()},
      options);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(entries_in(cwd.path()), 0u) << "a file was written where the binary ran";
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

TEST(Cli, ADecimalSizeThatIsAWholeNumberOfBytesIsAccepted) {
  TestDir dir;
  const ProcessResult r = run_small(dir, {"-files", "1", "-size", "1.5M", "-mode", "goroutine"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "^Files: 1, Size: 1\\.5 MiB each, Total: 1\\.5 MiB$")) << r.out;
}

// -workers, -inflight, -pool and -loops each tune some engines only: given for a run without
// them, they are named as unused.
TEST(Cli, EngineOptionsNoEngineReadsAreNamedAsUnused) {
  TestDir dir;
  const ProcessResult r = run_small(
      dir, {"-mode", "goroutine", "-pool", "4", "-loops", "2", "-inflight", "8", "-workers", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "^Note: -pool 4 is unused: no uv engine runs$")) << r.out;
  EXPECT_TRUE(has_line(r.out, "^Note: -loops 2 is unused: no uring engine runs$")) << r.out;
  EXPECT_TRUE(has_line(r.out, "^Note: -inflight 8 is unused: no uring or uv engine runs$"))
      << r.out;
  EXPECT_EQ(r.out.find("-workers 3 is unused"), std::string::npos) << "goroutine reads -workers";
  const ProcessResult xev = run_small(dir, {"-mode", "xev", "-workers", "3"});
  ASSERT_EQ(xev.exit_code, 0) << xev.out << xev.err;
  EXPECT_TRUE(has_line(xev.out, "^Note: -workers 3 is unused: no threads or kernel engine runs$"))
      << xev.out;
}

// TMPDIR chooses the directory when -dir is not given, so a bad TMPDIR is blamed on TMPDIR.
TEST(Cli, ABadTmpdirIsBlamedOnTmpdir) {
  const ProcessResult r = run_binary({"-files", "2", "-size", "1K"}, {"TMPDIR=/nonexistent"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(r.err.rfind("concurrent_copy: TMPDIR /nonexistent: No such file or directory\n", 0), 0u)
      << r.err;
  EXPECT_EQ(r.err.find("-dir"), std::string::npos) << r.err;
}

// A relative -dir is recorded and printed as the absolute directory it names: in the report,
// in the JSON and in where -keep says the files are.
TEST(Cli, ARelativeDirIsRecordedAsAnAbsolutePath) {
  TestDir dir;
  testing::SpawnOptions options;
  options.cwd = dir.path();
  const ProcessResult r = run_binary({"-files", "2", "-size", "1K", "-runs", "1", "-warmup", "0",
                                      "-mode", "goroutine", "-dir", ".", "-keep", "-json", "-"},
                                     options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has_line(r.err, "^Directory: " + dir.path() + " \\(")) << r.err;
  EXPECT_NE(r.out.find("\"directory\": \"" + dir.path() + "\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"kept_directory\": \"" + dir.path() + "/concurrent_copy."),
            std::string::npos)
      << r.out;
  EXPECT_TRUE(has_line(r.err, "^  source: +" + dir.path() + "/concurrent_copy\\.[A-Za-z0-9]+/src$"))
      << r.err;
}

// A directory on a file system that cannot hold files (/proc) is a usage error, not "0 B free".
// Root may write to /proc's directory (permissions do not stop it); anyone else is refused
// earlier, for the permission.
TEST(Cli, ADirThatCannotHoldFilesIsAUsageError) {
  const ProcessResult r = run_binary({"-dir", "/proc", "-files", "2", "-size", "1K"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  const std::string expected =
      ::geteuid() == 0
          ? "concurrent_copy: -dir /proc: cannot hold files (creating one there fails: "
          : "concurrent_copy: -dir /proc: Permission denied";
  EXPECT_EQ(r.err.rfind(expected, 0), 0u) << r.err;
  EXPECT_EQ(r.err.find("free"), std::string::npos) << r.err;
}

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
    // Every flag with its default stands apart from its description.
    EXPECT_TRUE(has_line(r.out, "^  --kernel-copy WHEN=auto {2,}uring and uv engines")) << r.out;
    EXPECT_TRUE(has_line(r.out, "^Exports: -json, -csv, -markdown and -svg combine")) << r.out;
  }
}

}  // namespace
}  // namespace ccopy
