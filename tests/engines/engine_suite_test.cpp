// ONE suite, instantiated for EVERY engine in the registry (libuv's TEST_FS_IMPL habit): each
// case copies a tree through the copy path and the copy must verify against its source, entry
// by entry. The event loops that can copy inside the kernel run it three times: -kernel-copy
// auto, on and off.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "ccopy/engine.hpp"
#include "sys/sys.hpp"
#include "tree_fixture.hpp"

namespace ccopy {
namespace {

using testing::TreeFixture;

// One instance of the suite: an engine, and how it is asked to copy.
struct SuiteCase {
  std::string engine;
  KernelCopy kernel_copy = KernelCopy::automatic;
};

class EngineSuite : public ::testing::TestWithParam<SuiteCase> {
 protected:
  void SetUp() override {
    const EngineInfo* info = find_engine(GetParam().engine);
    ASSERT_NE(info, nullptr);
    const Availability a = info->probe();
    if (!a.available) GTEST_SKIP() << GetParam().engine << " cannot run here: " << a.reason;
    engine_ = info->make();
  }

  // The options every case starts from: the defaults, with this instance's kernel copy.
  [[nodiscard]] EngineOptions base_options() const {
    EngineOptions options;
    options.kernel_copy = GetParam().kernel_copy;
    return options;
  }

  // Copies the fixture's tree (with `hook` on every result of the copy only) and checks that
  // the copy path reports every entry copied and the copy verifies entry by entry.
  void copy_and_verify(const TreeFixture& tree, const EngineOptions& options,
                       const CopyOptions& copy = testing::benchmark_options(),
                       sys::FaultHook hook = nullptr, void* context = nullptr,
                       const VerifyOptions& verify = {}) {
    ASSERT_TRUE(tree.ok()) << tree.error();
    sys::set_fault_hook(hook, context);
    const CopyResult result = tree.copy(*engine_, options, copy);
    sys::set_fault_hook(nullptr, nullptr);
    ASSERT_TRUE(result.ok()) << testing::first_error(result);
    std::uint64_t files = 0, dirs = 0, symlinks = 0, links = 0, fifos = 0, bytes = 0;
    for (const ManifestEntry& e : tree.manifest().entries) {
      switch (e.kind) {
        case EntryKind::directory: ++dirs; break;
        case EntryKind::regular: ++files, bytes += e.size; break;
        case EntryKind::symlink: ++symlinks; break;
        case EntryKind::hardlink: ++links; break;
        case EntryKind::fifo: ++fifos; break;
      }
    }
    EXPECT_EQ(result.copied.files, files);
    EXPECT_EQ(result.copied.directories, dirs);
    EXPECT_EQ(result.copied.symlinks, symlinks);
    EXPECT_EQ(result.copied.hardlinks, links);
    EXPECT_EQ(result.copied.specials, fifos);
    EXPECT_LE(result.copied.bytes, bytes);  // holes are not copied
    const VerifyResult verdict = tree.verify(verify);
    EXPECT_TRUE(verdict.ok()) << verdict.first;
    EXPECT_EQ(verdict.entries + 1, tree.manifest().entries.size());  // the root is not an entry
  }

  void copy_flat(std::uint64_t count, std::uint64_t size) {
    copy_flat(count, size, base_options());
  }
  void copy_flat(std::uint64_t count, std::uint64_t size, const EngineOptions& options,
                 sys::FaultHook hook = nullptr, void* context = nullptr) {
    const TreeFixture tree(count, size);
    copy_and_verify(tree, options, testing::benchmark_options(), hook, context);
  }

