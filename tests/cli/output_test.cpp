// What the real binary writes and where it fails to: a report that cannot be written (a full
// device, a closed stdout, a pipe nobody reads) is an error with its reason; the CPUs the process
// may use; 0-byte files compared by files per second; the ranking's warnings beside the results
// they qualify.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "process.hpp"
#include "test_dir.hpp"

namespace ccopy {
namespace {

using testing::entries_in;
using testing::ProcessResult;
using testing::run_binary;
using testing::SpawnOptions;
using testing::TestDir;

std::vector<std::string> small_run(const TestDir& dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"-files",  "4", "-size", "4K",        "-runs", "2",
                                "-warmup", "0", "-mode", "goroutine", "-dir",  dir.path()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

bool has_line(const std::string& text, const std::string& pattern) {
  return std::regex_search(text, std::regex(pattern, std::regex::multiline));
}

// Runs the binary with `fd` as its stdout, then closes `fd`.
ProcessResult run_with_stdout(int fd, const std::vector<std::string>& args) {
  SpawnOptions options;
  options.stdout_fd = fd;
  ProcessResult r = run_binary(args, options);
  if (fd >= 0) ::close(fd);
  return r;
}

TEST(Output, AReportThatCannotBeWrittenExitsWithOneAndTheReason) {
  TestDir dir;
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (full < 0) GTEST_SKIP() << "/dev/full cannot be opened here";
  const ProcessResult r = run_with_stdout(full, small_run(dir));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "concurrent_copy: cannot write the report to stdout: No space left on device\n");
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

TEST(Output, AClosedStdoutIsRefusedBeforeAnythingRuns) {
  TestDir dir;
  const ProcessResult r = run_with_stdout(SpawnOptions::kClosed, small_run(dir, {"-keep"}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err,
            "concurrent_copy: cannot write the report to stdout: Bad file descriptor (stdout is "
            "closed)\n");
  EXPECT_EQ(entries_in(dir.path()), 0u) << "-keep would have kept what a run made";
}

// SIGPIPE is ignored, so a pipe whose reader is gone is an error (EPIPE) with a message, not a
// silent death.
TEST(Output, APipeWithoutAReaderIsBrokenPipeNotSigpipe) {
  TestDir dir;
  int ends[2];
  ASSERT_EQ(::pipe2(ends, O_CLOEXEC), 0);
  ::close(ends[0]);
  const ProcessResult r = run_with_stdout(ends[1], small_run(dir));
  EXPECT_EQ(r.signal, 0) << "killed by signal " << r.signal;
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "concurrent_copy: cannot write the report to stdout: Broken pipe\n");
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

TEST(Output, AnExportToAFullStdoutSaysWhy) {
  TestDir dir;
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (full < 0) GTEST_SKIP() << "/dev/full cannot be opened here";
  const ProcessResult r = run_with_stdout(full, small_run(dir, {"-json", "-"}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("Verification: OK"), std::string::npos) << "the report went to stderr";
  EXPECT_NE(
      r.err.find("\nconcurrent_copy: cannot write -json to stdout: No space left on device\n"),
      std::string::npos)
      << r.err;
}

// The process may be confined to fewer CPUs than the machine has (taskset, a cpuset): the
// report says how many it may use, beside the machine's count. The child inherits this test's
// affinity, confined here to one CPU.
TEST(Output, TheCpusTheProcessMayUseAreReportedBesideTheMachines) {
  const unsigned machine = std::thread::hardware_concurrency();
  if (machine < 2) GTEST_SKIP() << "a machine of one CPU cannot be confined to fewer";
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  ASSERT_EQ(::sched_getaffinity(0, sizeof allowed, &allowed), 0);
  std::size_t first = 0;
  while (!CPU_ISSET(first, &allowed)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(::sched_setaffinity(0, sizeof one, &one), 0);
  TestDir dir;
  const ProcessResult r = run_binary(small_run(dir, {"-json", "-"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has_line(r.err, "^CPUs: 1 usable of " + std::to_string(machine) + " \\(affinity\\)$"))
      << r.err;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["context"]["cpus"], machine);
  EXPECT_EQ(doc["context"]["usable_cpus"], 1);
}

// Files of 0 bytes have no MiB/s to rank by: every rate is files per second.
TEST(Output, ZeroByteFilesAreComparedByFilesPerSecond) {
  TestDir dir;
  const ProcessResult r = run_binary({"-files", "20", "-size", "0", "-runs", "2", "-warmup", "0",
                                      "-mode", "uv,threads,kernel", "-dir", dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("0.00 MiB/s"), std::string::npos) << r.out;
  EXPECT_TRUE(has_line(r.out,
                       "^Running threads copy \\(.*\\)\\.\\.\\. done in [0-9.]+ [mun]?s "
                       "\\([0-9]+ files/s\\)$"))
      << r.out;
  EXPECT_TRUE(has_line(r.out, "^  1\\. \\S+ +[0-9.]+ [mun]?s +[0-9]+ files/s  fastest$")) << r.out;
  const ProcessResult sweep = run_binary({"-files", "20", "-size", "0,4K", "-runs", "1", "-warmup",
                                          "0", "-mode", "both", "-dir", dir.path()});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.out << sweep.err;
  EXPECT_TRUE(has_line(sweep.out, "^  20x0 +\\| +[0-9]+ files/s \\| +[0-9]+ files/s \\| "))
      << sweep.out;
  EXPECT_TRUE(has_line(sweep.out, "^  20x4K +\\| +[0-9.]+ MiB/s, [0-9]+ files/s \\| "))
      << sweep.out;
}

// The warning about a ranking the noise could change is printed under that scenario's
// comparison, one line naming the pairs, not among the run's conditions before any result.
TEST(Output, RankingWarningsStandBesideTheResultsTheyQualify) {
  TestDir dir;
  const ProcessResult r = run_binary({"-files", "8,16", "-size", "4K", "-runs", "3", "-warmup", "0",
                                      "-mode", "all", "-dir", dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::size_t first_scenario = r.out.find("\n--- Scenario ");
  ASSERT_NE(first_scenario, std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(0, first_scenario).find("within the noise"), std::string::npos)
      << "a ranking warning among the conditions:\n"
      << r.out;
  EXPECT_EQ(r.out.find("overlap"), std::string::npos) << r.out;
  for (const std::string name : {"8x4K", "16x4K"}) {
    const std::size_t begin = r.out.find("--- Scenario " + name + " ---");
    ASSERT_NE(begin, std::string::npos) << name;
    const std::size_t end =
        std::min(r.out.find("\n--- Scenario ", begin + 1), r.out.find("\nSweep:"));
    const std::string section = r.out.substr(begin, end - begin);
    const std::string warning = "***WARNING*** " + name + ": within the noise";
    const std::size_t at = r.out.find(warning);
    // Whether the noise hides an order depends on the run; where the warning stands does not.
    if (at != std::string::npos) {
      EXPECT_GT(at, begin) << name;
      EXPECT_LT(at, end) << name;
      EXPECT_EQ(r.out.find(warning, at + 1), std::string::npos) << "one line per scenario";
      EXPECT_LT(section.find("Comparison"), section.find(warning)) << section;
    }
  }
}

}  // namespace
}  // namespace ccopy
