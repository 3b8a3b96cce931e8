// The real binary, interrupted and constrained: a terminating signal (SIGINT, SIGTERM, SIGHUP,
// and every other one sent from outside) during generation, during a copy, or during a sweep
// ends it within a second, by that signal, and with nothing left on disk (unless -keep); too
// little space is refused before anything is written; a low descriptor limit bounds the
// concurrency instead of failing with EMFILE.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <regex>

#include "cli/process.hpp"
#include "signals.hpp"
#include "test_dir.hpp"

namespace ccopy {
namespace {

using namespace std::chrono_literals;
using cli::signal_name;
using testing::entries_in;
using testing::Process;
using testing::ProcessResult;
using testing::TestDir;

// The cleanup is promised "within a second"; the bound leaves room for a loaded machine (two
// cores shared with builds took 1.47 s once), and sanitizers slow everything several times.
#ifdef CCOPY_SANITIZED
constexpr auto kExitWithin = 10s;
#else
constexpr auto kExitWithin = 3s;
#endif

// The workspace the binary made in `dir`, or an empty path while there is none yet.
std::filesystem::path workspace_in(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.path().filename().string().rfind("concurrent_copy.", 0) == 0) return entry.path();
  return {};
}

// Reads the child's output until `ready` holds (checked between reads of at most 5 ms), the
// child ends, or 60 seconds pass; returns whether it held.
bool wait_until(Process& p, const std::function<bool()>& ready) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    if (p.wait_for_output("\x01 never printed", 5ms)) return false;
  }
  return ready();
}

bool generating(const std::string& dir) {
  const auto ws = workspace_in(dir);
  return !ws.empty() && entries_in((ws / "src").string()) > 0 &&
         entries_in((ws / "dst").string()) == 0;
}

bool copying(const std::string& dir) {
  const auto ws = workspace_in(dir);
  return !ws.empty() && entries_in((ws / "dst").string()) > 0;
}

struct Interruption {
  std::vector<std::string> args;
  int signal;
  bool (*moment)(const std::string&);
  bool keep = false;
};

// Signals whose default action dumps core (SIGQUIT, SIGTRAP, SIGXCPU) must not leave a core
// file where the test runs: the children inherit a core limit of 0.
void forbid_core_dumps() {
  const rlimit none{0, 0};
  ASSERT_EQ(::setrlimit(RLIMIT_CORE, &none), 0);
}

// Starts the binary, waits for `moment`, sends the signal, and checks how it ended: killed by
// that very signal (what a shell reports as 128 + n) after saying so, within the time bound,
// and with nothing left behind unless -keep.
void interrupt(const Interruption& c) {
  forbid_core_dumps();
  TestDir dir;
  ASSERT_TRUE(dir.ok());
  std::vector<std::string> args = c.args;
  args.insert(args.end(), {"-dir", dir.path()});
  if (c.keep) args.push_back("-keep");
  Process p(CCOPY_BINARY, args);
  ASSERT_TRUE(wait_until(p, [&] { return c.moment(dir.path()); })) << "the moment never came";
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(p.pid(), c.signal), 0);
  const ProcessResult r = p.finish(30s);
  const auto took = std::chrono::steady_clock::now() - sent;
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.signal, c.signal) << "not killed by " << signal_name(c.signal) << ": " << r.exit_code
                                << "\n"
                                << r.out << r.err;
  EXPECT_EQ(r.exit_code, 128 + c.signal);
  EXPECT_LT(took, kExitWithin)
      << "exited " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
      << " ms after the signal";
  const std::string said = "concurrent_copy: interrupted by " + signal_name(c.signal) + "; ";
  if (c.keep) {
    const auto ws = workspace_in(dir.path());
    ASSERT_FALSE(ws.empty()) << "-keep did not keep the files";
    EXPECT_GT(entries_in((ws / "src").string()), 0u);
    EXPECT_NE(r.err.find(said + "the generated files are kept (-keep) "), std::string::npos)
        << r.err;
  } else {
    EXPECT_NE(r.err.find(said + "generated files removed\n"), std::string::npos) << r.err;
    EXPECT_EQ(entries_in(dir.path()), 0u) << "files were left behind";
  }
}