  std::unique_ptr<Engine> engine_;
};

TreeRecipe shape(Shape s, double scale = 1.0) {
  TreeRecipe recipe;
  recipe.shape = s;
  recipe.scale = scale;
  recipe.seed = 11;
  return recipe;
}

TEST_P(EngineSuite, CopiesAnEmptyDirectory) { copy_flat(0, 100); }
TEST_P(EngineSuite, CopiesOneEmptyFile) { copy_flat(1, 0); }
TEST_P(EngineSuite, CopiesOneByte) { copy_flat(1, 1); }
TEST_P(EngineSuite, CopiesOneByteLessThanAChunk) { copy_flat(3, 65535); }
TEST_P(EngineSuite, CopiesExactlyOneChunk) { copy_flat(3, 65536); }
TEST_P(EngineSuite, CopiesOneByteMoreThanAChunk) { copy_flat(3, 65537); }
TEST_P(EngineSuite, CopiesThreeMiBAndSevenBytes) { copy_flat(4, 3 * 1024 * 1024 + 7); }
TEST_P(EngineSuite, CopiesAThousandSmallFiles) { copy_flat(1000, 4096); }

TEST_P(EngineSuite, CopiesWithOneFileInFlight) {
  EngineOptions options = base_options();
  options.inflight = 1;
  copy_flat(20, 100'000, options);
}

TEST_P(EngineSuite, CopiesWithOneWorker) {
  EngineOptions options = base_options();
  options.workers = 1;
  copy_flat(20, 100'000, options);
}

TEST_P(EngineSuite, CopiesWithAnOddChunkSize) {
  EngineOptions options = base_options();
  options.chunk = 4097;
  copy_flat(5, 50'000, options);
}

// Several rings share one walk (uring); engines with one loop or none ignore `loops`.
TEST_P(EngineSuite, CopiesWithSeveralLoops) {
  EngineOptions options = base_options();
  options.loops = 3;
  options.inflight = 2;
  options.chunk = 4097;
  copy_flat(7, 50'000, options);
}

// More loops than files: the loops without a file must end without touching anything.
TEST_P(EngineSuite, CopiesWithMoreLoopsThanFiles) {
  EngineOptions options = base_options();
  options.loops = 8;
  copy_flat(2, 70'000, options);
}

// A chunk one byte short of 64 KiB puts every chunk but the first off a page boundary; a pipe
// sized for 16 of them (1 MiB) then holds fewer bytes than one splice asks for, so the kernel's
// own splice-ins come back short and break their links.
TEST_P(EngineSuite, CopiesChunksThatStraddlePages) {
  EngineOptions options = base_options();
  options.chunk = 65535;
  copy_flat(2, 3 * 1024 * 1024 + 7, options);
}

// One large file with a small chunk: several chunks of it are in flight at once.
TEST_P(EngineSuite, CopiesOneFileInManySmallChunks) {
  EngineOptions options = base_options();
  options.chunk = 4096;
  copy_flat(1, 1024 * 1024 + 3, options);
}

TEST_P(EngineSuite, CopiesWithFsync) {
  EngineOptions options = base_options();
  options.fsync = true;
  copy_flat(5, 70'000, options);
}

// Every kind of entry: nested and empty directories, sparse files, symlinks of every sort,
// hardlink groups, a FIFO, odd names, odd modes, and a path deeper than PATH_MAX.
TEST_P(EngineSuite, CopiesTheMixedTree) {
  const TreeFixture tree(shape(Shape::mixed));
  VerifyOptions verify;
  verify.holes = true;
  verify.links = true;
  verify.mode = true;
  copy_and_verify(tree, base_options(), testing::benchmark_options(), nullptr, nullptr, verify);
}

TEST_P(EngineSuite, CopiesTheMixedTreeWithSmallChunksAndOneFileInFlight) {
  const TreeFixture tree(shape(Shape::mixed));
  EngineOptions options = base_options();
  options.chunk = 4096;
  options.inflight = 1;
  options.workers = 1;
  copy_and_verify(tree, options);
}

// What cp -a keeps: owners, nanosecond times (directories' set after their contents) and
// extended attributes, besides modes and hardlinks.
TEST_P(EngineSuite, KeepsEverythingCpArchiveKeeps) {
  const TreeFixture tree(shape(Shape::mixed));
  VerifyOptions verify;
  verify.times = true;
  verify.ownership = true;
  verify.xattrs = true;
  copy_and_verify(tree, base_options(), testing::archive_options(), nullptr, nullptr, verify);
}

TEST_P(EngineSuite, CopiesANestedTreeOfManySizes) {
  const TreeFixture tree(shape(Shape::node_modules, 0.05));
  copy_and_verify(tree, base_options());
}

TEST_P(EngineSuite, CopiesALinuxShapedTree) {
  const TreeFixture tree(shape(Shape::linux, 0.01));
  copy_and_verify(tree, base_options());
}

bool moves_data(sys::Op op) {
  return op == sys::Op::read || op == sys::Op::write || op == sys::Op::copy_range;
}

// Every read, write and kernel copy reports half of what it moved (at least one byte): the
// engine must resume each short transfer, including an io_uring write already linked to its
// read.
long halve_transfers(sys::Op op, long result, void*) {
  if (moves_data(op) && result > 1) return result / 2;
  return result;
}

// Every third result of opening a source, a read, a write or a kernel copy becomes -EINTR: the
// engine must retry it. (Not a create: the file would exist already, and the retry would fail
// with EEXIST.)
long interrupt_some(sys::Op op, long result, void* context) {
  auto& count = *static_cast<std::atomic<unsigned>*>(context);
  const bool retryable = op == sys::Op::open_source || moves_data(op);
  if (retryable && count.fetch_add(1) % 3 == 2) return -EINTR;
  return result;
}

TEST_P(EngineSuite, ResumesShortReadsAndWrites) {
  EngineOptions options = base_options();
  options.chunk = 16 * 1024;
  copy_flat(6, 100'003, options, halve_transfers);
}

TEST_P(EngineSuite, RetriesInterruptedCalls) {
  std::atomic<unsigned> count{0};
  EngineOptions options = base_options();
  options.chunk = 16 * 1024;
  copy_flat(6, 100'003, options, interrupt_some, &count);
  EXPECT_GT(count.load(), 0u);
}

// The first source opened vanishes (ENOENT) between the walk and the open: that file is the
// copy's one error, named by its path, and the others are copied.
long first_open_vanishes(sys::Op op, long result, void* context) {
  auto& fired = *static_cast<std::atomic<bool>*>(context);
  if (op == sys::Op::open_source && result >= 0 && !fired.exchange(true)) return -ENOENT;
  return result;
}

TEST_P(EngineSuite, ReportsASourceThatVanishedByName) {
  const TreeFixture tree(5, 1000);
  ASSERT_TRUE(tree.ok()) << tree.error();
  std::atomic<bool> fired{false};
  sys::set_fault_hook(first_open_vanishes, &fired);
  const CopyResult result = tree.copy(*engine_, base_options());
  sys::set_fault_hook(nullptr, nullptr);
  ASSERT_TRUE(fired.load());
  EXPECT_EQ(result.failed, 1u);
  EXPECT_EQ(result.copied.files, 4u);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].code, ENOENT);
  EXPECT_EQ(result.errors[0].operation, "open");
  EXPECT_EQ(result.errors[0].path.rfind(tree.source() + "/file_", 0), 0u) << result.errors[0].path;
  EXPECT_EQ(testing::entries_in(tree.destination()), 4u);  // nothing left of the failed one
}

TEST_P(EngineSuite, RefusesToOverwriteAnExistingDestination) {
  const TreeFixture tree(3, 1000);
  ASSERT_TRUE(tree.ok()) << tree.error();
  ASSERT_TRUE(tree.copy(*engine_, base_options()).ok());
  const CopyResult again = tree.copy(*engine_, base_options());
  EXPECT_EQ(again.failed, 3u);
  for (const CopyError& e : again.errors) EXPECT_EQ(e.code, EEXIST) << e.path;
  EXPECT_TRUE(tree.verify().ok());  // the first copy is intact
}

// A source truncated after its size was read (when its destination is created, before any byte
// moves): the copy fails, naming the first missing byte, even when several chunks in flight
// meet the end, and leaves no partial file behind.
struct Truncator {
  std::string path;
  std::atomic<bool> done{false};
  static long hook(sys::Op op, long result, void* context) {
    auto& self = *static_cast<Truncator*>(context);
    if (op == sys::Op::create_destination && result >= 0 && !self.done.exchange(true))
      (void)::truncate(self.path.c_str(), 10000);
    return result;
  }
};

TEST_P(EngineSuite, ReportsASourceTruncatedWhileItIsCopied) {
  for (const std::size_t chunk : {std::size_t{64} * 1024, std::size_t{4096}}) {
    const TreeFixture tree(1, 300'000);
    ASSERT_TRUE(tree.ok()) << tree.error();
    Truncator truncate;
    truncate.path = tree.source() + "/file_000000";
    EngineOptions options = base_options();
    options.chunk = chunk;
    sys::set_fault_hook(Truncator::hook, &truncate);
    const CopyResult result = tree.copy(*engine_, options);
    sys::set_fault_hook(nullptr, nullptr);
    ASSERT_TRUE(truncate.done.load());
    ASSERT_EQ(result.failed, 1u) << "chunk " << chunk;
    EXPECT_NE(result.errors[0].detail.find("ended at byte 10000, expected 300000"),
              std::string::npos)
        << result.errors[0].detail;
    EXPECT_EQ(testing::entries_in(tree.destination()), 0u);
  }
}

TEST_P(EngineSuite, StopsBeforeStartingWhenCancelled) {
  const TreeFixture tree(10, 1000);
  ASSERT_TRUE(tree.ok()) << tree.error();
  std::atomic<bool> cancel{true};
  CopyOptions options = testing::benchmark_options();
  options.cancel = &cancel;
  const CopyResult result = tree.copy(*engine_, base_options(), options);
  EXPECT_TRUE(result.cancelled);
  EXPECT_EQ(result.copied.files, 0u);
  EXPECT_EQ(result.failed, 0u);
  EXPECT_EQ(testing::entries_in(tree.destination()), 0u);
}

struct CancelAfter {
  std::atomic<bool> cancel{false};
  std::atomic<unsigned> reads{0};
  unsigned limit = 0;
};

// Sets the cancel flag when the engine sees its `limit`-th read (or copy_file_range) result: a
// cancellation in the middle of a copy, at a point that does not depend on timing.
long cancel_after_reads(sys::Op op, long result, void* context) {
  auto& state = *static_cast<CancelAfter*>(context);
  const bool data = op == sys::Op::read || op == sys::Op::copy_range || op == sys::Op::splice_in;
  if (data && state.reads.fetch_add(1) + 1 == state.limit) state.cancel = true;
  return result;
}

// Every file left in a destination is complete: the ones in progress were removed.
void expect_only_complete_files(const TreeFixture& tree) {
  for (const auto& entry : std::filesystem::directory_iterator(tree.destination())) {
    const std::string name = entry.path().filename();
    EXPECT_EQ(std::filesystem::file_size(entry.path()),
              std::filesystem::file_size(tree.source() + "/" + name))
        << name << " was left partial";
  }
}

TEST_P(EngineSuite, StopsMidCopyWhenCancelledAndClosesEverything) {
  const TreeFixture tree(40, 200'000);
  ASSERT_TRUE(tree.ok()) << tree.error();
  // A first copy lets the engine make what it keeps for the life of the process (libuv's
  // signal pipe, its pool), so that only descriptors of this copy are counted.
  ASSERT_TRUE(tree.copy(*engine_, base_options()).ok());
  ASSERT_TRUE(tree.reset());
  const std::size_t descriptors = testing::open_descriptors();
  CancelAfter state;
  state.limit = 10;
  EngineOptions options = base_options();
  options.workers = 4;
  options.inflight = 4;
  options.chunk = 16 * 1024;
  CopyOptions copy = testing::benchmark_options();
  copy.cancel = &state.cancel;
  sys::set_fault_hook(cancel_after_reads, &state);
  const CopyResult result = tree.copy(*engine_, options, copy);
  sys::set_fault_hook(nullptr, nullptr);
  ASSERT_TRUE(state.cancel.load());
  EXPECT_TRUE(result.cancelled);
  EXPECT_EQ(result.failed, 0u) << testing::first_error(result);
  EXPECT_LT(result.copied.files, 40u);
  EXPECT_EQ(testing::entries_in(tree.destination()), result.copied.files);
  expect_only_complete_files(tree);
  EXPECT_EQ(testing::open_descriptors(), descriptors);
}

TEST_P(EngineSuite, DescribesItsConcurrency) {
  EngineOptions options = base_options();
  const std::string text = engine_->describe(options, 50);
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(engine_->name(), GetParam().engine);
}

// Every engine with the default options; the event loops that read `kernel_copy` also with
// it forced on and off, so that both of their copy paths meet every case.
std::vector<SuiteCase> every_engine() {
  std::vector<SuiteCase> cases;
  for (const EngineInfo& info : engine_registry()) {
    const std::string name(info.name);
    cases.push_back({name, KernelCopy::automatic});
    if (name == "uring" || name == "uv") {
      cases.push_back({name, KernelCopy::on});
      cases.push_back({name, KernelCopy::off});
    }
  }
  return cases;
}

std::string case_name(const ::testing::TestParamInfo<SuiteCase>& info) {
  const SuiteCase& c = info.param;
  if (c.kernel_copy == KernelCopy::automatic) return c.engine;
  return c.engine + "_kernel_copy_" + std::string(kernel_copy_name(c.kernel_copy));
}

INSTANTIATE_TEST_SUITE_P(Every, EngineSuite, ::testing::ValuesIn(every_engine()), case_name);

}  // namespace
}  // namespace ccopy
