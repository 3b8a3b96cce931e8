// The "xev" design: one thread runs one io_uring event loop, and every step of every file is
// a ring operation: open the source, create the destination, read, write, (fdatasync,) close
// both. With `loops > 1`, that many threads each run such a loop on their own ring, taking
// files from one shared list.
//
// A loop keeps at most `inflight` files in progress and a pool of `inflight` chunk buffers,
// sized by what is in flight, not by the number of files. Chunks are handed round-robin to
// the open files that still have bytes to read, up to kMaxChunksPerFile each, so the chunks of
// one large file are read and written at once when few files are in progress.
//
// A chunk's read and write are submitted together, linked, so the kernel worker that did the
// read goes straight on to the write. That matters because, on this kernel, tmpfs cannot read or
// write without blocking and ext4 cannot write without blocking: such operations are handed to
// an io_uring kernel worker (io-wq) and every hand-off and completion costs a wake-up. A short
// read breaks the link (the kernel cancels the write) and the chunk goes on step by step.
//
// Short reads and writes resume with what remains, -EAGAIN and -EINTR are resubmitted, and a
// full submission queue is flushed and retried, as liburing's examples/io_uring-cp.c does.
// Every completion's result passes through sys::filter_result, the fault seam.
#include <fcntl.h>
#include <fmt/format.h>
#include <liburing.h>

#include <cerrno>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "engines/blocking.hpp"
#include "engines/engines.hpp"
#include "sys/sys.hpp"

namespace ccopy::engines {
namespace {

// Most chunks one file holds at once: enough to keep a read and a write of one large file in
// flight together, few enough that many files share the pool fairly.
constexpr unsigned kMaxChunksPerFile = 4;

constexpr std::uint64_t kNever = ~std::uint64_t{0};

// Read and write name a chunk; every other step names a file slot.
enum class Step : std::uint8_t {
  open_source,
  open_destination,
  read,
  write,
  sync,
  close_source,
  close_destination
};

constexpr unsigned kStepBits = 3;
constexpr std::uint64_t kStepMask = (1u << kStepBits) - 1;

std::uint64_t tag(std::size_t index, Step step) {
  return (static_cast<std::uint64_t>(index) << kStepBits) | static_cast<std::uint64_t>(step);
}

// The state of one file in progress.
struct FileSlot {
  std::size_t job = 0;
  int source = -1;
  int destination = -1;
  std::uint64_t next_offset = 0;    // the first byte no chunk has been given yet
  std::uint64_t written = 0;        // bytes of chunks read and fully written
  unsigned pending = 0;             // file operations (open, sync, close) in flight
  unsigned chunks = 0;              // chunks held; each has a read or a write in flight
  bool opened = false;              // both ends are open
  bool queued = false;              // waiting in the loop's queue for a chunk
  bool busy = false;                // between start() and retire()
  std::uint64_t ended_at = kNever;  // where the source ended early, when `error` says so
  std::int64_t started_ns = 0;
  Error error;
};

// One buffer and the piece of a file it carries: [offset, offset + length).
struct Chunk {
  std::size_t file = 0;
  char* buffer = nullptr;
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
  std::uint32_t filled = 0;   // bytes read so far
  std::uint32_t written = 0;  // of those, bytes written so far
  // A chunk's first read and its write go to the ring together, linked, so that the kernel
  // worker that reads also writes. Both results are kept until both have arrived, in whatever
  // order: only then is it known whether the read filled the chunk and the write counts.
  unsigned linked = 0;  // completions of the linked pair still to come
  long read_res = 0;
  long write_res = 0;
};

// What the loops of one copy share: the next job to start, and the report's shared parts.
struct Shared {
  Shared(std::span<const CopyJob> all, const EngineOptions& opts, CopyReport& out)
      : jobs(all), options(opts), report(out) {}