const std::vector<std::string> kLongGeneration{"-files", "100", "-size", "4M", "-mode", "all"};
const std::vector<std::string> kLongCopy{"-files", "200", "-size", "512K",
                                         "-runs",  "200", "-mode", "all"};
const std::vector<std::string> kSweep{"-files", "200,300", "-size", "64K,128K",
                                      "-runs",  "100",     "-mode", "all"};

TEST(Interrupt, SigintDuringGeneration) { interrupt({kLongGeneration, SIGINT, generating}); }
TEST(Interrupt, SigtermDuringGeneration) { interrupt({kLongGeneration, SIGTERM, generating}); }
TEST(Interrupt, SigintWhileGeneratingOneHugeFile) {
  // Generation is interrupted inside the file, not only between files; the signal comes long
  // before the gibibyte is written.
  interrupt({{"-files", "1", "-size", "1G", "-mode", "goroutine"}, SIGINT, generating});
}
TEST(Interrupt, SigintDuringACopy) { interrupt({kLongCopy, SIGINT, copying}); }
TEST(Interrupt, SigtermDuringACopy) { interrupt({kLongCopy, SIGTERM, copying}); }
TEST(Interrupt, SigintDuringASweep) { interrupt({kSweep, SIGINT, copying}); }
TEST(Interrupt, SigtermDuringASweep) { interrupt({kSweep, SIGTERM, copying}); }
TEST(Interrupt, SigintDuringACopyOfTheEventLoopOnly) {
  interrupt({{"-files", "64", "-size", "2M", "-runs", "200", "-mode", "xev", "-inflight", "64"},
             SIGINT,
             copying});
}
TEST(Interrupt, KeepLeavesTheFilesWhenInterrupted) {
  interrupt({kLongCopy, SIGINT, copying, true});
}

// With -keep, the message names the kept workspace by its absolute path, whichever stage the
// signal came in.
// needs the library rewrite: the runner must record the workspace of the scenario it is in
// (ScenarioResult::kept_directory, with the ScenarioResult itself) as soon as the workspace is
// created, not only once the scenario finished, so that an interrupted run can say where it is.
TEST(Interrupt, KeepSaysWhereTheKeptFilesAre) {
  forbid_core_dumps();
  for (bool (*moment)(const std::string&) : {generating, copying}) {
    TestDir dir;
    std::vector<std::string> args = kLongCopy;
    args.insert(args.end(), {"-dir", dir.path(), "-keep"});
    Process p(CCOPY_BINARY, args);
    ASSERT_TRUE(wait_until(p, [&] { return moment(dir.path()); })) << "the moment never came";
    ASSERT_EQ(::kill(p.pid(), SIGTERM), 0);
    const ProcessResult r = p.finish(30s);
    EXPECT_EQ(r.signal, SIGTERM) << r.err;
    const auto ws = workspace_in(dir.path());
    ASSERT_FALSE(ws.empty());
    ASSERT_EQ(ws.string().front(), '/');
    EXPECT_NE(r.err.find("interrupted by SIGTERM; the generated files are kept (-keep) in " +
                         ws.string() + "\n"),
              std::string::npos)
        << r.err;
  }
}

// Every signal that ends a process by default and comes from outside it: the run stops, cleans
// up, says which signal it was, and the process dies of it.
class EverySignal : public ::testing::TestWithParam<int> {};

TEST_P(EverySignal, CleansUpAndDiesOfIt) { interrupt({kLongCopy, GetParam(), copying}); }

