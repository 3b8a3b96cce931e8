// ONE suite, instantiated for EVERY engine in the registry (libuv's TEST_FS_IMPL habit): each
// case copies a set of files and every copy must verify byte for byte. The event loops that
// can copy inside the kernel run it three times: -kernel-copy auto, on and off.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "ccopy/engine.hpp"
#include "ccopy/fileset.hpp"
#include "ccopy/verify.hpp"
#include "sys/sys.hpp"
#include "test_dir.hpp"

namespace ccopy {
namespace {

using testing::entries_in;

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
    ASSERT_TRUE(dir_.ok());
    ASSERT_FALSE(Workspace::create(dir_.path(), workspace_));
  }

  // The options every case starts from: the defaults, with this instance's kernel copy.
  [[nodiscard]] EngineOptions base_options() const {
    EngineOptions options;
    options.kernel_copy = GetParam().kernel_copy;
    return options;
  }

  void copy_and_verify(std::size_t count, std::uint64_t size) {
    copy_and_verify(count, size, base_options());
  }

  // Generates `count` files of `size` bytes, copies them, and checks every outcome and copy.
  // With `hook`, every result of the copy (only) passes through it.
  void copy_and_verify(std::size_t count, std::uint64_t size, const EngineOptions& options,
                       sys::FaultHook hook = nullptr, void* context = nullptr) {
    const std::vector<CopyJob> jobs = plan_jobs(workspace_, count, size);
    ASSERT_FALSE(generate_sources(jobs, 42));
    sys::set_fault_hook(hook, context);
    const CopyReport report = engine_->copy(jobs, options);
    sys::set_fault_hook(nullptr, nullptr);
    ASSERT_FALSE(report.first_error()) << report.first_error().message();
    ASSERT_EQ(report.files.size(), count);
    EXPECT_FALSE(report.cancelled);
    for (std::size_t i = 0; i < count; ++i) {
      EXPECT_TRUE(report.files[i].attempted) << jobs[i].source;
      EXPECT_EQ(report.files[i].bytes, size) << jobs[i].source;
      EXPECT_GE(report.files[i].latency_ns, 0);
    }
    const VerifyReport verdict = verify_copies(jobs);
    EXPECT_TRUE(verdict.ok()) << verdict.first_error().message();
    EXPECT_EQ(entries_in(workspace_.destination_dir()), count);
  }