  std::span<const CopyJob> jobs;
  const EngineOptions& options;
  CopyReport& report;
  std::atomic<std::size_t> next_job{0};
  std::mutex mutex;   // guards report.engine_error, report.notes and setup_error
  Error setup_error;  // the first loop that could not start

  // The next job nobody has taken, or jobs.size().
  std::size_t claim() {
    if (next_job.load(std::memory_order_relaxed) >= jobs.size()) return jobs.size();
    return std::min(next_job.fetch_add(1, std::memory_order_relaxed), jobs.size());
  }

  void note(const std::string& text) {
    std::lock_guard lock(mutex);
    for (const std::string& n : report.notes)
      if (n == text) return;
    report.notes.push_back(text);
  }

  void engine_failed(Error e) {
    std::lock_guard lock(mutex);
    if (!report.engine_error) report.engine_error = std::move(e);
  }

  void setup_failed(Error e) {
    std::lock_guard lock(mutex);
    if (!setup_error) setup_error = std::move(e);
  }
};

// Files one loop keeps in progress.
std::size_t slots_for(const EngineOptions& options, std::size_t jobs) {
  return std::max<std::size_t>(1, std::min<std::size_t>(options.inflight, jobs));
}

// Chunk buffers one loop owns: one per file in progress, and when there are fewer files than
// `inflight`, the rest of the `inflight` budget for several chunks of one file at once.
std::size_t chunks_for(const EngineOptions& options, std::size_t jobs) {
  const std::size_t slots = slots_for(options, jobs);
  return std::max(slots, std::min<std::size_t>(options.inflight, slots * kMaxChunksPerFile));
}

class Loop {
 public:
  explicit Loop(Shared& shared) : shared_(shared), jobs_(shared.jobs), options_(shared.options) {}

  ~Loop() {
    if (ring_ready_) io_uring_queue_exit(&ring_);
    std::free(buffers_);
  }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  Error setup() {
    const std::size_t slots = slots_for(options_, jobs_.size());
    const std::size_t chunks = chunks_for(options_, jobs_.size());
    // Every operation in flight has a submission entry: at most two per file (the opens, the
    // closes) and two per chunk (a linked read and write). The completion queue is twice that,
    // so it cannot overflow.
    unsigned entries = 8;
    while (entries < (slots + chunks) * 2) entries *= 2;
    if (Error e = init_ring(entries)) return e;
    void* memory = nullptr;
    if (::posix_memalign(&memory, 4096, options_.chunk * chunks) != 0)
      return Error::from_errno(ENOMEM, "allocate io_uring buffers");
    buffers_ = static_cast<char*>(memory);
    files_.resize(slots);
    for (std::size_t i = 0; i < slots; ++i) free_files_.push_back(i);
    chunks_.resize(chunks);
    for (std::size_t i = 0; i < chunks; ++i) {
      chunks_[i].buffer = buffers_ + i * options_.chunk;
      free_chunks_.push_back(i);
    }
    return {};
  }

  void run() {
    bool more_jobs = true;
    for (;;) {
      while (more_jobs && !free_files_.empty() && !cancelled()) {
        const std::size_t job = shared_.claim();
        if (job >= jobs_.size())
          more_jobs = false;
        else
          start(take(free_files_), job);
      }
      hand_out_chunks();
      if (active_ == 0) break;
      const int rc = io_uring_submit_and_wait(&ring_, 1);
      if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
        const Error why = Error::from_errno(-rc, "io_uring_enter");
        abandon(why);
        shared_.engine_failed(why);
        return;
      }
      unsigned head;
      unsigned seen = 0;
      io_uring_cqe* cqe;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        complete(cqe->user_data, cqe->res);
      }
      io_uring_cq_advance(&ring_, seen);
    }
  }