std::vector<int> handled_signals() {
  std::vector<int> signals{SIGINT,    SIGTERM,   SIGHUP,   SIGQUIT,      SIGUSR1, SIGUSR2,
                           SIGALRM,   SIGVTALRM, SIGPROF,  SIGIO,        SIGPWR,  SIGXCPU,
                           SIGSTKFLT, SIGTRAP,   SIGRTMIN, SIGRTMIN + 5, SIGRTMAX};
  return signals;
}

INSTANTIATE_TEST_SUITE_P(Signals, EverySignal, ::testing::ValuesIn(handled_signals()),
                         [](const ::testing::TestParamInfo<int>& param) {
                           std::string name = signal_name(param.param);
                           for (char& ch : name)
                             if (ch == '+') ch = '_';
                           return name;
                         });

// The watched signals are the ones this test sends, no more, no fewer.
TEST(Interrupt, TheWatchedSignalsAreTheOnesTested) {
  std::vector<int> all_realtime;
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) all_realtime.push_back(sig);
  std::vector<int> expected{SIGHUP,  SIGINT,    SIGQUIT, SIGTRAP,   SIGUSR1, SIGUSR2, SIGALRM,
                            SIGTERM, SIGSTKFLT, SIGXCPU, SIGVTALRM, SIGPROF, SIGIO,   SIGPWR};
  std::sort(expected.begin(), expected.end());
  expected.insert(expected.end(), all_realtime.begin(), all_realtime.end());
  EXPECT_EQ(cli::watched_signals(), expected);
}

