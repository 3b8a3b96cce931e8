// What the engines built on blocking calls share: a pool of OS threads and the steps of one
// file's copy (open both ends, transfer, sync, close), each turning errno into an Error.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "ccopy/engine.hpp"

namespace ccopy::engines {

/// Monotonic time in nanoseconds.
[[nodiscard]] std::int64_t now_ns();

/// How a pool of threads went.
struct PoolReport {
  unsigned started = 0;  ///< threads that ran (the calling thread counts when none could start)
  Error refused;         ///< set when the system refused a thread (EAGAIN); the rest carried on
};

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

/// What a pool thread does for index `i`, with its own scratch buffer.
using PoolWork = std::function<void(std::size_t i, Scratch& scratch)>;

/// Runs `work(i, scratch)` once for every i in [0, count) on up to `threads` new OS threads,
/// each taking the next index until none is left (so a thread per file when `threads ==
/// count`), each with a Scratch of `scratch_bytes`. Threads are started one after another,
/// and only while some index is still waiting: when the running threads take every index
/// before the next thread would start, no more are started. When the system refuses a thread, the
/// threads already started share the rest; when it refuses the first, the calling thread does
/// all the work. Indices are not started once `cancel` is set.
PoolReport run_on_threads(std::size_t count, unsigned threads, const std::atomic<bool>* cancel,
                          std::size_t scratch_bytes, const PoolWork& work);

/// Most bytes the buffers of a thread per file may hold at once (`-workers 0`). Each thread of
/// the thread engines owns a `-chunk` buffer while it copies (the kernel engine's threads only
/// on a fallback to read/write); when many files are waiting on a slow disk, an unbounded
/// number of threads would hold an unbounded amount of memory while adding no speed.
inline constexpr std::size_t kThreadBufferBudget = std::size_t{32} << 20;

/// The most threads `-workers 0` runs at once with `chunk`-byte buffers: the buffer budget's
/// worth, and never fewer than 4.
[[nodiscard]] unsigned threads_within_budget(std::size_t chunk);

/// The threads a pool engine starts for `files` files: one per file when `options.workers` is
/// 0, bounded by the buffer budget, else at most `options.workers`.
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

/// Tells the report, in a note, that the system refused one of the pool's threads.
void note_refused_thread(const PoolReport& pool, CopyReport& report);

/// Moves bytes from `src` to `dst`: `bytes` counts what was written so far, and is updated
/// as the transfer goes, so a fallback can resume where it stopped.
using Transfer = std::function<Error(int src, int dst, const CopyJob& job, std::uint64_t& bytes)>;

/// Copies one file: opens the source, creates the destination, runs `transfer`, fdatasyncs
/// when `options.fsync`, closes both; records bytes, latency and the first error.
[[nodiscard]] FileOutcome copy_one_file(const CopyJob& job, const EngineOptions& options,
                                        const Transfer& transfer);

/// The classic loop: pread a chunk into `buffer`, pwrite it, resuming short transfers and
/// retrying EINTR and EAGAIN, until `job.size` bytes are copied. Fails when the source ends
/// early, and with ECANCELED at the next chunk once `cancel` is set.
[[nodiscard]] Error transfer_read_write(int src, int dst, const CopyJob& job,
                                        std::span<char> buffer, std::uint64_t& bytes,
                                        const std::atomic<bool>* cancel);

/// The error for a source that ended at `bytes` before the planned `job.size`.
[[nodiscard]] Error source_ended_early(const CopyJob& job, std::uint64_t bytes);

/// The CopyReport for `jobs`, one outcome each, none attempted yet.
[[nodiscard]] CopyReport empty_report(std::size_t count);

/// Gives every file the engine never attempted the engine's error, so that no file of a run
/// that could not start reads as copied.
void fail_unattempted(CopyReport& report, std::span<const CopyJob> jobs);

/// Marks the report cancelled when `cancel` is set and some file was never attempted or
/// failed with ECANCELED.
void finish_report(CopyReport& report, const std::atomic<bool>* cancel);

}  // namespace ccopy::engines
