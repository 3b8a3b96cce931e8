// Sweeps through the real binary: the table at the end, the SVG chart rendered to PNG, and the
// progress line, which goes to a terminal on stderr and never to stdout.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "process.hpp"
#include "test_dir.hpp"

extern char** environ;

namespace ccopy {
namespace {

using testing::ProcessResult;
using testing::run_binary;
using testing::TestDir;

std::vector<std::string> small_sweep(const TestDir& dir) {
  return {"-files",  "3,5", "-size", "4K,8K", "-runs", "2",
          "-warmup", "0",   "-mode", "both",  "-dir",  dir.path()};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(Sweep, EndsWithATableRowPerScenarioBeforeTheVerdict) {
  TestDir dir;
  const ProcessResult r = run_binary(small_sweep(dir));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::vector<std::string> lines = lines_of(r.out);
  std::size_t table = lines.size();
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].rfind("Sweep: median throughput per scenario", 0) == 0) table = i;
  ASSERT_LT(table + 7, lines.size()) << r.out;
  EXPECT_TRUE(std::regex_match(lines[table + 1],
                               std::regex(" +Scenario +\\| +xev +\\| +goroutine +\\| Winner")))
      << lines[table + 1];
  const std::array<const char*, 4> names{"3x4K", "3x8K", "5x4K", "5x8K"};
  const std::string cell = " +[0-9]+\\.[0-9] MiB/s, [0-9]+ files/s +";
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::regex row("  " + std::string(names[i]) + " +\\|" + cell + "\\|" + cell +
                         "\\| (xev|goroutine) [0-9]+\\.[0-9]{2} \u00b1 [0-9]+\\.[0-9]{2}x( "
                         "\\(within the noise\\))?");
    EXPECT_TRUE(std::regex_match(lines[table + 3 + i], row)) << lines[table + 3 + i];
  }
  EXPECT_EQ(lines.back(), "Verification: OK");
  EXPECT_EQ(r.out.find("Sweep:"), r.out.rfind("Sweep:")) << "one table only";
  for (const char* name : names)
    EXPECT_NE(r.out.find(std::string("--- Scenario ") + name + " ---"), std::string::npos) << name;
  EXPECT_EQ(testing::entries_in(dir.path()), 0u);
}

TEST(Sweep, LargeFileRowsShowNoFilesPerSecond) {
  TestDir dir;
  const ProcessResult r = run_binary({"-scenarios", "3x4K,2x128K", "-runs", "1", "-warmup", "0",
                                      "-mode", "goroutine", "-dir", dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex("\n  3x4K +\\| +[0-9.]+ MiB/s, [0-9]+ files/s \\| only goroutine\n")))
      << r.out;
  EXPECT_TRUE(
      std::regex_search(r.out, std::regex("\n  2x128K +\\| +[0-9.]+ MiB/s \\| only goroutine\n")))
      << r.out;
}

