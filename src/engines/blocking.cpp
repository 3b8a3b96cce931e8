#include "engines/blocking.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <fmt/format.h>
#include <memory>

#include "ccopy/size.hpp"
#include "sys/sys.hpp"

namespace ccopy::engines {
namespace {

// Threads get a small stack: they hold a few frames and no buffers (those are on the heap),
// and a thread per file for thousands of files must not reserve 8 MiB each.
constexpr std::size_t kStackBytes = 256 * 1024;

bool retry(long rc) { return rc == -EINTR || rc == -EAGAIN; }

}  // namespace

WorkerPool::WorkerPool(unsigned max_threads, std::size_t scratch_bytes, Body body)
    : max_(std::max(1u, max_threads)), scratch_bytes_(scratch_bytes), body_(std::move(body)) {}

WorkerPool::~WorkerPool() {
  closed_.store(true);
  std::vector<pthread_t> threads;
  {
    std::lock_guard lock(mutex_);
    threads.swap(threads_);
  }
  for (pthread_t id : threads) ::pthread_join(id, nullptr);
}

void WorkerPool::run_body() {
  try {
    Scratch scratch(scratch_bytes_);
    body_(scratch);
  } catch (...) {
    std::lock_guard lock(mutex_);
    if (!failure_) failure_ = std::current_exception();
  }
}

void* WorkerPool::thread_main(void* self) {
  static_cast<WorkerPool*>(self)->run_body();
  return nullptr;
}

void WorkerPool::grow() {
  if (closed_.load(std::memory_order_relaxed)) return;
  unsigned now = started_.load(std::memory_order_relaxed);
  do {
    if (now >= max_.load(std::memory_order_relaxed)) return;
  } while (!started_.compare_exchange_weak(now, now + 1, std::memory_order_relaxed));
  pthread_attr_t attr;
  ::pthread_attr_init(&attr);
  ::pthread_attr_setstacksize(&attr, kStackBytes);
  pthread_t id;
  std::lock_guard lock(mutex_);
  const int rc = ::pthread_create(&id, &attr, thread_main, this);
  ::pthread_attr_destroy(&attr);
  if (rc != 0) {
    // No more are asked for: the threads running share the rest.
    if (!refused_)
      refused_ = Error::from_errno(rc, fmt::format("start thread {} of {} (continued with {})",
                                                   now + 1, max_.load(), now));
    max_.store(now);
    started_.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  threads_.push_back(id);
}

void WorkerPool::run() {
  run_body();
  // A body that is still running may start another thread until it finishes: join until none
  // is left.
  for (;;) {
    std::vector<pthread_t> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    if (threads.empty()) break;
    for (pthread_t id : threads) ::pthread_join(id, nullptr);
  }
  closed_.store(true);
  std::exception_ptr failure;
  {
    std::lock_guard lock(mutex_);
    failure = failure_;
  }
  if (failure) std::rethrow_exception(failure);
}

Error WorkerPool::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

unsigned threads_within_budget(std::size_t chunk) {
  return static_cast<unsigned>(
      std::max<std::size_t>(4, kThreadBufferBudget / std::max<std::size_t>(chunk, 1)));
}

unsigned worker_threads(const EngineOptions& options, std::size_t files) {
  const std::size_t wanted =
      options.workers == 0 ? std::min<std::size_t>(std::max<std::size_t>(files, 1),
                                                   threads_within_budget(options.chunk))
                           : options.workers;
  return static_cast<unsigned>(std::min<std::size_t>(wanted, 1u << 20));
}

std::string describe_workers(const EngineOptions& options, std::size_t files, Buffers buffers) {
  if (options.workers != 0)
    return fmt::format("{} worker thread{}", options.workers, options.workers == 1 ? "" : "s");
  const unsigned bound = threads_within_budget(options.chunk);
  if (files <= bound) return "a thread per waiting file";
  return fmt::format("a thread per waiting file, at most {} at once: {} of buffers{}", bound,
                     format_bytes(std::uint64_t{bound} * options.chunk),
                     buffers == Buffers::on_fallback ? " if read/write is needed" : "");
}

void note_refused_thread(const WorkerPool& pool, copy::FileContext& context) {
  if (const Error refused = pool.refused())
    context.note(fmt::format("the system refused a thread: {}", refused.message()));
}

void source_ended_early(copy::FileOutcome& outcome, std::uint64_t at, std::uint64_t size) {
  outcome.fail("read", fmt::format("the source ended at byte {}, expected {} bytes", at, size),
               false);
}

void copy_file_blocking(copy::FileJob& job, copy::FileContext& context,
                        const EngineOptions& options, const Transfer& transfer,
                        bool engine_reflinks) {
  copy::FilePlan plan;
  copy::FileOutcome outcome;
  plan.started_ns = now_ns();
  int flags = context.source_flags(job);
  long src;
  do src = sys::open_source_at(job.source_dir(), job.name.c_str(), flags);
  while (src == -EINTR);
  if (src < 0 && context.retry_without_noatime(flags, static_cast<int>(-src))) {
    flags &= ~O_NOATIME;
    do src = sys::open_source_at(job.source_dir(), job.name.c_str(), flags);
    while (src == -EINTR);
  }
  if (src < 0) {
    outcome.fail("open", static_cast<int>(-src), false);
    return context.done(job, plan, outcome);
  }
  sys::unique_fd source(static_cast<int>(src));
  struct ::stat st {};
  if (const long rc = sys::stat_fd(source.get(), st); rc < 0)
    outcome.fail("stat", static_cast<int>(-rc), false);
  else
    context.plan(job, source.get(), st, plan, outcome);
  if (outcome.ok() && plan.action == copy::FilePlan::Action::copy) {
    if (engine_reflinks && context.engine_may_reflink() && !plan.piece) {
      plan.may_share_extents = true;
      if (plan.size > 0 && !context.reflink_refused()) plan.try_reflink = true;
    }
    long dst;
    do dst = sys::create_at(plan.create_dir, plan.create_name.c_str(), plan.create_flags,
                            plan.create_mode);
    while (dst == -EINTR);
    if (context.created(plan, dst, outcome)) {
      sys::unique_fd destination(static_cast<int>(dst));
      if (!context.reflink(source.get(), destination.get(), plan, outcome) && outcome.ok()) {
        for (const copy::Extent& extent : plan.extents) {
          transfer(source.get(), destination.get(), extent, plan, outcome);
          if (!outcome.ok()) break;
        }
      }
      if (outcome.ok() && options.fsync) {
        long rc;
        do rc = sys::fdatasync(destination.get());
        while (rc == -EINTR);
        if (rc < 0) outcome.fail("fdatasync", static_cast<int>(-rc), true);
      }
      context.finish(job, plan, source.get(), destination.get(), outcome);
      if (const long rc = sys::close(destination.release()); rc < 0)
        outcome.fail("close", static_cast<int>(-rc), true);
    }
  }
  if (const long rc = sys::close(source.release()); rc < 0)
    outcome.fail("close", static_cast<int>(-rc), false);
  context.done(job, plan, outcome);
}

void transfer_read_write(int src, int dst, const copy::Extent& extent, const copy::FilePlan& plan,
                         std::span<char> buffer, copy::FileContext& context,
                         copy::FileOutcome& outcome) {
  std::uint64_t done = 0;
  while (done < extent.length) {
    if (context.stopping()) {
      outcome.cancelled = true;
      return;
    }
    const std::uint64_t at = extent.offset + done;
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), extent.length - done));
    long got;
    do got = sys::pread(src, buffer.data(), want, at);
    while (retry(got));
    if (got < 0) return outcome.fail("read", static_cast<int>(-got), false);
    if (got == 0) return source_ended_early(outcome, at, plan.size);
    const auto length = static_cast<std::size_t>(got);
    const bool hole = plan.zero_blocks_to_holes && copy::FileContext::all_zero({buffer.data(), length});
    std::size_t written = hole ? length : 0;
    while (written < length) {
      const long n = sys::pwrite(dst, buffer.data() + written, length - written, at + written);
      if (retry(n)) continue;
      if (n < 0) return outcome.fail("write", static_cast<int>(-n), true);
      if (n == 0) return outcome.fail("write", "the destination took no bytes", true);
      written += static_cast<std::size_t>(n);
    }
    done += length;
    outcome.bytes += length;
    context.bytes_moved(length);
  }
}

}  // namespace ccopy::engines