 private:
  // A ring with COOP_TASKRUN when the kernel takes it (5.19 and later): the kernel then does not
  // interrupt this thread to run completion work, which waits until the thread next enters the
  // kernel. Measured against SINGLE_ISSUER|DEFER_TASKRUN and a plain ring (docs/results.md,
  // Tuning log), it was the fastest of the three. Older kernels refuse the flag with EINVAL; the
  // plain ring works the same.
  Error init_ring(unsigned entries) {
    io_uring_params params{};
    params.flags = IORING_SETUP_COOP_TASKRUN;
    int rc = io_uring_queue_init_params(entries, &ring_, &params);
    if (rc == -EINVAL) {
      shared_.note("io_uring: the kernel refused COOP_TASKRUN; using a plain ring");
      params = io_uring_params{};
      rc = io_uring_queue_init_params(entries, &ring_, &params);
    }
    if (rc < 0) return Error::from_errno(-rc, "io_uring_setup");
    ring_ready_ = true;
    return {};
  }

  bool cancelled() const {
    return options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed);
  }

  static std::size_t take(std::vector<std::size_t>& free) {
    const std::size_t index = free.back();
    free.pop_back();
    return index;
  }

  io_uring_sqe* sqe() {
    for (;;) {
      if (io_uring_sqe* s = io_uring_get_sqe(&ring_)) return s;
      // The submission queue is full: hand what is there to the kernel and try again.
      (void)io_uring_submit(&ring_);
    }
  }

  void start(std::size_t index, std::size_t job) {
    FileSlot& file = files_[index];
    file = FileSlot{};
    file.job = job;
    file.busy = true;
    file.started_ns = now_ns();
    shared_.report.files[job].attempted = true;
    ++active_;
    submit_open(index, Step::open_source);
    submit_open(index, Step::open_destination);
  }

  void submit_open(std::size_t index, Step step) {
    const CopyJob& job = jobs_[files_[index].job];
    io_uring_sqe* s = sqe();
    if (step == Step::open_source)
      io_uring_prep_openat(s, AT_FDCWD, job.source.c_str(), O_RDONLY | O_CLOEXEC, 0);
    else
      io_uring_prep_openat(s, AT_FDCWD, job.destination.c_str(),
                           O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    push_file_op(s, index, step);
  }

  void submit_file_op(std::size_t index, Step step) {
    FileSlot& file = files_[index];
    io_uring_sqe* s = sqe();
    if (step == Step::sync)
      io_uring_prep_fsync(s, file.destination, IORING_FSYNC_DATASYNC);
    else
      io_uring_prep_close(s, step == Step::close_source ? file.source : file.destination);
    push_file_op(s, index, step);
  }

  void push_file_op(io_uring_sqe* s, std::size_t index, Step step) {
    io_uring_sqe_set_data64(s, tag(index, step));
    ++files_[index].pending;
  }

  void submit_read(std::size_t c) {
    const Chunk& chunk = chunks_[c];
    io_uring_sqe* s = sqe();
    io_uring_prep_read(s, files_[chunk.file].source, chunk.buffer + chunk.filled,
                       chunk.length - chunk.filled, chunk.offset + chunk.filled);
    io_uring_sqe_set_data64(s, tag(c, Step::read));
  }

  void submit_write(std::size_t c) {
    const Chunk& chunk = chunks_[c];
    io_uring_sqe* s = sqe();
    io_uring_prep_write(s, files_[chunk.file].destination, chunk.buffer + chunk.written,
                        chunk.filled - chunk.written, chunk.offset + chunk.written);
    io_uring_sqe_set_data64(s, tag(c, Step::write));
  }

  // The read of a whole chunk, linked to the write of it. When the read comes back short, the
  // kernel cancels the write (-ECANCELED); settle_pair() then ignores the write and goes on
  // one step at a time.
  void submit_linked_pair(std::size_t c) {
    Chunk& chunk = chunks_[c];
    const FileSlot& file = files_[chunk.file];
    // Both entries must be in one submission: make room for two before taking the first.
    while (io_uring_sq_space_left(&ring_) < 2) (void)io_uring_submit(&ring_);
    io_uring_sqe* r = sqe();
    io_uring_sqe* w = sqe();
    io_uring_prep_read(r, file.source, chunk.buffer, chunk.length, chunk.offset);
    io_uring_prep_write(w, file.destination, chunk.buffer, chunk.length, chunk.offset);
    io_uring_sqe_set_data64(r, tag(c, Step::read));
    r->flags |= IOSQE_IO_LINK;
    io_uring_sqe_set_data64(w, tag(c, Step::write));
    chunk.linked = 2;
  }

  // Both halves of a linked pair have completed.
  void settle_pair(std::size_t c) {
    Chunk& chunk = chunks_[c];
    if (chunk.read_res != static_cast<long>(chunk.length)) return read_done(c, chunk.read_res);
    chunk.filled = chunk.length;
    write_done(c, chunk.write_res);
  }

  // Records the first error of a file; later ones are consequences of it.
  static void fail(FileSlot& file, long res, const char* what, const std::string& path) {
    if (!file.error)
      file.error = Error::from_errno(static_cast<int>(-res), fmt::format("{} {}", what, path));
  }

  bool wants_data(const FileSlot& file) const {
    return file.opened && !file.error && file.next_offset < jobs_[file.job].size;
  }

  void enqueue(std::size_t index) {
    FileSlot& file = files_[index];
    if (file.queued || !wants_data(file)) return;
    file.queued = true;
    hungry_.push_back(index);
  }

  // Gives free chunks to the files waiting for one, in turn, and starts their reads. Once the
  // run is cancelled, a waiting file fails with ECANCELED instead of reading on.
  void hand_out_chunks() {
    while (!free_chunks_.empty() && !hungry_.empty()) {
      const std::size_t index = hungry_.front();
      hungry_.pop_front();
      FileSlot& file = files_[index];
      file.queued = false;
      if (!wants_data(file)) continue;
      if (cancelled()) {
        fail(file, -ECANCELED, "copy", jobs_[file.job].source);
        if (file.chunks == 0) close_both(index);
        continue;
      }
      const std::size_t c = take(free_chunks_);
      Chunk& chunk = chunks_[c];
      chunk.file = index;
      chunk.offset = file.next_offset;
      chunk.length = static_cast<std::uint32_t>(
          std::min<std::uint64_t>(options_.chunk, jobs_[file.job].size - file.next_offset));
      chunk.filled = chunk.written = 0;
      file.next_offset += chunk.length;
      ++file.chunks;
      submit_linked_pair(c);
      if (file.chunks < kMaxChunksPerFile) enqueue(index);
    }
  }

  static sys::Op op_of(Step step) {
    switch (step) {
      case Step::open_source:
        return sys::Op::open_source;
      case Step::open_destination:
        return sys::Op::create_destination;
      case Step::read:
        return sys::Op::read;
      case Step::write:
        return sys::Op::write;
      case Step::sync:
        return sys::Op::sync;
      case Step::close_source:
      case Step::close_destination:
        return sys::Op::close;
    }
    return sys::Op::close;
  }

  void complete(std::uint64_t data, int raw) {
    const std::size_t index = data >> kStepBits;
    const auto step = static_cast<Step>(data & kStepMask);
    const long res = sys::filter_result(op_of(step), raw);
    if ((step == Step::read || step == Step::write) && chunks_[index].linked > 0) {
      Chunk& chunk = chunks_[index];
      (step == Step::read ? chunk.read_res : chunk.write_res) = res;
      if (--chunk.linked == 0) settle_pair(index);
      return;
    }
    switch (step) {
      case Step::read:
        return read_done(index, res);
      case Step::write:
        return write_done(index, res);
      default:
        return file_op_done(index, step, res, res == -EAGAIN || res == -EINTR);
    }
  }

  void file_op_done(std::size_t index, Step step, long res, bool again) {
    FileSlot& file = files_[index];
    const CopyJob& job = jobs_[file.job];
    --file.pending;
    switch (step) {
      case Step::open_source:
      case Step::open_destination: {
        const bool source = step == Step::open_source;
        if (again) return submit_open(index, step);
        if (res < 0)
          fail(file, res, source ? "open" : "create", source ? job.source : job.destination);
        else
          (source ? file.source : file.destination) = static_cast<int>(res);
        if (file.pending > 0) return;  // the other open is still on its way
        if (!file.error && cancelled()) fail(file, -ECANCELED, "copy", job.source);
        if (file.error) return close_both(index);
        if (job.size == 0) return finish_data(index);
        file.opened = true;
        return enqueue(index);
      }
      case Step::sync:
        if (again) return submit_file_op(index, Step::sync);
        if (res < 0) fail(file, res, "fdatasync", job.destination);
        return close_both(index);
      default:
        // A close is never retried: on Linux the descriptor is gone whatever the result.
        if (res < 0)
          fail(file, res, "close", step == Step::close_source ? job.source : job.destination);
        if (file.pending == 0) retire(index);
        return;
    }
  }

  void read_done(std::size_t c, long res) {
    Chunk& chunk = chunks_[c];
    FileSlot& file = files_[chunk.file];
    const CopyJob& job = jobs_[file.job];
    const bool again = res == -EAGAIN || res == -EINTR;
    if (again) return submit_read(c);
    if (res < 0) {
      fail(file, res, "read", job.source);
      return release(c);
    }
    if (res == 0) {
      // Several chunks may meet the end; the error names the first byte that is missing.
      const std::uint64_t at = chunk.offset + chunk.filled;
      if (!file.error || (file.ended_at != kNever && at < file.ended_at)) {
        file.error = source_ended_early(job, at);
        file.ended_at = at;
      }
      return release(c);
    }
    chunk.filled += static_cast<std::uint32_t>(res);
    // After a short read, read on: either the rest comes, or the end of the source shows.
    if (chunk.filled < chunk.length && (!file.error || file.ended_at != kNever))
      return submit_read(c);
    if (file.error) return release(c);
    submit_write(c);
  }

  void write_done(std::size_t c, long res) {
    Chunk& chunk = chunks_[c];
    FileSlot& file = files_[chunk.file];
    const bool again = res == -EAGAIN || res == -EINTR;
    if (again) return submit_write(c);
    if (res <= 0) {
      fail(file, res == 0 ? -EIO : res, "write", jobs_[file.job].destination);
      return release(c);
    }
    chunk.written += static_cast<std::uint32_t>(res);
    if (chunk.written < chunk.filled && !file.error) return submit_write(c);
    if (chunk.written == chunk.length) file.written += chunk.length;
    release(c);
  }

  // A chunk's work is over, finished or failed: its buffer goes back to the pool and its file
  // moves on: more data, the sync and closes, or (after an error) the closes once no other
  // chunk of it is in flight.
  void release(std::size_t c) {
    const std::size_t index = chunks_[c].file;
    FileSlot& file = files_[index];
    --file.chunks;
    free_chunks_.push_back(c);
    if (file.error) {
      if (file.chunks == 0) close_both(index);
      return;
    }
    if (file.chunks == 0 && file.written == jobs_[file.job].size) return finish_data(index);
    enqueue(index);
  }

  void finish_data(std::size_t index) {
    if (options_.fsync) return submit_file_op(index, Step::sync);
    close_both(index);
  }

  void close_both(std::size_t index) {
    FileSlot& file = files_[index];
    file.opened = false;
    if (file.source >= 0) submit_file_op(index, Step::close_source);
    if (file.destination >= 0) submit_file_op(index, Step::close_destination);
    file.source = file.destination = -1;
    if (file.pending == 0) retire(index);
  }

  void retire(std::size_t index) {
    FileSlot& file = files_[index];
    FileOutcome& outcome = shared_.report.files[file.job];
    outcome.bytes = file.written;
    outcome.error = std::move(file.error);
    outcome.latency_ns = now_ns() - file.started_ns;
    file.busy = false;
    --active_;
    free_files_.push_back(index);
  }

  // The ring itself failed: nothing more will complete, so close what is open by hand and
  // fail every file in progress with the ring's error.
  void abandon(const Error& why) {
    for (std::size_t i = 0; i < files_.size(); ++i) {
      FileSlot& file = files_[i];
      if (file.source >= 0) (void)sys::close(file.source);
      if (file.destination >= 0) (void)sys::close(file.destination);
      file.source = file.destination = -1;
      if (!file.busy) continue;
      if (!file.error) file.error = why;
      retire(i);
    }
  }

  Shared& shared_;
  std::span<const CopyJob> jobs_;
  const EngineOptions& options_;
  io_uring ring_{};
  bool ring_ready_ = false;
  char* buffers_ = nullptr;
  std::vector<FileSlot> files_;
  std::vector<std::size_t> free_files_;
  std::vector<Chunk> chunks_;
  std::vector<std::size_t> free_chunks_;
  std::deque<std::size_t> hungry_;  // open files waiting for a chunk, served in turn
  std::size_t active_ = 0;
};

