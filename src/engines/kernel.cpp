// The kernel's own copy, on worker threads as the threads engine runs them: what Go's
// goroutine mode really does on Linux, where io.CopyBuffer between two *os.File ends in
// copy_file_range. Per file: try FICLONE (a reflink, instant where the file system shares
// extents), then copy_file_range in a loop, then read/write through a buffer when the kernel
// or the file system cannot (EXDEV, ENOSYS, EOPNOTSUPP, EINVAL).
//
// Fallbacks are remembered, as libuv remembers ENOSYS: a kernel without copy_file_range stays
// without it for the life of the process (a static atomic), while a file system's refusal
// (no reflinks, a cross-device copy) holds for the rest of one run, whose files all share one
// workspace; the next run, perhaps elsewhere, asks again. Each fallback is reported as a note.
#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <memory>

#include "engines/blocking.hpp"
#include "engines/engines.hpp"
#include "sys/sys.hpp"

namespace ccopy::engines {
namespace {

// Bytes asked of one copy_file_range call: large enough that the call count does not matter,
// small enough that a cancelled run stops within a fraction of a second.
constexpr std::size_t kRangeStep = std::size_t{64} << 20;

// Set once copy_file_range answered ENOSYS: this kernel lacks it, for every later run too.
std::atomic<bool> g_copy_range_missing{false};

bool retry(long rc) { return rc == -EINTR || rc == -EAGAIN; }

bool means_unsupported(long rc) {
  return rc == -EXDEV || rc == -ENOSYS || rc == -EOPNOTSUPP || rc == -EINVAL || rc == -ENOTTY;
}

// What one run learnt about the file system, shared by its worker threads. An errno value of 0
// means "not refused (yet)".
struct RunFallbacks {
  std::atomic<int> clone_refused{0};
  std::atomic<int> copy_range_refused{0};
};

Error copy_range_error(long rc, const CopyJob& job) {
  return Error::from_errno(static_cast<int>(-rc),
                           fmt::format("copy_file_range {} to {}", job.source, job.destination));
}

// Reflinks the whole source. Returns true when the destination is complete (or failed in a
// way that ends the file); false when the caller should copy the bytes another way.
bool try_clone(int src, int dst, const CopyJob& job, std::uint64_t& bytes, RunFallbacks& run,
               Error& error) {
  if (run.clone_refused.load(std::memory_order_relaxed) != 0) return false;
  long rc;
  do rc = sys::clone_file(dst, src);
  while (rc == -EINTR);
  if (rc < 0) {
    // As libuv's uv_fs_copyfile does, any refusal means "copy instead"; only the ones that
    // describe the file system are remembered for the rest of the run.
    if (means_unsupported(rc) || rc == -EPERM) run.clone_refused.store(static_cast<int>(-rc));
    return false;
  }
  const long long size = sys::file_size(dst);
  if (size < 0) {
    error = Error::from_errno(static_cast<int>(-size), "fstat " + job.destination);
    return true;
  }
  bytes = static_cast<std::uint64_t>(size);
  if (bytes < job.size) error = source_ended_early(job, bytes);
  return true;
}

// copy_file_range until `job.size` bytes are copied, the kernel refuses (then `bytes` says
// where read/write must resume), or the source ends (copy_file_range answers 0: the caller's
// read/write confirms the end and reports it, or finds the data a file system would not splice).
Error copy_ranges(int src, int dst, const CopyJob& job, std::uint64_t& bytes, RunFallbacks& run,
                  const std::atomic<bool>* cancel) {
  while (bytes < job.size) {
    if (g_copy_range_missing.load(std::memory_order_relaxed) ||
        run.copy_range_refused.load(std::memory_order_relaxed) != 0)
      return {};
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed))
      return Error::from_errno(ECANCELED, "copy " + job.source);
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(kRangeStep, job.size - bytes));
    const long n = sys::copy_file_range(src, bytes, dst, bytes, want);
    if (retry(n)) continue;
    if (n == -ENOSYS) g_copy_range_missing.store(true);
    if (means_unsupported(n)) {
      run.copy_range_refused.store(static_cast<int>(-n));
      return {};
    }
    if (n < 0) return copy_range_error(n, job);
    if (n == 0) return {};
    bytes += static_cast<std::uint64_t>(n);
  }
  return {};
}

// The read/write fallback's buffer is the worker's scratch, allocated only when a fallback
// needs it.
Error kernel_transfer(int src, int dst, const CopyJob& job, std::uint64_t& bytes,
                      const EngineOptions& options, RunFallbacks& run, Scratch& scratch) {
  if (job.size == 0) return {};
  Error error;
  if (bytes == 0 && try_clone(src, dst, job, bytes, run, error)) return error;
  if (Error e = copy_ranges(src, dst, job, bytes, run, options.cancel)) return e;
  if (bytes >= job.size) return {};
  return transfer_read_write(src, dst, job, scratch.buffer(), bytes, options.cancel);
}

std::string errno_name(int err) {
  switch (err) {
    case EXDEV:
      return "EXDEV";
    case ENOSYS:
      return "ENOSYS";
    case EOPNOTSUPP:
      return "EOPNOTSUPP";
    case EINVAL:
      return "EINVAL";
    case ENOTTY:
      return "ENOTTY";
    case EPERM:
      return "EPERM";
    default:
      return fmt::format("errno {}", err);
  }
}

void add_fallback_notes(const RunFallbacks& run, CopyReport& report) {
  if (const int err = run.clone_refused.load(); err != 0)
    report.notes.push_back(
        fmt::format("FICLONE refused ({}, {}): no reflinks, the bytes were copied", errno_name(err),
                    sys::error_text(err)));
  if (const int err = run.copy_range_refused.load(); err != 0)
    report.notes.push_back(fmt::format("copy_file_range refused ({}, {}): fell back to read/write",
                                       errno_name(err), sys::error_text(err)));
  else if (g_copy_range_missing.load())
    report.notes.push_back(
        "copy_file_range is missing from this kernel (ENOSYS): copied with read/write");
}

class KernelEngine final : public Engine {
 public:
  std::string_view name() const override { return "kernel"; }

  std::string describe(const EngineOptions& options, std::size_t file_count) const override {
    return "FICLONE, else copy_file_range on " +
           describe_workers(options, file_count, Buffers::on_fallback);
  }

  CopyReport copy(std::span<const CopyJob> jobs, const EngineOptions& options) override {
    CopyReport report = empty_report(jobs.size());
    RunFallbacks run;
    const unsigned threads = worker_threads(options, jobs.size());
    const PoolReport pool = run_on_threads(
        jobs.size(), threads, options.cancel, options.chunk, [&](std::size_t i, Scratch& scratch) {
          report.files[i] = copy_one_file(
              jobs[i], options, [&](int src, int dst, const CopyJob& job, std::uint64_t& bytes) {
                return kernel_transfer(src, dst, job, bytes, options, run, scratch);
              });
        });
    note_refused_thread(pool, report);
    add_fallback_notes(run, report);
    finish_report(report, options.cancel);
    return report;
  }
};

}  // namespace

std::unique_ptr<Engine> make_kernel_engine() { return std::make_unique<KernelEngine>(); }

}  // namespace ccopy::engines