// Why the process must die of the signal: bash ends a loop on Ctrl-C only when the child it
// waited for died of SIGINT; a child that exits with 130 looks as if it handled the signal,
// and the loop goes on. Ctrl-C is sent to the whole process group, as a terminal sends it.
TEST(Interrupt, CtrlCEndsTheShellLoopThatRunsIt) {
  if (::access("/bin/bash", X_OK) != 0) GTEST_SKIP() << "bash is not installed";
  TestDir dir;
  testing::SpawnOptions options;
  options.own_process_group = true;
  std::vector<std::string> args{"-c", "for round in 1 2; do \"$0\" \"$@\"; done; echo loop went on",
                                CCOPY_BINARY};
  args.insert(args.end(), kLongCopy.begin(), kLongCopy.end());
  args.insert(args.end(), {"-dir", dir.path()});
  Process shell("/bin/bash", args, options);
  ASSERT_TRUE(wait_until(shell, [&] { return copying(dir.path()); })) << "the moment never came";
  ASSERT_EQ(::kill(-shell.pid(), SIGINT), 0);
  const ProcessResult r = shell.finish(30s);  // a round that went on is killed with the shell
  EXPECT_FALSE(r.timed_out) << "the loop went on to its second round";
  EXPECT_EQ(r.signal, SIGINT) << r.out << r.err;
  EXPECT_EQ(r.out.find("loop went on"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("concurrent_copy: interrupted by SIGINT; generated files removed\n"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

// SIGPIPE is ignored: sent from outside, it changes nothing, and the run ends normally.
TEST(Interrupt, SigpipeIsIgnored) {
  TestDir dir;
  Process p(CCOPY_BINARY, {"-files", "50", "-size", "64K", "-runs", "3", "-warmup", "0", "-mode",
                           "goroutine", "-dir", dir.path()});
  ASSERT_TRUE(wait_until(p, [&] { return copying(dir.path()); })) << "the moment never came";
  ASSERT_EQ(::kill(p.pid(), SIGPIPE), 0);
  const ProcessResult r = p.finish(60s);
  EXPECT_EQ(r.signal, 0) << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Verification: OK"), std::string::npos) << r.out;
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

// The first line of `text` that holds `what`, or an empty string.
std::string line_with(const std::string& text, const std::string& what) {
  const std::size_t at = text.find(what);
  if (at == std::string::npos) return {};
  const std::size_t start =
      text.rfind('\n', at) == std::string::npos ? 0 : text.rfind('\n', at) + 1;
  return text.substr(start, text.find('\n', at) - start);
}

// Runs the binary in a private mount namespace with a file system of `type` mounted on `dir`,
// with `options` ("size=1m").
ProcessResult run_on_mount(const std::string& dir, const std::string& type,
                           const std::string& options, const std::vector<std::string>& args) {
  std::vector<std::string> all{"-m",
                               "sh",
                               "-c",
                               "mount --make-rprivate / && mount -t " + type + " -o " + options +
                                   " " + type + " \"$0\" && exec \"$@\"",
                               dir,
                               CCOPY_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  Process p("/usr/bin/unshare", all);
  return p.finish(60s);
}

ProcessResult run_on_small_tmpfs(const std::string& dir, const std::string& size,
                                 const std::vector<std::string>& args) {
  return run_on_mount(dir, "tmpfs", "size=" + size, args);
}

// Why a private mount of `type` with `options` cannot be made here, or an empty string when it
// can.
std::string cannot_mount(const std::string& dir, const std::string& type,
                         const std::string& options = "size=1m") {
  if (!std::filesystem::exists("/usr/bin/unshare")) return "unshare (util-linux) is not installed";
  const ProcessResult probe = run_on_mount(dir, type, options, {"--version"});
  if (probe.exit_code != 0)
    return "cannot mount a " + type + " in a private mount namespace here: " + probe.err;
  return {};
}

// The figure is the generated tree's footprint, sources and one copy: 10 files of 200 KiB in
// whole 4 KiB blocks and a block for each tree's root directory, 2 x 2,052,096 bytes.
TEST(Constraints, RefusesTooLittleSpaceBeforeWritingAnything) {
  TestDir dir;
  if (const std::string why = cannot_mount(dir.path(), "tmpfs"); !why.empty()) GTEST_SKIP() << why;
  const ProcessResult r = run_on_small_tmpfs(
      dir.path(), "1m",
      {"-files", "10", "-size", "200K", "-runs", "1", "-warmup", "0", "-dir", dir.path()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(
      r.err.find("concurrent_copy: not enough space in " + dir.path() + ": the run needs 3.9 MiB"),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("1.0 MiB free"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("Running"), std::string::npos) << r.out;
}

// When the rounded figures read the same ("needs 2.0 MiB, 2.0 MiB free"), the exact bytes are
// given beside them.
TEST(Constraints, SaysTheExactBytesWhenRoundingHidesTheShortfall) {
  TestDir dir;
  if (const std::string why = cannot_mount(dir.path(), "tmpfs"); !why.empty()) GTEST_SKIP() << why;
  // One file of 1021 KiB: its source and its copy, each rounded up to whole 4 KiB pages, and
  // their metadata take 2105344 bytes, 8 KiB more than the 2 MiB file system holds.
  const ProcessResult r = run_on_small_tmpfs(
      dir.path(), "2m",
      {"-files", "1", "-size", "1021K", "-runs", "1", "-warmup", "0", "-dir", dir.path()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(std::regex_search(
      r.err, std::regex("the run needs 2\\.0 MiB \\(2105344 bytes\\) \\(the source files, one copy "
                        "and their metadata\\), 2\\.0 MiB \\([0-9]+ bytes\\) free\n")))
      << r.err;
}

// ramfs has no size: statvfs reports 0 blocks in all, which is no reason to refuse a run.
TEST(Constraints, ARamfsWithoutASizeLimitIsNotRefused) {
  TestDir dir;
  if (const std::string why = cannot_mount(dir.path(), "ramfs", "mode=0700"); !why.empty())
    GTEST_SKIP() << why;
  const ProcessResult r = run_on_mount(
      dir.path(), "ramfs", "mode=0700",
      {"-files", "4", "-size", "16K", "-runs", "1", "-warmup", "0", "-dir", dir.path()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Verification: OK"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("free"), std::string::npos) << r.err;
}

// A descriptor limit that leaves no room says which limit would: the run is refused one below
// it and runs at it, for an engine without pipes and for one with them.
TEST(Constraints, ATooLowDescriptorLimitSaysWhichLimitWouldDo) {
  for (const char* mode : {"goroutine", "xev"}) {
    TestDir dir;
    const auto run = [&](long limit) {
      Process p("/bin/sh", {"-c", "ulimit -n " + std::to_string(limit) + " && exec \"$@\"", "sh",
                            CCOPY_BINARY, "-files", "1", "-size", "64K", "-mode", mode, "-runs",
                            "1", "-warmup", "0", "-dir", dir.path()});
      return p.finish(60s);
    };
    const ProcessResult refused = run(40);
    EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
    std::smatch advice;
    ASSERT_TRUE(std::regex_search(
        refused.err, advice,
        std::regex("^concurrent_copy: the open-file limit \\(40\\) leaves no room to copy: .*; "
                   "raise it to at least ([0-9]+) with 'ulimit -n ([0-9]+)'\n$")))
        << refused.err;
    ASSERT_EQ(advice[1].str(), advice[2].str());
    const long enough = std::stol(advice[1].str());
    EXPECT_EQ(run(enough - 1).exit_code, 1) << mode << ": " << enough - 1 << " was enough already";
    const ProcessResult ran = run(enough);
    EXPECT_EQ(ran.exit_code, 0) << mode << ":\n" << ran.out << ran.err;
    EXPECT_NE(ran.out.find("Verification: OK"), std::string::npos) << ran.out;
    EXPECT_EQ(entries_in(dir.path()), 0u);
  }
}

TEST(Constraints, ALowDescriptorLimitBoundsTheConcurrencyAndSaysSo) {
  TestDir dir;
  // The hard limit is lowered too, so that the binary cannot raise it back.
  Process p("/bin/sh", {"-c", "ulimit -n 100 && exec \"$@\"", "sh", CCOPY_BINARY, "-files", "300",
                        "-size", "4K", "-mode", "all", "-inflight", "64", "-runs", "1", "-warmup",
                        "0", "-dir", dir.path()});
  const ProcessResult r = p.finish(60s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Note: the open-file limit (100) allows"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Verification: OK"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Too many open files"), std::string::npos) << r.out;
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

// The bound names only the options of the engines that run: -inflight for uv alone (which holds
// no pipes: 2 descriptors per file in flight), -workers for the thread engines alone.
TEST(Constraints, TheDescriptorBoundNamesOnlyTheOptionsOfTheEnginesThatRun) {
  TestDir dir;
  const auto run = [&](const char* mode) {
    Process p("/bin/sh", {"-c", "ulimit -n 100 && exec \"$@\"", "sh", CCOPY_BINARY, "-files", "300",
                          "-size", "4K", "-mode", mode, "-inflight", "64", "-runs", "1", "-warmup",
                          "0", "-dir", dir.path()});
    return p.finish(60s);
  };
  const ProcessResult uv = run("uv");
  ASSERT_EQ(uv.exit_code, 0) << uv.out << uv.err;
  EXPECT_NE(uv.out.find("copying at most"), std::string::npos) << uv.out;
  EXPECT_NE(uv.out.find("(-inflight "), std::string::npos) << uv.out;
  EXPECT_EQ(uv.out.find("-workers"), std::string::npos) << uv.out;
  EXPECT_EQ(uv.out.find("pipe"), std::string::npos) << uv.out;
  const ProcessResult threads = run("threads");
  ASSERT_EQ(threads.exit_code, 0) << threads.out << threads.err;
  const std::string bound = line_with(threads.out, "Note: the open-file limit");
  EXPECT_NE(bound.find("(-workers "), std::string::npos) << threads.out;
  EXPECT_EQ(bound.find("-inflight"), std::string::npos) << threads.out;
  // The -inflight given is named once more, as an option no engine of the run reads.
  EXPECT_NE(threads.out.find("Note: -inflight 64 is unused: no uring or uv engine runs"),
            std::string::npos)
      << threads.out;
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

}  // namespace
}  // namespace ccopy
