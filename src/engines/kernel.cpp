// The kernel's own copy, on worker threads as the threads engine runs them: what Go's
// goroutine mode really does on Linux, where io.CopyBuffer between two *os.File ends in
// copy_file_range. Per file: try FICLONE (a reflink, instant where the file system shares
// extents), then copy_file_range in a loop over each extent, then read/write through a buffer
// when the kernel or the file system cannot (EXDEV, ENOSYS, EOPNOTSUPP, EINVAL). Where the
// copy must not share extents (Reflink::never), sendfile takes copy_file_range's place:
// copy_file_range clones wherever the file system can (the VFS tries remap_file_range first,
// on xfs and btrfs), which is a reflink the user refused; sendfile always copies the bytes.
//
// Fallbacks are remembered, as libuv remembers ENOSYS: a kernel without copy_file_range stays
// without it for the life of the process (a static atomic), while a file system's refusal
// (no reflinks, a cross-device copy) holds for the rest of one copy, whose files share one
// destination; the next copy, perhaps elsewhere, asks again. Each fallback is said in a note.
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
// small enough that a cancelled copy stops within a fraction of a second.
constexpr std::size_t kRangeStep = std::size_t{64} << 20;

// Set once copy_file_range answered ENOSYS: this kernel lacks it, for every later copy too.
std::atomic<bool> g_copy_range_missing{false};

bool retry(long rc) { return rc == -EINTR || rc == -EAGAIN; }

bool means_unsupported(long rc) {
  return rc == -EXDEV || rc == -ENOSYS || rc == -EOPNOTSUPP || rc == -EINVAL || rc == -ENOTTY;
}

std::string errno_name(int err) {
  switch (err) {
    case EXDEV: return "EXDEV";
    case ENOSYS: return "ENOSYS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EINVAL: return "EINVAL";
    case ENOTTY: return "ENOTTY";
    default: return fmt::format("errno {}", err);
  }
}

// How a file's bytes move inside the kernel: copy_file_range, which clones (shares the extents)
// wherever the file system can, or, where the copy must not share them (Reflink::never),
// sendfile, which always copies. A refusal turns the rest of the copy to read/write.
struct Mover {
  const char* name;
  long (*call)(int src, int dst, std::uint64_t at, std::size_t length);
  std::atomic<int> refused{0};
};

long copy_range_at(int src, int dst, std::uint64_t at, std::size_t length) {
  return sys::copy_file_range(src, at, dst, at, length);
}

long send_file_at(int src, int dst, std::uint64_t at, std::size_t length) {
  return sys::send_file(dst, at, src, at, length);
}

// The mover over one extent until it is copied, the kernel refuses (then `done` says where
// read/write must resume), or the source ends (the call answers 0: read/write confirms the end
// and reports it, or finds the data a file system would not splice).
std::uint64_t move_ranges(Mover& mover, int src, int dst, const copy::Extent& extent,
                          copy::FileContext& context, copy::FileOutcome& outcome) {
  std::uint64_t done = 0;
  while (done < extent.length) {
    if (g_copy_range_missing.load(std::memory_order_relaxed) ||
        mover.refused.load(std::memory_order_relaxed) != 0)
      return done;
    if (context.stopping()) {
      outcome.cancelled = true;
      return done;
    }
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(kRangeStep, extent.length - done));
    const long n = mover.call(src, dst, extent.offset + done, want);
    if (retry(n)) continue;
    if (n == -ENOSYS && mover.call == copy_range_at) g_copy_range_missing.store(true);
    if (means_unsupported(n)) {
      int expected = 0;
      (void)mover.refused.compare_exchange_strong(expected, static_cast<int>(-n));
      return done;
    }
    if (n < 0) {
      outcome.fail(mover.name, static_cast<int>(-n), true);
      return done;
    }
    if (n == 0) return done;
    done += static_cast<std::uint64_t>(n);
    outcome.bytes += static_cast<std::uint64_t>(n);
    context.bytes_moved(static_cast<std::uint64_t>(n));
  }
  return done;
}

class KernelEngine final : public Engine {
 public:
  std::string_view name() const override { return "kernel"; }

  std::string describe(const EngineOptions& options, std::size_t file_count) const override {
    return "FICLONE, else copy_file_range on " +
           describe_workers(options, file_count, Buffers::on_fallback);
  }

 private:
  void run(copy::FileSource& files, copy::FileContext& context,
           const EngineOptions& options) override {
    Mover copy_range{"copy_file_range", copy_range_at};
    Mover send_file{"sendfile", send_file_at};
    WorkerPool* self = nullptr;
    WorkerPool pool(worker_threads(options, SIZE_MAX), options.chunk, [&](Scratch& scratch) {
      copy::FileJob job;
      const Transfer transfer = [&](int src, int dst, const copy::Extent& extent,
                                    const copy::FilePlan& plan, copy::FileOutcome& outcome) {
        // Sparse::always must see the bytes to find the zeros: read/write only.
        std::uint64_t done = 0;
        if (!plan.zero_blocks_to_holes)
          done = move_ranges(plan.may_share_extents ? copy_range : send_file, src, dst, extent,
                             context, outcome);
        if (!outcome.ok() || done >= extent.length) return;
        transfer_read_write(src, dst, {extent.offset + done, extent.length - done}, plan,
                            scratch.buffer(), context, outcome);
      };
      while (files.next(job, true) == copy::FileSource::Pull::job) {
        if (files.ready() > 0) self->grow();
        copy_file_blocking(job, context, options, transfer, true);
      }
    });
    self = &pool;
    pool.run();
    note_refused_thread(pool, context);
    for (const Mover* mover : {&copy_range, &send_file})
      if (const int err = mover->refused.load(); err != 0)
        context.note(fmt::format("{} refused ({}, {}): fell back to read/write", mover->name,
                                 errno_name(err), sys::error_text(err)));
    if (copy_range.refused.load() == 0 && g_copy_range_missing.load())
      context.note("copy_file_range is missing from this kernel (ENOSYS): copied with read/write");
  }
};

}  // namespace

std::unique_ptr<Engine> make_kernel_engine() { return std::make_unique<KernelEngine>(); }

}  // namespace ccopy::engines
