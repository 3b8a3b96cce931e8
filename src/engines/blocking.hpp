// What the engines built on blocking calls share: a pool of OS threads that grows while files
// wait, and the steps of one file's copy (open and stat the source, plan, create, transfer, sync,
// finish, close), each turning a -errno result into the file's outcome.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "ccopy/engine.hpp"
#include "copy/context.hpp"
#include "copy/job.hpp"

namespace ccopy::engines {

using copy::now_ns;

/// A worker thread's own buffer: allocated the first time it is asked for, so a thread that
/// never needs it costs nothing, and freed when the thread's work ends.
class Scratch {
 public:
  explicit Scratch(std::size_t size) : size_(size) {}
  [[nodiscard]] std::span<char> buffer() {
    if (!data_) data_ = std::make_unique_for_overwrite<char[]>(size_);
    return {data_.get(), size_};
  }

 private:
  std::size_t size_;
  std::unique_ptr<char[]> data_;
};

/// Threads running one body, started one at a time while there is work no thread has taken:
/// the calling thread runs the body first, and grow() (called from any body) starts one more,
/// up to a maximum. When the system refuses a thread, the ones running carry on with the work
/// and no more are asked for.
class WorkerPool {
 public:
  using Body = std::function<void(Scratch&)>;
  WorkerPool(unsigned max_threads, std::size_t scratch_bytes, Body body);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool();

  /// Runs the body on the calling thread, then waits for every thread grow() started. An
  /// exception thrown by any body is thrown again here, once all have ended.
  void run();
  /// Starts one more thread running the body, unless the maximum runs or a thread was refused.
  void grow();

  [[nodiscard]] unsigned started() const { return started_.load(); }
  /// Why the system refused a thread ("start thread 5 of 512: Resource temporarily
  /// unavailable"), or empty.
  [[nodiscard]] Error refused() const;

 private:
  static void* thread_main(void* self);
  void run_body();

  std::atomic<unsigned> max_;
  std::size_t scratch_bytes_;
  Body body_;
  std::atomic<unsigned> started_{1};  // the calling thread
  std::atomic<bool> closed_{false};
  mutable std::mutex mutex_;
  std::vector<pthread_t> threads_;
  Error refused_;
  std::exception_ptr failure_;
};

/// Most bytes the buffers of a thread per file may hold at once (`-workers 0`). Each thread of
/// the thread engines owns a `-chunk` buffer while it copies (the kernel engine's threads only
/// on a fallback to read/write); when many files are waiting on a slow disk, an unbounded
/// number of threads would hold an unbounded amount of memory while adding no speed.
inline constexpr std::size_t kThreadBufferBudget = std::size_t{32} << 20;

/// The most threads `-workers 0` runs at once with `chunk`-byte buffers: the buffer budget's
/// worth, and never fewer than 4.
[[nodiscard]] unsigned threads_within_budget(std::size_t chunk);

/// The threads a pool engine runs at most for about `files` files: one per waiting file when
/// `options.workers` is 0, bounded by the buffer budget, else `options.workers`.
[[nodiscard]] unsigned worker_threads(const EngineOptions& options, std::size_t files);

/// Whether a pool engine's threads always hold a buffer, or only when they fall back to read
/// and write (the kernel engine): the budget bounds both, and the output says which.
enum class Buffers : std::uint8_t { always, on_fallback };

/// How a pool engine's concurrency reads in the output: "a thread per waiting file",
/// "a thread per waiting file, at most 512 at once: 32.0 MiB of buffers" (with
/// Buffers::on_fallback: "..., at most 512 at once: 32.0 MiB of buffers if read/write is
/// needed") or "N worker threads".
[[nodiscard]] std::string describe_workers(const EngineOptions& options, std::size_t files,
                                           Buffers buffers = Buffers::always);

/// Tells the copy, in a note, that the system refused one of the pool's threads.
void note_refused_thread(const WorkerPool& pool, copy::FileContext& context);

/// Moves one extent of a file from `src` to `dst`, adding to `outcome.bytes` as it goes and
/// recording a failure (or the copy's cancellation) in `outcome`.
using Transfer = std::function<void(int src, int dst, const copy::Extent& extent,
                                    const copy::FilePlan& plan, copy::FileOutcome& outcome)>;

/// Copies one file with blocking calls: opens and stats the source, asks the context for a
/// plan, creates the destination, clones it or runs `transfer` over every extent, fdatasyncs
/// when `options.fsync`, lets the context finish it, closes both, and reports it done. EINTR is
/// retried at every step.
void copy_file_blocking(copy::FileJob& job, copy::FileContext& context,
                        const EngineOptions& options, const Transfer& transfer,
                        bool engine_reflinks = false);

/// The classic loop: pread a chunk into `buffer`, pwrite it, resuming short transfers and
/// retrying EINTR and EAGAIN, until the extent is copied. With plan.zero_blocks_to_holes, a
/// chunk of zeros is not written (it stays a hole). Fails when the source ends early, and is
/// abandoned at the next chunk once the copy is stopping.
void transfer_read_write(int src, int dst, const copy::Extent& extent, const copy::FilePlan& plan,
                         std::span<char> buffer, copy::FileContext& context,
                         copy::FileOutcome& outcome);

/// "source ended at byte 10, expected 4096 bytes": the outcome of a source truncated while
/// it was copied.
void source_ended_early(copy::FileOutcome& outcome, std::uint64_t at, std::uint64_t size);

}  // namespace ccopy::engines
