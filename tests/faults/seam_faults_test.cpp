// Faults injected through the syscall seam (sys::set_fault_hook), on every engine: short
// reads and writes and EINTR must not change a single byte of the copies; an unexpected error
// (-EIO, -ECANCELED, as an io_uring completion or a blocking call returns it) must reach the
// caller as that file's error, leave every other file's result honest, and leak nothing; a full
// destination stops the copy. The tree operations too: a directory, symlink, hardlink, special
// file or metadata step that fails is that entry's error, named by its path, and the rest of the
// tree is copied.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <set>
#include <tuple>

#include "fault_support.hpp"

namespace ccopy {
namespace {

using testing::ScopedFaultHook;
using testing::TreeFixture;

// Shortens every second data transfer to half its length (at least one byte), and turns
// every third one into EINTR after it happened: the engine must redo the same range.
struct ShortAndInterrupted {
  std::atomic<unsigned long> calls{0};
  std::atomic<unsigned long> shortened{0};
  std::atomic<unsigned long> interrupted{0};
  bool shorten = true;
  bool interrupt = true;

  static long hook(sys::Op op, long result, void* context) {
    auto& self = *static_cast<ShortAndInterrupted*>(context);
    if (!testing::moves_data(op) || result <= 0) return result;
    const unsigned long n = self.calls.fetch_add(1, std::memory_order_relaxed);
    if (self.interrupt && n % 3 == 2) {
      self.interrupted.fetch_add(1, std::memory_order_relaxed);
      return -EINTR;
    }
    if (self.shorten && n % 2 == 1 && result > 1) {
      self.shortened.fetch_add(1, std::memory_order_relaxed);
      return result / 2;
    }
    return result;
  }
};

bool writes_data(sys::Op op) {
  return op == sys::Op::write || op == sys::Op::copy_range || op == sys::Op::splice_out;
}

// Fails exactly one data transfer (of those `ops` accepts), the `which`-th, with `-error`.
struct FailOnce {
  int error = EIO;
  unsigned long which = 3;
  bool (*ops)(sys::Op) = testing::moves_data;
  std::atomic<unsigned long> calls{0};

