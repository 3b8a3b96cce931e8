// The real binary under resource limits the system enforces: a file-size limit (RLIMIT_FSIZE)
// below the files or the export, an address-space limit (RLIMIT_AS) and a process limit
// (RLIMIT_NPROC, as the unprivileged user nobody). Each must end with exit 1, one line on stderr
// that starts with "concurrent_copy: " and says what was refused, and nothing left in -dir: no
// death by SIGXFSZ, no "terminate called after throwing", no abort.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "cli/process.hpp"
#include "test_dir.hpp"

namespace ccopy {
namespace {

using namespace std::chrono_literals;
using testing::entries_in;
using testing::Process;
using testing::ProcessResult;
using testing::TestDir;

constexpr const char* kPrlimit = "/usr/bin/prlimit";
constexpr const char* kSetpriv = "/usr/bin/setpriv";

// Runs the binary (or `binary`) with `limit` ("--fsize=512000") set by prlimit, which sets
// both the soft and the hard limit and then executes it in its own place.
ProcessResult run_limited(const std::string& limit, const std::vector<std::string>& args,
                          const std::string& binary = CCOPY_BINARY,
                          const std::vector<std::string>& before = {}) {
  std::vector<std::string> all = before;
  all.insert(all.end(), {kPrlimit, limit, "--", binary});
  all.insert(all.end(), args.begin(), args.end());
  const std::string program = all.front();
  all.erase(all.begin());
  Process p(program, all);
  return p.finish(90s);
}

// What every refusal must look like: exit 1 (not a signal), exactly one line on stderr, that
// line from the program and holding `reason`, and an empty -dir.
void expect_one_line_refusal(const ProcessResult& r, const std::string& reason,
                             const std::string& dir) {
  EXPECT_EQ(r.signal, 0) << "killed by signal " << r.signal << ":\n" << r.err;
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.err.rfind("concurrent_copy: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line:\n" << r.err;
  EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
  EXPECT_EQ(entries_in(dir), 0u) << "files were left behind";
}

bool have(const char* tool) { return ::access(tool, X_OK) == 0; }

TEST(FileSizeLimit, DuringGenerationIsAnErrorNotSigxfsz) {
  if (!have(kPrlimit)) GTEST_SKIP() << "prlimit (util-linux) is not installed";
  TestDir dir;
  // 512000 bytes, below the 1 MiB files: the first source file hits it.
  const ProcessResult r =
      run_limited("--fsize=512000", {"-files", "4", "-size", "1M", "-runs", "1", "-warmup", "0",
                                     "-mode", "goroutine", "-quiet", "-dir", dir.path()});
  EXPECT_EQ(r.signal, 0) << "killed by signal " << r.signal;
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("concurrent_copy: write " + dir.path()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(": File too large\n"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("Verification: not done ("), std::string::npos) << r.out;
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

TEST(FileSizeLimit, ForAnExportIsNamedWithItsReason) {
  if (!have(kPrlimit)) GTEST_SKIP() << "prlimit (util-linux) is not installed";
  TestDir dir, out;
  const std::string json = out.path() + "/r.json";
  // The 1 KiB files fit under 2048 bytes; the JSON, several KiB, does not.
  const ProcessResult r = run_limited(
      "--fsize=2048", {"-files", "2", "-size", "1K", "-runs", "1", "-warmup", "0", "-mode",
                       "goroutine", "-quiet", "-dir", dir.path(), "-json", json});
  EXPECT_EQ(r.signal, 0) << "killed by signal " << r.signal;
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("concurrent_copy: cannot write -json " + json + ": File too large\n"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("Verification: OK"), std::string::npos) << r.out;
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

#ifdef CCOPY_SANITIZED
constexpr const char* kSanitized =
    "a sanitizer build reserves terabytes of shadow memory and starts threads of its own: it "
    "cannot run under a small RLIMIT_AS or RLIMIT_NPROC";
#endif

// An allocation refused on the runner's own thread (planning a million jobs in 60 MB of address
// space) unwinds through the runner, whose destructors remove the workspace it had created.
TEST(AddressSpaceLimit, MemoryRefusedToTheRunnerIsOneLineAndNoFiles) {
#ifdef CCOPY_SANITIZED
  GTEST_SKIP() << kSanitized;
#endif
  if (!have(kPrlimit)) GTEST_SKIP() << "prlimit (util-linux) is not installed";
  TestDir dir;
  const ProcessResult r =
      run_limited("--as=60000000", {"-files", "1000000", "-size", "0", "-runs", "1", "-warmup", "0",
                                    "-mode", "goroutine", "-quiet", "-dir", dir.path()});
  expect_one_line_refusal(r, "Cannot allocate memory", dir.path());
}

// needs the library rewrite: an allocation refused inside a library thread (a generation
// worker, a threads-engine worker's buffer, a verification thread) must be caught in that
// thread and returned as an Error (ENOMEM) through run_benchmark(), since an exception leaving a
// thread's function calls std::terminate before any destructor runs.
TEST(AddressSpaceLimit, MemoryRefusedToAnEngineThreadIsOneLineAndNoFiles) {
#ifdef CCOPY_SANITIZED
  GTEST_SKIP() << kSanitized;
#endif
  if (!have(kPrlimit)) GTEST_SKIP() << "prlimit (util-linux) is not installed";
  TestDir dir;
  // One worker thread, whose 256 MiB buffer cannot fit in 250 MB of address space.
  const ProcessResult r =
      run_limited("--as=250000000",
                  {"-files", "4", "-size", "64K", "-runs", "1", "-warmup", "0", "-mode",
                   "goroutine", "-workers", "1", "-chunk", "256M", "-quiet", "-dir", dir.path()});
  expect_one_line_refusal(r, "Cannot allocate memory", dir.path());
}

// RLIMIT_NPROC counts the processes and threads of a real user, and root is exempt from it: the
// binary runs as an unprivileged user (an id of its own, see user()), from a private copy
// anyone may execute, in a -dir anyone may write.
class ProcessLimit : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef CCOPY_SANITIZED
    GTEST_SKIP() << kSanitized;
#endif
    if (::geteuid() != 0) GTEST_SKIP() << "running as another user (nobody) needs root";
    if (!have(kPrlimit) || !have(kSetpriv))
      GTEST_SKIP() << "prlimit and setpriv (util-linux) are not installed";
    namespace fs = std::filesystem;
    ASSERT_TRUE(bin_.ok() && dir_.ok());
    binary_ = bin_.path() + "/concurrent_copy";
    fs::copy_file(CCOPY_BINARY, binary_);
    ASSERT_EQ(::chmod(bin_.path().c_str(), 0755), 0);
    ASSERT_EQ(::chmod(binary_.c_str(), 0755), 0);
    ASSERT_EQ(::chmod(dir_.path().c_str(), 0777), 0);
  }

  ProcessResult run_as_nobody(int processes, const std::vector<std::string>& args) {
    std::vector<std::string> all = args;
    all.insert(all.end(), {"-runs", "2", "-warmup", "0", "-quiet", "-dir", dir_.path()});
    return run_limited(fmt_nproc(processes), all, binary_,
                       {kSetpriv, "--reuid=" + user(), "--regid=" + user(), "--clear-groups", "--"});
  }

  static std::string fmt_nproc(int n) { return "--nproc=" + std::to_string(n); }

  // RLIMIT_NPROC counts every process of the real user on the machine, so two of these tests
  // run at once as nobody would count each other's threads. Each runs as a user of its own: a
  // numeric id no account has, taken from the test process's id (unique while it runs).
  static std::string user() { return std::to_string(40000 + ::getpid() % 20000); }

  TestDir bin_, dir_;
  std::string binary_;
};

// One task: not even the thread that watches for signals can start.
TEST_F(ProcessLimit, NoThreadAtAllIsOneLineAndNoFiles) {
  const ProcessResult r = run_as_nobody(1, {"-files", "20", "-size", "64K"});
  expect_one_line_refusal(r, "Resource temporarily unavailable", dir_.path());
}

// Two tasks: the signal thread starts, no helper thread does. Generation goes on in the
// runner's thread, and the threads engine (goroutine) runs with the one worker it could start,
// saying so in a note: the copy is made and verified, and nothing is left.
TEST_F(ProcessLimit, WithNoThreadToSpareTheThreadsEngineRunsWithOne) {
  const ProcessResult r = run_as_nobody(2, {"-files", "20", "-size", "64K", "-mode", "goroutine"});
  EXPECT_EQ(r.signal, 0) << "killed by signal " << r.signal << ":\n" << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("note (goroutine): the system refused a thread: start thread 2 of "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("(continued with 1): Resource temporarily unavailable"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\nVerification: OK\n"), std::string::npos) << r.out;
  EXPECT_EQ(entries_in(dir_.path()), 0u) << "files were left behind";
}

// Two tasks, io_uring (xev): its kernel workers (io-wq) count against the limit too, and when
// none can start io_uring cancels what it queued for them: one line, and nothing left.
TEST_F(ProcessLimit, IoUringsKernelWorkersRefusedIsOneLineAndNoFiles) {
  const ProcessResult r = run_as_nobody(2, {"-files", "20", "-size", "64K", "-mode", "xev"});
  expect_one_line_refusal(r, "io_uring's kernel worker thread could not start", dir_.path());
}

// libuv's thread pool calls abort() when it cannot start its threads (uv's init_threads), so
// the uv engine finds out first how many can start and sizes the pool to them (UV_THREADPOOL_SIZE):
// with room for one pool thread the copy is made with a pool of one, and says so.
TEST_F(ProcessLimit, TheUvEngineRunsWithThePoolThreadsThatCanStart) {
  const ProcessResult r = run_as_nobody(4, {"-files", "20", "-size", "64K", "-mode", "uv"});
  EXPECT_EQ(r.signal, 0) << "killed by signal " << r.signal << ":\n" << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("note (uv): the system lets only "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nVerification: OK\n"), std::string::npos) << r.out;
  EXPECT_EQ(entries_in(dir_.path()), 0u) << "files were left behind";
}

// With no room for any pool thread, the uv engine refuses before libuv could abort.
TEST_F(ProcessLimit, AThreadRefusedToTheUvEngineIsOneLineAndNoFiles) {
  const ProcessResult r = run_as_nobody(2, {"-files", "20", "-size", "64K", "-mode", "uv"});
  expect_one_line_refusal(r, "Resource temporarily unavailable", dir_.path());
}

// Not a limit, but the same set-up: a user (nobody) who cannot read part of the -src tree. The
// unreadable entries are left out of the copies and of the verification, and counted.
class UnreadableSource : public ProcessLimit {};

TEST_F(UnreadableSource, EntriesThatCannotBeReadAreSkippedAndCounted) {
  namespace fs = std::filesystem;
  TestDir src_parent;
  ASSERT_TRUE(src_parent.ok());
  const std::string src = src_parent.path() + "/tree";
  fs::create_directories(src + "/open/deeper");
  fs::create_directories(src + "/closed");
  for (const char* name : {"/open/a", "/open/deeper/b", "/closed/c", "/secret"})
    std::ofstream(src + name) << name;
  for (const std::string& d : {src_parent.path(), src, src + "/open", src + "/open/deeper"})
    ASSERT_EQ(::chmod(d.c_str(), 0755), 0);
  for (const char* f : {"/open/a", "/open/deeper/b"}) ASSERT_EQ(::chmod((src + f).c_str(), 0644), 0);
  ASSERT_EQ(::chmod((src + "/secret").c_str(), 0600), 0);  // root's: nobody cannot read it
  ASSERT_EQ(::chmod((src + "/closed").c_str(), 0700), 0);  // nor list this directory
  const ProcessResult r = run_as_nobody(4096, {"-src", src, "-mode", "goroutine"});
  EXPECT_EQ(r.signal, 0) << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("; 2 entries unreadable, left out"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 entries cannot be read and are left out of the copies and their "
                       "verification: "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\nVerification: OK, 2 entries unreadable and skipped\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(entries_in(dir_.path()), 0u) << "files were left behind";
}

// -fs without root: one line saying so, exit 1, nothing written.
class FreshFsWithoutRoot : public ProcessLimit {};

TEST_F(FreshFsWithoutRoot, IsRefusedInOneLine) {
  const ProcessResult r = run_as_nobody(4096, {"-fs", "ext4", "-files", "2", "-size", "4K"});
  expect_one_line_refusal(r, "-fs needs root", dir_.path());
}

}  // namespace
}  // namespace ccopy
