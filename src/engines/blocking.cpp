#include "engines/blocking.hpp"

#include <pthread.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <fmt/format.h>
#include <memory>
#include <vector>

#include "ccopy/size.hpp"
#include "sys/sys.hpp"

namespace ccopy::engines {
namespace {

// Threads get a small stack: they hold a few frames and no buffers (those are on the heap),
// and a thread per file for thousands of files must not reserve 8 MiB each.
constexpr std::size_t kStackBytes = 256 * 1024;

struct PoolShared {
  std::size_t count;
  const std::atomic<bool>* cancel;
  std::size_t scratch_bytes;
  const PoolWork* work;
  std::atomic<std::size_t> next{0};

  // Whether some index is still waiting for a thread (and the run was not cancelled).
  [[nodiscard]] bool has_waiting() const {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) return false;
    return next.load(std::memory_order_relaxed) < count;
  }

  void drain() {
    Scratch scratch(scratch_bytes);
    for (;;) {
      if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) return;
      const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= count) return;
      (*work)(i, scratch);
    }
  }
};

void* pool_thread(void* arg) {
  static_cast<PoolShared*>(arg)->drain();
  return nullptr;
}

bool retry(long rc) { return rc == -EINTR || rc == -EAGAIN; }

Error errno_error(long rc, const char* what, const std::string& path) {
  return Error::from_errno(static_cast<int>(-rc), fmt::format("{} {}", what, path));
}

}  // namespace

std::int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

PoolReport run_on_threads(std::size_t count, unsigned threads, const std::atomic<bool>* cancel,
                          std::size_t scratch_bytes, const PoolWork& work) {
  PoolReport report;
  PoolShared shared{count, cancel, scratch_bytes, &work};
  pthread_attr_t attr;
  ::pthread_attr_init(&attr);
  ::pthread_attr_setstacksize(&attr, kStackBytes);
  std::vector<pthread_t> started;
  started.reserve(threads);
  for (unsigned t = 0; t < threads; ++t) {
    // A thread is started only for a file that no thread has taken yet: when the threads
    // already running keep up (small files, thread creation slower than a copy), starting more
    // would cost a thread each and copy nothing.
    if (t > 0 && !shared.has_waiting()) break;
    pthread_t id;
    const int rc = ::pthread_create(&id, &attr, pool_thread, &shared);
    if (rc != 0) {
      report.refused = Error::from_errno(
          rc, fmt::format("start thread {} of {} (continued with {})", t + 1, threads, t));
      break;
    }
    started.push_back(id);
  }
  ::pthread_attr_destroy(&attr);
  if (started.empty()) shared.drain();
  for (pthread_t id : started) ::pthread_join(id, nullptr);
  report.started = started.empty() ? 1 : static_cast<unsigned>(started.size());
  return report;
}

unsigned threads_within_budget(std::size_t chunk) {
  return static_cast<unsigned>(
      std::max<std::size_t>(4, kThreadBufferBudget / std::max<std::size_t>(chunk, 1)));
}

unsigned worker_threads(const EngineOptions& options, std::size_t files) {
  const std::size_t wanted = options.workers == 0
                                 ? std::min<std::size_t>(files, threads_within_budget(options.chunk))
                                 : std::min<std::size_t>(options.workers, files);
  return static_cast<unsigned>(std::min<std::size_t>(wanted, 1u << 20));
}

std::string describe_workers(const EngineOptions& options, std::size_t files, Buffers buffers) {
  if (options.workers != 0)
    return fmt::format("{} worker threads", std::min<std::size_t>(options.workers, files));
  const unsigned bound = threads_within_budget(options.chunk);
  if (files <= bound) return "a thread per waiting file";
  return fmt::format("a thread per waiting file, at most {} at once: {} of buffers{}", bound,
                     format_bytes(std::uint64_t{bound} * options.chunk),
                     buffers == Buffers::on_fallback ? " if read/write is needed" : "");
}