  testing::TestDir dir_;
  Workspace workspace_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(EngineSuite, CopiesZeroFiles) { copy_and_verify(0, 100); }
TEST_P(EngineSuite, CopiesOneEmptyFile) { copy_and_verify(1, 0); }
TEST_P(EngineSuite, CopiesOneByte) { copy_and_verify(1, 1); }
TEST_P(EngineSuite, CopiesOneByteLessThanAChunk) { copy_and_verify(3, 65535); }
TEST_P(EngineSuite, CopiesExactlyOneChunk) { copy_and_verify(3, 65536); }
TEST_P(EngineSuite, CopiesOneByteMoreThanAChunk) { copy_and_verify(3, 65537); }
TEST_P(EngineSuite, CopiesThreeMiBAndSevenBytes) { copy_and_verify(4, 3 * 1024 * 1024 + 7); }
TEST_P(EngineSuite, CopiesAThousandSmallFiles) { copy_and_verify(1000, 4096); }

TEST_P(EngineSuite, CopiesWithOneFileInFlight) {
  EngineOptions options = base_options();
  options.inflight = 1;
  copy_and_verify(20, 100'000, options);
}

TEST_P(EngineSuite, CopiesWithOneWorker) {
  EngineOptions options = base_options();
  options.workers = 1;
  copy_and_verify(20, 100'000, options);
}

TEST_P(EngineSuite, CopiesWithAnOddChunkSize) {
  EngineOptions options = base_options();
  options.chunk = 4097;
  copy_and_verify(5, 50'000, options);
}

// Several rings share one list of files (uring); engines with one loop or none ignore `loops`.
TEST_P(EngineSuite, CopiesWithSeveralLoops) {
  EngineOptions options = base_options();
  options.loops = 3;
  options.inflight = 2;
  options.chunk = 4097;
  copy_and_verify(7, 50'000, options);
}

// More loops than files: the loops without a file must end without touching anything.
TEST_P(EngineSuite, CopiesWithMoreLoopsThanFiles) {
  EngineOptions options = base_options();
  options.loops = 8;
  copy_and_verify(2, 70'000, options);
}

// A chunk one byte short of 64 KiB puts every chunk but the first off a page boundary; a pipe
// sized for 16 of them (1 MiB) then holds fewer bytes than one splice asks for, so the kernel's
// own splice-ins come back short and break their links.
TEST_P(EngineSuite, CopiesChunksThatStraddlePages) {
  EngineOptions options = base_options();
  options.chunk = 65535;
  copy_and_verify(2, 3 * 1024 * 1024 + 7, options);
}

// One large file with a small chunk: several chunks of it are in flight at once.
TEST_P(EngineSuite, CopiesOneFileInManySmallChunks) {
  EngineOptions options = base_options();
  options.chunk = 4096;
  copy_and_verify(1, 1024 * 1024 + 3, options);
}

TEST_P(EngineSuite, CopiesWithFsync) {
  EngineOptions options = base_options();
  options.fsync = true;
  copy_and_verify(5, 70'000, options);
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
  copy_and_verify(6, 100'003, options, halve_transfers);
}

TEST_P(EngineSuite, RetriesInterruptedCalls) {
  std::atomic<unsigned> count{0};
  EngineOptions options = base_options();
  options.chunk = 16 * 1024;
  copy_and_verify(6, 100'003, options, interrupt_some, &count);
  EXPECT_GT(count.load(), 0u);
}

TEST_P(EngineSuite, ReportsAMissingSourceByName) {
  std::vector<CopyJob> jobs = plan_jobs(workspace_, 3, 1000);
  ASSERT_FALSE(generate_sources(jobs, 1));
  jobs[1].source += ".missing";
  const CopyReport report = engine_->copy(jobs, base_options());
  EXPECT_FALSE(report.files[0].error);
  EXPECT_FALSE(report.files[2].error);
  ASSERT_TRUE(report.files[1].error);
  EXPECT_EQ(report.files[1].error.code, ENOENT);
  EXPECT_NE(report.files[1].error.message().find(jobs[1].source), std::string::npos);
  EXPECT_TRUE(verify_copy(jobs[0]).ok());
  EXPECT_TRUE(verify_copy(jobs[2]).ok());
}

TEST_P(EngineSuite, RefusesToOverwriteAnExistingDestination) {
  const std::vector<CopyJob> jobs = plan_jobs(workspace_, 2, 1000);
  ASSERT_FALSE(generate_sources(jobs, 1));
  ASSERT_FALSE(generate_sources({CopyJob{jobs[0].destination, "", 10}}, 2));
  const CopyReport report = engine_->copy(jobs, base_options());
  ASSERT_TRUE(report.files[0].error);
  EXPECT_EQ(report.files[0].error.code, EEXIST);
  EXPECT_FALSE(report.files[1].error);
}

TEST_P(EngineSuite, ReportsASourceShorterThanPlanned) {
  std::vector<CopyJob> jobs = plan_jobs(workspace_, 1, 10'000);
  ASSERT_FALSE(generate_sources(jobs, 1));
  jobs[0].size = 20'000;
  const CopyReport report = engine_->copy(jobs, base_options());
  ASSERT_TRUE(report.files[0].error);
  EXPECT_NE(report.files[0].error.message().find("ended at byte 10000"), std::string::npos)
      << report.files[0].error.message();
}

// With small chunks, several of them meet the end of the source; the error still names the
// first missing byte.
TEST_P(EngineSuite, ReportsASourceShorterThanPlannedInSmallChunks) {
  std::vector<CopyJob> jobs = plan_jobs(workspace_, 1, 10'000);
  ASSERT_FALSE(generate_sources(jobs, 1));
  jobs[0].size = 30'000;
  EngineOptions options = base_options();
  options.chunk = 4096;
  const CopyReport report = engine_->copy(jobs, options);
  ASSERT_TRUE(report.files[0].error);
  EXPECT_NE(report.files[0].error.message().find("ended at byte 10000"), std::string::npos)
      << report.files[0].error.message();
}

TEST_P(EngineSuite, StopsBeforeStartingWhenCancelled) {
  const std::vector<CopyJob> jobs = plan_jobs(workspace_, 10, 1000);
  ASSERT_FALSE(generate_sources(jobs, 1));
  std::atomic<bool> cancel{true};
  EngineOptions options = base_options();
  options.cancel = &cancel;
  const CopyReport report = engine_->copy(jobs, options);
  EXPECT_TRUE(report.cancelled);
  for (const FileOutcome& file : report.files) EXPECT_FALSE(file.attempted && !file.error);
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

std::size_t open_descriptors() { return entries_in("/proc/self/fd"); }

TEST_P(EngineSuite, StopsMidCopyWhenCancelledAndClosesEverything) {
  const std::vector<CopyJob> all = plan_jobs(workspace_, 41, 200'000);
  ASSERT_FALSE(generate_sources(all, 1));
  // A first copy lets the engine make what it keeps for the life of the process (libuv's
  // signal pipe, say), so that only descriptors of this copy are counted.
  ASSERT_FALSE(engine_->copy(std::span(all).subspan(40), base_options()).first_error());
  const std::span<const CopyJob> jobs = std::span(all).first(40);
  const std::size_t descriptors = open_descriptors();
  CancelAfter state;
  state.limit = 10;
  EngineOptions options = base_options();
  options.cancel = &state.cancel;
  options.workers = 4;
  options.inflight = 4;
  options.chunk = 16 * 1024;
  sys::set_fault_hook(cancel_after_reads, &state);
  const CopyReport report = engine_->copy(jobs, options);
  sys::set_fault_hook(nullptr, nullptr);
  ASSERT_TRUE(state.cancel.load());
  EXPECT_TRUE(report.cancelled);
  std::size_t unfinished = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const FileOutcome& file = report.files[i];
    if (!file.attempted)
      ++unfinished;
    else if (file.error)
      EXPECT_EQ(file.error.code, ECANCELED) << file.error.message();
    else
      EXPECT_TRUE(verify_copy(jobs[i]).ok()) << jobs[i].source;
  }
  EXPECT_GT(unfinished, 0u);
  EXPECT_EQ(open_descriptors(), descriptors);
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