TEST(Sweep, ASingleScenarioHasNoTable) {
  TestDir dir;
  const ProcessResult r =
      run_binary({"-files", "3", "-size", "4K", "-runs", "1", "-warmup", "0", "-dir", dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("Sweep:"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("--- Scenario"), std::string::npos) << r.out;
}

TEST(Sweep, BadScenarioNamesAreUsageErrors) {
  TestDir dir;
  const ProcessResult r = run_binary({"-scenarios", "1000x4K,lots", "-dir", dir.path()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("unknown scenario 'lots'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1000x4K, 200x64K, 100x256K, 50x1M, 20x5M, 10x10M, 5x50M"),
            std::string::npos)
      << r.err;
  const ProcessResult both = run_binary({"-scenarios", "all", "-files", "3", "-dir", dir.path()});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("-scenarios cannot be combined with -files"), std::string::npos)
      << both.err;
  EXPECT_EQ(testing::entries_in(dir.path()), 0u);
}

// Runs `command` through the shell and returns its exit status.
int shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The width and height from a PNG's IHDR chunk.
std::pair<std::uint32_t, std::uint32_t> png_size(const std::string& png) {
  const auto be32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(png[at + i]);
    return v;
  };
  if (png.size() < 24 || png.compare(1, 3, "PNG") != 0 || png.compare(12, 4, "IHDR") != 0)
    return {0, 0};
  return {be32(16), be32(20)};
}

TEST(Sweep, SvgChartRendersToAPng) {
  if (shell("command -v rsvg-convert >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "rsvg-convert (librsvg2-bin) is not installed";
  TestDir dir, out;
  std::vector<std::string> args = small_sweep(dir);
  const std::string svg = out.path() + "/chart.svg", png = out.path() + "/chart.png";
  args.insert(args.end(), {"-svg", svg});
  const ProcessResult r = run_binary(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string text = slurp(svg);
  ASSERT_EQ(text.rfind("<?xml", 0), 0u) << text.substr(0, 200);
  for (const char* name : {">xev<", ">goroutine<", ">3x4K<", ">3x8K<", ">5x4K<", ">5x8K<",
                           "Throughput, MiB/s", "CPUs", "(tmpfs)"})
    EXPECT_NE(text.find(name), std::string::npos) << name;
  EXPECT_EQ(r.out.find("<svg"), std::string::npos) << "the chart went to stdout";

  ASSERT_EQ(shell("rsvg-convert -o '" + png + "' '" + svg + "'"), 0);
  const std::string image = slurp(png);
  ASSERT_GT(image.size(), 1000u);
  const auto [width, height] = png_size(image);
  EXPECT_GE(width, 600u);
  EXPECT_LE(width, 4000u);
  EXPECT_GE(height, 300u);
  EXPECT_LE(height, 1200u);
}

TEST(Sweep, SvgOfASingleScenario) {
  TestDir dir, out;
  const std::string svg = out.path() + "/one.svg";
  const ProcessResult r = run_binary({"-files", "3", "-size", "4K", "-runs", "1", "-warmup", "0",
                                      "-dir", dir.path(), "--svg=" + svg});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string text = slurp(svg);
  EXPECT_NE(text.find(">3x4K<"), std::string::npos);
  EXPECT_NE(text.find("</svg>"), std::string::npos);
}

TEST(Sweep, AnSvgPathInAMissingDirectoryIsRefusedBeforeTheRun) {
  TestDir dir;
  const ProcessResult r = run_binary({"-files", "3", "-size", "4K", "-runs", "1", "-warmup", "0",
                                      "-dir", dir.path(), "-svg", "/nonexistent/dir/chart.svg"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("-svg /nonexistent/dir/chart.svg: /nonexistent/dir: No such file or directory"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(r.out.empty()) << "nothing runs: " << r.out;
}

TEST(Sweep, AnSvgFileThatCannotBeWrittenFailsAfterTheResults) {
  TestDir dir;
  // The path is a directory: its parent is writable, so only the write itself fails.
  const ProcessResult r = run_binary({"-files", "3", "-size", "4K", "-runs", "1", "-warmup", "0",
                                      "-dir", dir.path(), "-svg", dir.path()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("-svg " + dir.path()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Is a directory"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("Verification: OK"), std::string::npos) << "the results are still printed";
}

// What a run with stderr on a pseudo-terminal printed: stdout (a pipe) and the terminal's text.
struct TtyRun {
  int exit_code = -1;
  std::string out, tty;
};

TtyRun run_with_tty_stderr(const std::vector<std::string>& args) {
  TtyRun result;
  int master = -1, slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, nullptr) < 0) return result;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) < 0) return result;
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, slave, 2);
  std::vector<std::string> storage{CCOPY_BINARY};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, CCOPY_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(slave);
  if (rc != 0) {
    ::close(out[0]);
    ::close(master);
    return result;
  }
  // Both are read until they close: the pipe at the child's exit, the terminal with EIO once
  // its last slave descriptor is gone.
  std::array<int, 2> fds{out[0], master};
  std::array<std::string*, 2> sinks{&result.out, &result.tty};
  while (fds[0] >= 0 || fds[1] >= 0) {
    pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
    if (::poll(p, 2, 60'000) <= 0) break;
    for (std::size_t i = 0; i < 2; ++i) {
      if (fds[i] < 0 || p[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds[i], buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i]);
        fds[i] = -1;
      }
    }
  }
  for (int fd : fds)
    if (fd >= 0) ::close(fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

TEST(Progress, GoesToATerminalOnStderrAndNeverToStdout) {
  TestDir dir;
  const TtyRun r = run_with_tty_stderr(small_sweep(dir));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.tty;
  EXPECT_NE(r.tty.find("\r[1/4 3x4K] "), std::string::npos) << r.tty;
  EXPECT_NE(r.tty.find("[4/4 5x8K] "), std::string::npos) << r.tty;
  EXPECT_NE(r.tty.find("xev: run 1/2"), std::string::npos) << r.tty;
  EXPECT_NE(r.tty.find(" elapsed"), std::string::npos) << r.tty;
  EXPECT_TRUE(r.tty.size() >= 4 && r.tty.compare(r.tty.size() - 4, 4, "\r\033[K") == 0)
      << "the line is erased at the end";
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
  EXPECT_EQ(r.out.find("\033["), std::string::npos);
  EXPECT_EQ(r.out.find("elapsed"), std::string::npos);
  EXPECT_NE(r.out.find("Verification: OK"), std::string::npos) << r.out;
}

TEST(Progress, QuietKeepsTheTerminalSilent) {
  TestDir dir;
  std::vector<std::string> args = small_sweep(dir);
  args.push_back("-quiet");
  const TtyRun r = run_with_tty_stderr(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.tty;
  EXPECT_EQ(r.tty, "");
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
}

TEST(Progress, NothingWhenStderrIsNotATerminal) {
  TestDir dir;
  const ProcessResult r = run_binary(small_sweep(dir));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("elapsed"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
  EXPECT_EQ(r.out.find("elapsed"), std::string::npos);
}

}  // namespace
}  // namespace ccopy