  static long hook(sys::Op op, long result, void* context) {
    auto& self = *static_cast<FailOnce*>(context);
    if (!self.ops(op)) return result;
    if (self.calls.fetch_add(1, std::memory_order_relaxed) == self.which) return -self.error;
    return result;
  }
};

class SeamFaults : public ::testing::TestWithParam<std::string>,
                   protected testing::EngineUnderFaults {
 protected:
  void SetUp() override { start(GetParam(), 7); }

  // Copies 12 files with `hook` installed and checks every file copied and verified.
  void expect_verified_copies(sys::FaultHook hook, void* context, const EngineOptions& options) {
    const std::unique_ptr<TreeFixture> tree = generate(12, 200'003);
    ASSERT_TRUE(tree->ok());
    (void)expect_verified_copy(*tree, hook, context, options);
  }

  // Copies 8 files with `fail` installed; checks that it was injected, that no descriptor
  // leaked, and that the result is honest about the tree.
  CopyResult copy_failing(const TreeFixture& tree, FailOnce& fail) {
    const std::size_t fds_before = testing::open_descriptors();
    CopyResult result;
    {
      ScopedFaultHook faults(FailOnce::hook, &fail);
      result = tree.copy(*engine_, {});
    }
    EXPECT_EQ(testing::open_descriptors(), fds_before) << "descriptors leaked";
    EXPECT_GT(fail.calls.load(), fail.which) << "the fault was never injected";
    testing::expect_honest_result(tree.source(), tree.destination(), result);
    return result;
  }

  // Fails one transfer with `error` and checks that exactly that file failed, by name and
  // errno text, and every other file copied and verified.
  void expect_one_named_failure(int error) {
    const std::unique_ptr<TreeFixture> tree = generate(8, 300'000);
    ASSERT_TRUE(tree->ok());
    FailOnce fail;
    fail.error = error;
    const CopyResult result = copy_failing(*tree, fail);
    ASSERT_EQ(result.failed, 1u) << testing::first_error(result);
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_FALSE(result.fatal) << result.fatal.message();
    EXPECT_FALSE(result.cancelled);
    const CopyError& e = result.errors[0];
    EXPECT_EQ(e.code, error);
    EXPECT_NE(e.reason().find(sys::error_text(error)), std::string::npos) << e.reason();
    EXPECT_EQ(e.path.rfind(tree->source() + "/file_", 0), 0u) << e.path;
    EXPECT_EQ(result.copied.files, 7u);
  }
};

TEST_P(SeamFaults, ShortReadsAndWritesStillVerify) {
  ShortAndInterrupted faults;
  faults.interrupt = false;
  expect_verified_copies(ShortAndInterrupted::hook, &faults, {});
  EXPECT_GT(faults.shortened.load(), 0u);
}

TEST_P(SeamFaults, EintrStillVerifies) {
  ShortAndInterrupted faults;
  faults.shorten = false;
  expect_verified_copies(ShortAndInterrupted::hook, &faults, {});
  EXPECT_GT(faults.interrupted.load(), 0u);
}

TEST_P(SeamFaults, ShortTransfersAndEintrWithAnOddChunkAndOneWorker) {
  ShortAndInterrupted faults;
  EngineOptions options;
  options.chunk = 4099;
  options.workers = 1;
  options.inflight = 1;
  expect_verified_copies(ShortAndInterrupted::hook, &faults, options);
  EXPECT_GT(faults.shortened.load(), 0u);
  EXPECT_GT(faults.interrupted.load(), 0u);
}

// The same faults on every kind of entry: sparse files' extents, hardlinks, a path deeper than
// PATH_MAX.
TEST_P(SeamFaults, ShortTransfersAndEintrOnTheMixedTree) {
  TreeRecipe recipe;
  recipe.shape = Shape::mixed;
  recipe.seed = seed_;
  const TreeFixture tree(recipe);
  ASSERT_TRUE(tree.ok()) << tree.error();
  ShortAndInterrupted faults;
  EngineOptions options;
  options.chunk = 16 * 1024;
  (void)expect_verified_copy(tree, ShortAndInterrupted::hook, &faults, options);
  EXPECT_GT(faults.shortened.load(), 0u);
  EXPECT_GT(faults.interrupted.load(), 0u);
}

TEST_P(SeamFaults, AnIoErrorNamesTheFile) { expect_one_named_failure(EIO); }

// -ECANCELED from a blocking call, or from libuv, is an error like any other. io_uring returns
// it for operations it cancelled before they ran (when it cannot start a kernel worker), so the
// uring engine submits such an operation again: one cancellation costs nothing, and
// tests/engines/uring_test.cpp checks that one that never stops fails the file by name.
TEST_P(SeamFaults, AnUnexpectedCancellationNamesTheFile) {
  if (GetParam() != "uring") return expect_one_named_failure(ECANCELED);
  FailOnce fail;
  fail.error = ECANCELED;
  expect_verified_copies(FailOnce::hook, &fail, {});
  EXPECT_GT(fail.calls.load(), fail.which) << "the fault was never injected";
}

// A write into the destination answers ENOSPC: nothing more can be copied there, so the copy
// stops as a whole (a fatal error that says so), the file is named, the files in progress are
// abandoned and removed, and every file left in the copy is complete and counted.
TEST_P(SeamFaults, AFullDestinationStopsTheCopy) {
  const std::unique_ptr<TreeFixture> tree = generate(8, 300'000);
  ASSERT_TRUE(tree->ok());
  FailOnce fail;
  fail.error = ENOSPC;
  fail.ops = writes_data;
  fail.which = 2;
  const CopyResult result = copy_failing(*tree, fail);
  ASSERT_TRUE(result.fatal);
  EXPECT_EQ(result.fatal.code, ENOSPC);
  EXPECT_NE(result.fatal.message().find("the destination is full"), std::string::npos)
      << result.fatal.message();
  EXPECT_FALSE(result.cancelled);
  ASSERT_EQ(result.failed, 1u) << testing::first_error(result);
  EXPECT_EQ(result.errors[0].code, ENOSPC);
  EXPECT_EQ(result.errors[0].path.rfind(tree->source() + "/file_", 0), 0u) << result.errors[0].path;
  EXPECT_EQ(result.errors[0].destination.rfind(tree->destination() + "/file_", 0), 0u)
      << result.errors[0].destination;
  EXPECT_LT(result.copied.files, 8u);
}

// Sets the cancel flag as the engine opens a file, at the `at`-th open, so that cancellation
// lands mid-copy at the same point on every run, between a file's opening and its first byte
// (where an event loop can forget to mark the file as not copied).
struct CancelMidCopy {
  std::atomic<bool> cancel{false};
  std::atomic<unsigned long> calls{0};
  unsigned long at = 30;
  static long hook(sys::Op op, long result, void* context) {
    auto& self = *static_cast<CancelMidCopy*>(context);
    const bool opens = op == sys::Op::open_source || op == sys::Op::create_destination;
    if (opens && self.calls.fetch_add(1) == self.at) self.cancel = true;
    return result;
  }
};

TEST_P(SeamFaults, CancellationMidCopyCountsNoUnfinishedFileAsCopied) {
  const std::unique_ptr<TreeFixture> tree = generate(40, 300'000);
  ASSERT_TRUE(tree->ok());
  CancelMidCopy trigger;
  CopyOptions options = testing::benchmark_options();
  options.cancel = &trigger.cancel;
  const std::size_t fds_before = testing::open_descriptors();
  CopyResult result;
  {
    ScopedFaultHook faults(CancelMidCopy::hook, &trigger);
    result = tree->copy(*engine_, {}, options);
  }
  ASSERT_TRUE(trigger.cancel.load()) << "the copy ended before the cancellation point";
  EXPECT_TRUE(result.cancelled);
  EXPECT_EQ(result.failed, 0u) << testing::first_error(result);
  EXPECT_EQ(testing::open_descriptors(), fds_before) << "descriptors leaked";
  testing::expect_honest_result(tree->source(), tree->destination(), result);
  EXPECT_LT(result.copied.files, 40u);
}

// A real storm: SIGALRM every millisecond, with a handler installed without SA_RESTART, so
// that blocking calls, io_uring_enter and epoll_wait all see EINTR while the copy runs.
std::atomic<unsigned long> g_alarms{0};
extern "C" void count_alarm(int) { g_alarms.fetch_add(1, std::memory_order_relaxed); }

TEST_P(SeamFaults, SurvivesASignalStorm) {
  const std::unique_ptr<TreeFixture> tree = generate(200, 256 * 1024);
  ASSERT_TRUE(tree->ok());
  struct sigaction action {};
  action.sa_handler = count_alarm;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: interrupted calls fail with EINTR
  struct sigaction previous {};
  ASSERT_EQ(::sigaction(SIGALRM, &action, &previous), 0);
  const itimerval every_ms{{0, 1000}, {0, 1000}};
  ASSERT_EQ(::setitimer(ITIMER_REAL, &every_ms, nullptr), 0);
  const unsigned long alarms_before = g_alarms.load();
  CopyResult result;
  for (int pass = 0; pass < 3 && result.ok(); ++pass) {
    ASSERT_TRUE(tree->reset());
    result = tree->copy(*engine_, {});
  }
  const itimerval off{};
  ::setitimer(ITIMER_REAL, &off, nullptr);
  ::sigaction(SIGALRM, &previous, nullptr);
  EXPECT_GT(g_alarms.load(), alarms_before) << "no signal arrived during the copy";
  ASSERT_TRUE(result.ok()) << testing::first_error(result);
  const VerifyResult verdict = tree->verify();
  EXPECT_TRUE(verdict.ok()) << verdict.first;
}

INSTANTIATE_TEST_SUITE_P(Every, SeamFaults, ::testing::ValuesIn(testing::every_engine()),
                         [](const auto& param_info) { return param_info.param; });

// ---- The tree operations ----

// The mixed tree, with what cp -a keeps: every tree operation, metadata included, is used.
TreeRecipe mixed_tree() {
  TreeRecipe recipe;
  recipe.shape = Shape::mixed;
  recipe.seed = 5;
  return recipe;
}

VerifyOptions archive_verify() {
  VerifyOptions verify;
  verify.times = true;
  verify.ownership = true;
  verify.xattrs = true;
  return verify;
}

// Fails the first call of `op` that would have succeeded once the walk is under way, with
// `-error`. The walk is under way once the root's first listing has come back: before that,
// copy_tree sets up the root (its stat, its open, its mkdir), whose failure is the root's and
// stops everything. A listing is failed only when it returned entries: the root's own second
// listing (its end) would fail the root.
struct FailFirstInTheWalk {
  sys::Op op = sys::Op::make_directory;
  int error = EIO;
  std::atomic<bool> walking{false};
  std::atomic<bool> fired{false};

  static long hook(sys::Op op, long result, void* context) {
    auto& self = *static_cast<FailFirstInTheWalk*>(context);
    if (op == sys::Op::list_directory && !self.walking.load()) {
      self.walking = true;
      return result;
    }
    if (op != self.op || !self.walking.load() || result < 0) return result;
    if (op == sys::Op::list_directory && result == 0) return result;
    if (self.fired.exchange(true)) return result;
    return -self.error;
  }
};

// The kind of the entry at `path` below the tree's root, from its manifest.
const ManifestEntry* entry_at(const TreeFixture& tree, const std::string& path) {
  const Manifest& m = tree.manifest();
  for (std::size_t i = 1; i < m.entries.size(); ++i)
    if (m.path(i) == path) return &m.entries[i];
  return nullptr;
}

std::string below_root(const TreeFixture& tree, const std::string& path) {
  const std::string prefix = tree.source() + "/";
  return path.rfind(prefix, 0) == 0 ? path.substr(prefix.size()) : path;
}

// One failed entry, and what follows from it: the later names of a hardlink whose first name
// failed cannot be linked, and say so. Returns the failed entry's error (the first with the
// injected errno), after checking that every other error is such a consequence.
std::optional<CopyError> the_failed_entry(const CopyResult& result, int error) {
  std::optional<CopyError> failed;
  for (const CopyError& e : result.errors) {
    if (e.code == error && !failed) {
      failed = e;
      continue;
    }
    EXPECT_EQ(e.operation, "link") << e.path << ": " << e.reason();
    EXPECT_EQ(e.detail, "the first name of its inode could not be copied") << e.path;
  }
  EXPECT_EQ(result.errors.size(), result.failed);
  return failed;
}

// A copy of the mixed tree in which one entry failed.
struct OneFailedEntry {
  CopyResult result;
  std::optional<CopyError> failed;       ///< its error
  const ManifestEntry* entry = nullptr;  ///< the entry, in the tree's manifest
};

// Copies the mixed tree with `fault` installed, checks that one entry failed (and perhaps the
// hardlinks that follow from it), that every descriptor was closed, and that the rest of the
// tree verifies; returns what failed, for the case's own checks.
OneFailedEntry copy_with_one_failed_entry(Engine& engine, const TreeFixture& tree,
                                          FailFirstInTheWalk& fault) {
  OneFailedEntry out;
  const std::size_t fds_before = testing::open_descriptors();
  {
    ScopedFaultHook hook(FailFirstInTheWalk::hook, &fault);
    out.result = tree.copy(engine, {}, testing::archive_options());
  }
  const CopyResult& result = out.result;
  EXPECT_TRUE(fault.fired.load()) << "no " << sys::op_name(fault.op) << " in the walk to fail";
  EXPECT_EQ(testing::open_descriptors(), fds_before) << "descriptors leaked";
  EXPECT_FALSE(result.fatal) << result.fatal.message();
  EXPECT_FALSE(result.cancelled);
  out.failed = the_failed_entry(result, fault.error);
  if (!out.failed) {
    ADD_FAILURE() << "no error with the injected errno; first error: "
                  << testing::first_error(result);
    return out;
  }
  out.entry = entry_at(tree, below_root(tree, out.failed->path));
  EXPECT_NE(out.entry, nullptr) << out.failed->path << " is not an entry of the tree";
  EXPECT_NE(out.failed->reason().find(sys::error_text(fault.error)), std::string::npos)
      << out.failed->reason();
  VerifyOptions verify = archive_verify();
  for (const CopyError& e : result.errors) verify.skip.push_back(below_root(tree, e.path));
  const VerifyResult verdict = tree.verify(verify);
  EXPECT_TRUE(verdict.ok()) << "the rest of the tree: " << verdict.first;
  EXPECT_GT(verdict.entries, tree.manifest().entries.size() / 2) << "most of the tree was skipped";
  return out;
}

struct TreeOpCase {
  sys::Op op;
  std::set<std::string> operations;  ///< what the error may call the step that failed
  std::set<EntryKind> kinds;         ///< what the failed entry may be; empty: any
};

void PrintTo(const TreeOpCase& c, std::ostream* os) { *os << sys::op_name(c.op); }

class TreeOpFaults : public ::testing::TestWithParam<std::tuple<std::string, TreeOpCase>> {};

TEST_P(TreeOpFaults, AFailedStepIsThatEntrysErrorAndTheRestIsCopied) {
  const auto& [name, c] = GetParam();
  const std::unique_ptr<Engine> engine = testing::make_engine_or_skip(name);
  if (!engine) GTEST_SKIP() << name << " cannot run here";
  const TreeFixture tree(mixed_tree());
  ASSERT_TRUE(tree.ok()) << tree.error();
  FailFirstInTheWalk fault;
  fault.op = c.op;
  const OneFailedEntry copy = copy_with_one_failed_entry(*engine, tree, fault);
  if (!copy.failed) return;
  EXPECT_EQ(c.operations.count(copy.failed->operation), 1u)
      << "'" << copy.failed->operation << "' for a failed " << sys::op_name(c.op);
  if (copy.entry != nullptr && !c.kinds.empty()) {
    EXPECT_EQ(c.kinds.count(copy.entry->kind), 1u)
        << copy.failed->path << " is not an entry a " << sys::op_name(c.op) << " is made for";
  }
}

std::string tree_op_name(const ::testing::TestParamInfo<TreeOpFaults::ParamType>& info) {
  std::string op = sys::op_name(std::get<1>(info.param).op);
  std::replace(op.begin(), op.end(), ' ', '_');
  return std::get<0>(info.param) + "_" + op;
}

const std::set<EntryKind> kDirectory{EntryKind::directory};
const std::set<EntryKind> kSymlink{EntryKind::symlink};

INSTANTIATE_TEST_SUITE_P(
    Every, TreeOpFaults,
    ::testing::Combine(
        ::testing::ValuesIn(testing::every_engine()),
        ::testing::Values(
            TreeOpCase{sys::Op::make_directory, {"mkdir"}, kDirectory},
            TreeOpCase{sys::Op::open_directory, {"open"}, kDirectory},
            TreeOpCase{sys::Op::list_directory, {"read directory"}, kDirectory},
            TreeOpCase{sys::Op::make_symlink, {"symlink"}, kSymlink},
            TreeOpCase{sys::Op::read_symlink, {"readlink"}, kSymlink},
            TreeOpCase{sys::Op::make_link, {"link"}, {EntryKind::regular, EntryKind::hardlink}},
            TreeOpCase{sys::Op::make_node, {"mknod"}, {EntryKind::fifo}},
            TreeOpCase{sys::Op::set_metadata, {"chmod", "chown", "set times"}, {}},
            TreeOpCase{sys::Op::stat, {"stat"}, {}})),
    tree_op_name);

// Whether the entry `path` below `root` exists, reached relative to descriptors (the mixed
// tree's deepest paths are longer than PATH_MAX).
bool exists_below(const std::string& root, const std::string& path) {
  int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  std::size_t at = 0;
  while (fd >= 0) {
    const std::size_t slash = path.find('/', at);
    const std::string part = path.substr(at, slash == std::string::npos ? slash : slash - at);
    if (slash == std::string::npos) {
      struct ::stat st {};
      const bool found = ::fstatat(fd, part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
      ::close(fd);
      return found;
    }
    const int next = ::openat(fd, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    ::close(fd);
    fd = next;
    at = slash + 1;
  }
  return false;
}

class DirectoryFaults : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine_ = testing::make_engine_or_skip(GetParam());
    if (!engine_) GTEST_SKIP() << GetParam() << " cannot run here";
  }
  std::unique_ptr<Engine> engine_;
};

// A source directory that cannot be opened (EACCES) is reported as that directory's error,
// on the source's side, and left out of the copy with everything in it; the rest is copied.
TEST_P(DirectoryFaults, ADirectoryThatCannotBeOpenedIsReportedAndSkipped) {
  const TreeFixture tree(mixed_tree());
  ASSERT_TRUE(tree.ok()) << tree.error();
  FailFirstInTheWalk fault;
  fault.op = sys::Op::open_directory;
  fault.error = EACCES;
  const OneFailedEntry copy = copy_with_one_failed_entry(*engine_, tree, fault);
  ASSERT_TRUE(copy.failed);
  const CopyError& failed = *copy.failed;
  EXPECT_EQ(copy.result.failed, 1u) << testing::first_error(copy.result);
  EXPECT_EQ(failed.operation, "open");
  EXPECT_TRUE(failed.destination.empty()) << "the source's directory failed, not the copy's";
  EXPECT_EQ(failed.reason(), "open: Permission denied");
  ASSERT_NE(copy.entry, nullptr);
  EXPECT_EQ(copy.entry->kind, EntryKind::directory);
  EXPECT_FALSE(exists_below(tree.destination(), below_root(tree, failed.path)))
      << failed.path << " was copied although it could not be opened";
}

// Every listing of a directory is interrupted once (EINTR) before it is answered: the walk
// asks again, and loses no entry.
struct InterruptListings {
  std::atomic<unsigned long> calls{0};
  std::atomic<unsigned long> interrupted{0};
  static long hook(sys::Op op, long result, void* context) {
    auto& self = *static_cast<InterruptListings*>(context);
    if (op != sys::Op::list_directory || result < 0) return result;
    if (self.calls.fetch_add(1) % 2 != 0) return result;
    self.interrupted.fetch_add(1);
    return -EINTR;
  }
};

TEST_P(DirectoryFaults, AnInterruptedListingIsAskedAgain) {
  const TreeFixture tree(mixed_tree());
  ASSERT_TRUE(tree.ok()) << tree.error();
  InterruptListings faults;
  const std::size_t fds_before = testing::open_descriptors();
  CopyResult result;
  {
    ScopedFaultHook hook(InterruptListings::hook, &faults);
    result = tree.copy(*engine_, {}, testing::archive_options());
  }
  EXPECT_EQ(testing::open_descriptors(), fds_before) << "descriptors leaked";
  ASSERT_TRUE(result.ok()) << testing::first_error(result);
  EXPECT_GT(faults.interrupted.load(), 10u);
  const VerifyResult verdict = tree.verify(archive_verify());
  EXPECT_TRUE(verdict.ok()) << verdict.first;
  EXPECT_EQ(verdict.entries + 1, tree.manifest().entries.size());
}

INSTANTIATE_TEST_SUITE_P(Every, DirectoryFaults, ::testing::ValuesIn(testing::every_engine()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace ccopy
