// The real binary, interrupted and constrained: SIGINT or SIGTERM during generation, during a
// copy, or during a sweep ends it within a second with 130 or 143 and nothing left on disk
// (unless -keep); too little space is refused before anything is written; a low descriptor
// limit bounds the concurrency instead of failing with EMFILE.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>

#include "cli/process.hpp"
#include "test_dir.hpp"

namespace ccopy {
namespace {

using namespace std::chrono_literals;
using testing::entries_in;
using testing::Process;
using testing::ProcessResult;
using testing::TestDir;

#ifdef CCOPY_SANITIZED
// Sanitizers slow everything down several times: the bound is the second, scaled.
constexpr auto kExitWithin = 5s;
#else
constexpr auto kExitWithin = 1s;
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

// Starts the binary, waits for `moment`, sends the signal, and checks the exit code, the time
// it took to exit and what it left behind.
void interrupt(const Interruption& c) {
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
  EXPECT_EQ(r.exit_code, c.signal == SIGINT ? 130 : 143) << r.out << r.err;
  EXPECT_LT(took, kExitWithin)
      << "exited " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
      << " ms after the signal";
  EXPECT_NE(r.err.find(c.signal == SIGINT ? "interrupted by SIGINT" : "interrupted by SIGTERM"),
            std::string::npos)
      << r.err;
  if (c.keep) {
    const auto ws = workspace_in(dir.path());
    ASSERT_FALSE(ws.empty()) << "-keep did not keep the files";
    EXPECT_GT(entries_in((ws / "src").string()), 0u);
  } else {
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

// Runs the binary in a private mount namespace with a small tmpfs on `dir`.
ProcessResult run_on_small_tmpfs(const std::string& dir, const std::string& size,
                                 const std::vector<std::string>& args) {
  std::vector<std::string> all{
      "-m",
      "sh",
      "-c",
      "mount --make-rprivate / && mount -t tmpfs -o size=" + size + " tmpfs \"$0\" && exec \"$@\"",
      dir,
      CCOPY_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  Process p("/usr/bin/unshare", all);
  return p.finish(60s);
}

TEST(Constraints, RefusesTooLittleSpaceBeforeWritingAnything) {
  TestDir dir;
  if (!std::filesystem::exists("/usr/bin/unshare"))
    GTEST_SKIP() << "unshare (util-linux) is not installed";
  const ProcessResult probe = run_on_small_tmpfs(dir.path(), "1m", {"--version"});
  if (probe.exit_code != 0)
    GTEST_SKIP() << "cannot mount a tmpfs in a private mount namespace here: " << probe.err;
  const ProcessResult r = run_on_small_tmpfs(
      dir.path(), "1m",
      {"-files", "10", "-size", "200K", "-runs", "1", "-warmup", "0", "-dir", dir.path()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(
      r.err.find("concurrent_copy: not enough space in " + dir.path() + ": the run needs 4.0 MiB"),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("1.0 MiB free"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("Running"), std::string::npos) << r.out;
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
  EXPECT_NE(threads.out.find("(-workers "), std::string::npos) << threads.out;
  EXPECT_EQ(threads.out.find("-inflight"), std::string::npos) << threads.out;
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

}  // namespace
}  // namespace ccopy