// Sets up one loop and runs it until no job is left; a loop that cannot start leaves its
// share to the others and records why.
void run_loop(Shared& shared) {
  Loop loop(shared);
  if (Error e = loop.setup()) return shared.setup_failed(std::move(e));
  loop.run();
}

class UringEngine final : public Engine {
 public:
  std::string_view name() const override { return "uring"; }

  std::string describe(const EngineOptions& options, std::size_t file_count) const override {
    const unsigned loops = loop_count(options, file_count);
    const std::size_t slots = slots_for(options, file_count);
    const std::string files = fmt::format("{} file{} in flight", slots, slots == 1 ? "" : "s");
    if (loops == 1) return "io_uring event loop, " + files;
    return fmt::format("{} io_uring event loops (one ring per thread), {} each", loops, files);
  }

  CopyReport copy(std::span<const CopyJob> jobs, const EngineOptions& options) override {
    CopyReport report = empty_report(jobs.size());
    if (jobs.empty()) return report;
    Shared shared(jobs, options, report);
    const unsigned loops = loop_count(options, jobs.size());
    if (loops == 1) {
      run_loop(shared);
    } else {
      const PoolReport pool =
          run_on_threads(loops, loops, nullptr, 0, [&](std::size_t, Scratch&) { run_loop(shared); });
      if (pool.refused)
        shared.note(fmt::format("the system refused a loop's thread: {}", pool.refused.message()));
    }
    // A loop that could not start left its files to the others: that is an engine error only
    // when some file was left for nobody.
    if (shared.setup_error) {
      bool all_attempted = true;
      for (const FileOutcome& file : report.files) all_attempted = all_attempted && file.attempted;
      if (all_attempted)
        report.notes.push_back(
            fmt::format("a loop could not start: {}", shared.setup_error.message()));
      else if (!report.engine_error)
        report.engine_error = shared.setup_error;
    }
    fail_unattempted(report, jobs);
    finish_report(report, options.cancel);
    return report;
  }

 private:
  // More loops than files would leave rings idle.
  static unsigned loop_count(const EngineOptions& options, std::size_t file_count) {
    return static_cast<unsigned>(
        std::max<std::size_t>(1, std::min<std::size_t>(options.loops, file_count)));
  }
};

}  // namespace

std::unique_ptr<Engine> make_uring_engine() { return std::make_unique<UringEngine>(); }

Availability probe_uring() {
  io_uring ring{};
  const int rc = io_uring_queue_init(2, &ring, 0);
  if (rc < 0) return {false, fmt::format("io_uring_setup: {}", sys::error_text(-rc))};
  io_uring_queue_exit(&ring);
  return {};
}

}  // namespace ccopy::engines