void note_refused_thread(const PoolReport& pool, CopyReport& report) {
  if (pool.refused)
    report.notes.push_back(fmt::format("the system refused a thread: {}", pool.refused.message()));
}

FileOutcome copy_one_file(const CopyJob& job, const EngineOptions& options,
                          const Transfer& transfer) {
  FileOutcome outcome;
  outcome.attempted = true;
  const std::int64_t start = now_ns();
  long src;
  do src = sys::open_source(job.source.c_str());
  while (src == -EINTR);
  if (src < 0) {
    outcome.error = errno_error(src, "open", job.source);
  } else {
    sys::unique_fd src_fd(static_cast<int>(src));
    long dst;
    do dst = sys::create_destination(job.destination.c_str());
    while (dst == -EINTR);
    if (dst < 0) {
      outcome.error = errno_error(dst, "create", job.destination);
    } else {
      sys::unique_fd dst_fd(static_cast<int>(dst));
      outcome.error = transfer(src_fd.get(), dst_fd.get(), job, outcome.bytes);
      if (!outcome.error && options.fsync) {
        long rc;
        do rc = sys::fdatasync(dst_fd.get());
        while (rc == -EINTR);
        if (rc < 0) outcome.error = errno_error(rc, "fdatasync", job.destination);
      }
      const long closed = sys::close(dst_fd.release());
      if (closed < 0 && !outcome.error) outcome.error = errno_error(closed, "close", job.destination);
    }
    const long closed = sys::close(src_fd.release());
    if (closed < 0 && !outcome.error) outcome.error = errno_error(closed, "close", job.source);
  }
  outcome.latency_ns = now_ns() - start;
  return outcome;
}

Error source_ended_early(const CopyJob& job, std::uint64_t bytes) {
  return Error::failure(fmt::format("read {}: source ended at byte {}, expected {} bytes",
                                    job.source, bytes, job.size));
}

Error transfer_read_write(int src, int dst, const CopyJob& job, std::span<char> buffer,
                          std::uint64_t& bytes, const std::atomic<bool>* cancel) {
  while (bytes < job.size) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed))
      return Error::from_errno(ECANCELED, "copy " + job.source);
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), job.size - bytes));
    long got;
    do got = sys::pread(src, buffer.data(), want, bytes);
    while (retry(got));
    if (got < 0) return errno_error(got, "read", job.source);
    if (got == 0) return source_ended_early(job, bytes);
    std::size_t written = 0;
    while (written < static_cast<std::size_t>(got)) {
      const long n = sys::pwrite(dst, buffer.data() + written,
                                 static_cast<std::size_t>(got) - written, bytes + written);
      if (retry(n)) continue;
      if (n < 0) return errno_error(n, "write", job.destination);
      if (n == 0) return Error::from_errno(EIO, "write " + job.destination + " (wrote nothing)");
      written += static_cast<std::size_t>(n);
    }
    bytes += static_cast<std::uint64_t>(got);
  }
  return {};
}

CopyReport empty_report(std::size_t count) {
  CopyReport report;
  report.files.resize(count);
  return report;
}

void fail_unattempted(CopyReport& report, std::span<const CopyJob> jobs) {
  if (!report.engine_error) return;
  for (std::size_t i = 0; i < report.files.size() && i < jobs.size(); ++i) {
    FileOutcome& file = report.files[i];
    if (!file.attempted && !file.error)
      file.error = Error{report.engine_error.code,
                         fmt::format("copy {}: {}", jobs[i].source, report.engine_error.context)};
  }
}

void finish_report(CopyReport& report, const std::atomic<bool>* cancel) {
  if (cancel == nullptr || !cancel->load()) return;
  for (const FileOutcome& file : report.files) {
    if (!file.attempted || file.error.code == ECANCELED) {
      report.cancelled = true;
      return;
    }
  }
}

}  // namespace ccopy::engines
