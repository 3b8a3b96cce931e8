// The original's "xev" design: one event loop dispatches the I/O, libuv's thread pool runs
// the blocking file operations, and their completions come back to the loop as callbacks. At
// most `inflight` files are in progress, each with two buffers from a pool sized by
// `inflight`, not by the number of files.
//
// Per file: the source open and the destination open go to the pool together. Then, by
// default (-kernel-copy on, and auto), the bytes move inside the kernel: uv_fs_sendfile
// requests of up to 16 MiB (libuv 1.44 on Linux runs one copy_file_range per request, else
// sendfile, else its own read/write loop), and when the last one is done the source's close
// and the destination's close (or fdatasync, then close) go to the pool together: five
// hand-offs in three rounds for a small file. With -kernel-copy off, the original's path: the
// next 64 KiB chunk is read while the last one is written (two buffers per file), and the
// source is closed alongside the last write. A read/write pair per chunk is two hand-offs to
// the pool and back; measured on tmpfs, that made the engine 0.3x to 0.7x of copy_file_range
// on threads from 256 KiB files up, where uv_fs_sendfile matches it (docs/engines.md).
//
// Short transfers resume with what remains; -EAGAIN and -EINTR are resubmitted. libuv passes
// no destination offset to copy_file_range, so a sendfile writes at the destination's file
// offset, which moves by what the kernel copied: when the fault seam reports less than that,
// or turns a completed piece into -EINTR, the offset is ahead of the next piece, and the file
// finishes with read/write, which names its offsets. A refusal (EXDEV, ENOSYS, EINVAL,
// EOPNOTSUPP) turns the rest of the run to read/write, with a note; a 0 before the planned
// size hands the file to read/write, which confirms the end of the source and reports it as
// the read path does. Every result passes through sys::filter_result (a sendfile as
// Op::copy_range), so the fault seam covers this engine.
//
// libuv's pool is one per process, started at its first use with UV_THREADPOOL_SIZE threads
// (read then and never again). `-pool N` sets that variable before the first use; a later run
// that asks for another size keeps the running pool and says so in a note.
#include <fcntl.h>
#include <fmt/format.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engines/blocking.hpp"
#include "engines/engines.hpp"
#include "sys/sys.hpp"

namespace ccopy::engines {
namespace {

// libuv's own limits for UV_THREADPOOL_SIZE (src/threadpool.c): at least 1, at most 1024. (Its
// own default, 4, is not ours: see default_pool_size.)
constexpr unsigned kMaxPool = 1024;

// Bytes asked of one uv_fs_sendfile request: large enough that the hand-offs do not matter
// (libuv runs one copy_file_range per request), small enough that a cancelled run stops
// within a fraction of a second.
constexpr std::size_t kSendfileStep = std::size_t{16} << 20;

// The size libuv's pool was started with in this process, or 0 before the first run.
std::mutex g_pool_mutex;
std::atomic<unsigned> g_pool_started{0};

// libuv's own default pool size.
constexpr unsigned kLibuvDefaultPool = 4;

// With kernel copy, one pool thread per CPU this process may run on (uv_available_parallelism
// honours the affinity mask). The pool's threads then copy inside the kernel (sendfile), so they
// are busy, not waiting, and more of them than CPUs only take turns: on 2 CPUs, 2 threads copied
// 1,000 x 4 KiB 1.1 to 1.5 times faster than libuv's default of 4, and were faster or level on
// every other scenario (docs/results.md, "The uv engine"). With read and write through buffers
// (-kernel-copy off) the threads also wait on the disk, and libuv's default stays.
unsigned default_pool_size(KernelCopy kernel_copy) {
  if (kernel_copy == KernelCopy::off) return kLibuvDefaultPool;
  return std::clamp(uv_available_parallelism(), 1u, kMaxPool);
}

// The pool size for `options` (-pool 0: a UV_THREADPOOL_SIZE the user exported, parsed as
// libuv parses it, else default_pool_size).
unsigned pool_size_for(const EngineOptions& options) {
  if (options.pool != 0) return std::min(options.pool, kMaxPool);
  const char* value = std::getenv("UV_THREADPOOL_SIZE");
  if (value == nullptr) return default_pool_size(options.kernel_copy);
  const auto parsed = static_cast<unsigned>(std::atoi(value));
  if (parsed == 0) return 1;
  return std::min(parsed, kMaxPool);
}

// Fixes the pool's size before libuv's first use of it and returns the size in use. Must be
// called before any uv_fs_* call; setenv is safe here because the pool's threads, the only
// other readers of the environment in libuv, do not exist yet.
unsigned start_pool(const EngineOptions& options) {
  const std::lock_guard lock(g_pool_mutex);
  if (const unsigned started = g_pool_started.load(); started != 0) return started;
  const unsigned size = pool_size_for(options);
  ::setenv("UV_THREADPOOL_SIZE", std::to_string(size).c_str(), 1);
  g_pool_started.store(size);
  return size;
}

unsigned pool_in_use(const EngineOptions& options) {
  const unsigned started = g_pool_started.load();
  return started != 0 ? started : pool_size_for(options);
}

struct Slot;

// One libuv request and the slot it works for. A slot has two: the source side (open, read,
// close the source) and the destination side (create, write, fdatasync, close the destination),
// so that the two opens, a read and the previous chunk's write, and the last write and the
// source's close, run side by side.
struct Request {
  uv_fs_t fs{};
  Slot* slot = nullptr;
  bool source_side = false;
  bool busy = false;
};

// A buffer's worth of the file: `length` bytes read from `offset`, of which `written` are
// written.
struct Chunk {
  char* buffer = nullptr;
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
  std::uint32_t written = 0;
};

// The state of one file in progress; the loop owns every slot. Each slot has two buffers, so
// that the next chunk is read while the last one is written; chunks are written in the order
// they were read (`head` is the oldest of the `filled` ones).
struct Slot {
  Request source_request;
  Request destination_request;
  Chunk chunks[2];
  unsigned head = 0;
  unsigned filled = 0;
  std::size_t job = 0;
  uv_file source = -1;
  uv_file destination = -1;
  std::uint64_t read_offset = 0;  // the next byte to read
  std::uint64_t copied = 0;       // bytes whose chunk is fully written, or sent
  std::uint64_t position = 0;     // the destination's file offset, where a sendfile writes
  bool kernel = false;            // this file copies with uv_fs_sendfile (else read/write)
  bool data_done = false;         // every byte written: fdatasync and close remain
  std::int64_t started_ns = 0;
  Error error;

  [[nodiscard]] bool idle() const { return !source_request.busy && !destination_request.busy; }
};

bool means_unsupported(long rc) {
  return rc == -EXDEV || rc == -ENOSYS || rc == -EINVAL || rc == -EOPNOTSUPP;
}

class Loop {
 public:
  Loop(std::span<const CopyJob> jobs, const EngineOptions& options, CopyReport& report)
      : jobs_(jobs), options_(options), report_(report) {}

  ~Loop() {
    if (loop_ready_) (void)uv_loop_close(&loop_);
    std::free(buffers_);
  }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  Error setup() {
    kernel_copy_ = options_.kernel_copy != KernelCopy::off;
    slot_count_ = std::max<std::size_t>(1, std::min<std::size_t>(options_.inflight, jobs_.size()));
    if (const int rc = uv_loop_init(&loop_); rc < 0) return Error::from_errno(-rc, "uv_loop_init");
    loop_ready_ = true;
    loop_.data = this;
    void* memory = nullptr;
    if (::posix_memalign(&memory, 4096, options_.chunk * 2 * slot_count_) != 0)
      return Error::from_errno(ENOMEM, "allocate libuv buffers");
    buffers_ = static_cast<char*>(memory);
    slots_ = std::make_unique<Slot[]>(slot_count_);
    for (std::size_t i = 0; i < slot_count_; ++i) {
      Slot& slot = slots_[i];
      slot.chunks[0].buffer = buffers_ + 2 * i * options_.chunk;
      slot.chunks[1].buffer = slot.chunks[0].buffer + options_.chunk;
      slot.source_request.slot = slot.destination_request.slot = &slot;
      slot.source_request.source_side = true;
      slot.source_request.fs.data = &slot.source_request;
      slot.destination_request.fs.data = &slot.destination_request;
      free_.push_back(&slot);
    }
    return {};
  }

  void run() {
    fill();
    // Returns when no request is left: every file started has been closed and retired.
    (void)uv_run(&loop_, UV_RUN_DEFAULT);
  }

  // Says so when the kernel refused uv_fs_sendfile and the run went on with read/write.
  void add_notes() const {
    if (refused_ != 0)
      report_.notes.push_back(fmt::format(
          "uv_fs_sendfile refused ({}): fell back to read/write for the rest of the run",
          sys::error_text(refused_)));
  }

 private:
  bool cancelled() const {
    return options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed);
  }

  // Starts files while slots are free. A file can finish during its own start (when libuv
  // refuses a request at once), so a call made while filling leaves the work to the outer one.
  void fill() {
    if (filling_) return;
    filling_ = true;
    while (!free_.empty() && next_job_ < jobs_.size() && !cancelled()) {
      Slot* slot = free_.back();
      free_.pop_back();
      start(*slot, next_job_++);
    }
    filling_ = false;
  }

  void start(Slot& slot, std::size_t job) {
    slot.job = job;
    slot.source = slot.destination = -1;
    slot.head = slot.filled = 0;
    slot.read_offset = slot.copied = slot.position = 0;
    slot.kernel = kernel_copy_;
    slot.data_done = false;
    slot.error = {};
    slot.started_ns = now_ns();
    report_.files[job].attempted = true;
    submit_open(slot.source_request);
    submit_open(slot.destination_request);
    if (slot.idle()) retire(slot);  // libuv refused both opens
  }

  static void on_done(uv_fs_t* fs) {
    auto* request = static_cast<Request*>(fs->data);
    static_cast<Loop*>(fs->loop->data)->complete(*request);
  }

  // Counts a submitted request as busy. One libuv refused at once (it could not allocate)
  // fails its file as a failed completion would.
  void submitted(Request& request, int rc, const char* what, const std::string& path) {
    if (rc >= 0) {
      request.busy = true;
      return;
    }
    uv_fs_req_cleanup(&request.fs);
    fail(*request.slot, rc, what, path);
  }

  void submit_open(Request& request) {
    const CopyJob& job = jobs_[request.slot->job];
    if (request.source_side) {
      submitted(
          request,
          uv_fs_open(&loop_, &request.fs, job.source.c_str(), O_RDONLY | O_CLOEXEC, 0, on_done),
          "open", job.source);
    } else {
      submitted(request,
                uv_fs_open(&loop_, &request.fs, job.destination.c_str(),
                           O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644, on_done),
                "create", job.destination);
    }
  }

  void submit_read(Slot& slot) {
    const CopyJob& job = jobs_[slot.job];
    Chunk& chunk = slot.chunks[(slot.head + slot.filled) % 2];
    const uv_buf_t buf =
        uv_buf_init(chunk.buffer, static_cast<unsigned>(std::min<std::uint64_t>(
                                      options_.chunk, job.size - slot.read_offset)));
    Request& r = slot.source_request;
    submitted(r,
              uv_fs_read(&loop_, &r.fs, slot.source, &buf, 1,
                         static_cast<std::int64_t>(slot.read_offset), on_done),
              "read", job.source);
  }

  void submit_write(Slot& slot) {
    const Chunk& chunk = slot.chunks[slot.head];
    const uv_buf_t buf = uv_buf_init(chunk.buffer + chunk.written, chunk.length - chunk.written);
    Request& r = slot.destination_request;
    submitted(r,
              uv_fs_write(&loop_, &r.fs, slot.destination, &buf, 1,
                          static_cast<std::int64_t>(chunk.offset + chunk.written), on_done),
              "write", jobs_[slot.job].destination);
  }

  // One piece of the file, from `copied` in the source to the destination's file offset
  // (libuv passes no destination offset to copy_file_range), which equals `copied` here. The
  // source's own file offset is set to `copied` too: when copy_file_range and sendfile fail,
  // libuv's emulation reads with pread at `copied`, but falls back to read(), at the source's
  // file offset, when pread fails with EIO; that read must start at the same byte.
  void submit_sendfile(Slot& slot) {
    const CopyJob& job = jobs_[slot.job];
    (void)sys::set_file_offset(slot.source, slot.copied);
    const auto length =
        static_cast<std::size_t>(std::min<std::uint64_t>(kSendfileStep, job.size - slot.copied));
    Request& r = slot.destination_request;
    submitted(r,
              uv_fs_sendfile(&loop_, &r.fs, slot.destination, slot.source,
                             static_cast<std::int64_t>(slot.copied), length, on_done),
              "sendfile", job.source);
  }

  void submit_sync(Slot& slot) {
    Request& r = slot.destination_request;
    submitted(r, uv_fs_fdatasync(&loop_, &r.fs, slot.destination, on_done), "fdatasync",
              jobs_[slot.job].destination);
  }

  // Closes one end. The descriptor is forgotten at once, so no path closes it twice; when
  // libuv refuses the request, the descriptor is closed here, blocking.
  void submit_close(Request& request) {
    Slot& slot = *request.slot;
    const CopyJob& job = jobs_[slot.job];
    const uv_file closing = std::exchange(request.source_side ? slot.source : slot.destination, -1);
    const std::string& path = request.source_side ? job.source : job.destination;
    const int rc = uv_fs_close(&loop_, &request.fs, closing, on_done);
    submitted(request, rc, "close", path);
    if (rc < 0) (void)sys::close(closing);
  }

  // Records the first error of a file; later ones are consequences of it.
  static void fail(Slot& slot, long res, const char* what, const std::string& path) {
    if (!slot.error)
      slot.error = Error::from_errno(static_cast<int>(-res), fmt::format("{} {}", what, path));
  }

  static sys::Op op_of(const Request& request) {
    switch (request.fs.fs_type) {
      case UV_FS_OPEN:
        return request.source_side ? sys::Op::open_source : sys::Op::create_destination;
      case UV_FS_READ:
        return sys::Op::read;
      case UV_FS_WRITE:
        return sys::Op::write;
      case UV_FS_FDATASYNC:
        return sys::Op::sync;
      case UV_FS_SENDFILE:
        return sys::Op::copy_range;
      default:
        return sys::Op::close;
    }
  }

  void complete(Request& request) {
    Slot& slot = *request.slot;
    const uv_fs_type type = request.fs.fs_type;
    const long moved = static_cast<long>(request.fs.result);
    const long res = sys::filter_result(op_of(request), moved);
    // What the kernel really moved advances the destination's offset, whatever the seam says.
    if (type == UV_FS_SENDFILE && moved > 0) slot.position += static_cast<std::uint64_t>(moved);
    uv_fs_req_cleanup(&request.fs);
    request.busy = false;
    const bool again = res == -EAGAIN || res == -EINTR;
    const CopyJob& job = jobs_[slot.job];
    switch (type) {
      case UV_FS_OPEN:
        if (again) {
          submit_open(request);
        } else if (res < 0) {
          fail(slot, res, request.source_side ? "open" : "create",
               request.source_side ? job.source : job.destination);
        } else {
          (request.source_side ? slot.source : slot.destination) = static_cast<uv_file>(res);
        }
        if (!slot.error && cancelled()) fail(slot, -ECANCELED, "copy", job.source);
        break;
      case UV_FS_READ:
        if (again) {
          submit_read(slot);
        } else if (res < 0) {
          fail(slot, res, "read", job.source);
        } else if (res == 0) {
          if (!slot.error) slot.error = source_ended_early(job, slot.read_offset);
        } else {
          Chunk& chunk = slot.chunks[(slot.head + slot.filled) % 2];
          chunk.offset = slot.read_offset;
          chunk.length = static_cast<std::uint32_t>(res);
          chunk.written = 0;
          ++slot.filled;
          slot.read_offset += static_cast<std::uint64_t>(res);
        }
        break;
      case UV_FS_WRITE:
        if (again) {
          submit_write(slot);
        } else if (res <= 0) {
          fail(slot, res == 0 ? -EIO : res, "write", job.destination);
        } else {
          Chunk& chunk = slot.chunks[slot.head];
          chunk.written += static_cast<std::uint32_t>(res);
          if (chunk.written < chunk.length) break;  // a short write: the rest goes next
          slot.copied += chunk.length;
          slot.head = (slot.head + 1) % 2;
          --slot.filled;
          if (slot.copied < job.size && cancelled()) fail(slot, -ECANCELED, "copy", job.source);
        }
        break;
      case UV_FS_SENDFILE:
        complete_sendfile(slot, res, again);
        break;
      case UV_FS_FDATASYNC:
        if (again) {
          submit_sync(slot);
        } else if (res < 0) {
          fail(slot, res, "fdatasync", job.destination);
        }
        break;
      default:
        // A close is never retried: on Linux the descriptor is gone whatever the result.
        if (res < 0) fail(slot, res, "close", request.source_side ? job.source : job.destination);
        break;
    }
    advance(slot);
  }

  // Hands a file to the read/write path from the first byte not yet sent.
  static void to_read_write(Slot& slot) {
    slot.kernel = false;
    slot.read_offset = slot.copied;
  }

  // A piece of the file sent, or why not. -EINTR and -EAGAIN go round again through advance().
  // A refusal (the file system cannot, or the kernel lacks the call) turns the rest of the
  // run to read/write; 0 before the planned size hands the file to read/write, which confirms
  // the end of the source and reports it as the read path does, or finds the data a file system
  // would not splice.
  void complete_sendfile(Slot& slot, long res, bool again) {
    const CopyJob& job = jobs_[slot.job];
    if (again) return;
    if (means_unsupported(res)) {
      if (refused_ == 0) refused_ = static_cast<int>(-res);
      kernel_copy_ = false;
      to_read_write(slot);
    } else if (res < 0) {
      if (!slot.error)
        slot.error = Error::from_errno(
            static_cast<int>(-res), fmt::format("sendfile {} to {}", job.source, job.destination));
    } else if (res == 0) {
      to_read_write(slot);
    } else {
      slot.copied += static_cast<std::uint64_t>(res);
      if (slot.copied < job.size && cancelled()) fail(slot, -ECANCELED, "copy", job.source);
    }
  }

  // Starts whatever the file can do next, given what is idle: the next write, the next read
  // into a free buffer, the source's close after its last read, then fdatasync and the
  // destination's close. After an error, waits for what is in flight and closes both ends.
  void advance(Slot& slot) {
    const CopyJob& job = jobs_[slot.job];
    Request& reader = slot.source_request;
    Request& writer = slot.destination_request;
    if (slot.error) {
      if (!reader.busy && slot.source >= 0) submit_close(reader);
      if (!writer.busy && slot.destination >= 0) submit_close(writer);
    } else if (slot.kernel) {
      if (!advance_kernel(slot)) return advance(slot);
    } else {
      // An end whose descriptor is -1 and whose request is idle is not open yet or closed
      // already; the other end goes on meanwhile (a read may start before the create ends).
      if (!writer.busy && slot.destination >= 0 && slot.filled > 0) submit_write(slot);
      if (!reader.busy && slot.source >= 0) {
        if (slot.read_offset < job.size) {
          if (slot.filled < 2) submit_read(slot);
        } else {
          submit_close(reader);  // the last chunk is read: the source can go
        }
      }
      if (!writer.busy && slot.destination >= 0 && slot.copied >= job.size) {
        if (options_.fsync && !slot.data_done) {
          slot.data_done = true;
          submit_sync(slot);
        } else {
          submit_close(writer);
        }
      }
      // A request libuv refused at once set an error: close what is idle now.
      if (slot.error) return advance(slot);
    }
    if (slot.idle() && slot.source < 0 && slot.destination < 0) retire(slot);
  }

  // The sendfile path: once both ends are open, pieces until the planned size is sent, then
  // the source's close alongside the destination's fdatasync or close. A file whose
  // destination offset is not where the next piece starts (the seam reported less than the
  // kernel moved, or turned a completed piece into -EINTR), or whose run stopped using
  // sendfile, goes on with read/write, which names its offsets. Returns false when the file
  // needs another pass of advance(): it failed, or turned to read/write.
  bool advance_kernel(Slot& slot) {
    const CopyJob& job = jobs_[slot.job];
    Request& reader = slot.source_request;
    Request& writer = slot.destination_request;
    if (reader.busy || writer.busy) return true;
    if (slot.copied < job.size) {
      if (slot.source < 0 || slot.destination < 0) return true;
      if (!kernel_copy_ || slot.position != slot.copied) {
        to_read_write(slot);
        return false;
      }
      submit_sendfile(slot);
    } else {
      if (slot.source >= 0) submit_close(reader);
      if (slot.destination >= 0) {
        if (options_.fsync && !slot.data_done) {
          slot.data_done = true;
          submit_sync(slot);
        } else {
          submit_close(writer);
        }
      }
    }
    // A request libuv refused at once set an error: close what is idle now.
    return !slot.error;
  }

  void retire(Slot& slot) {
    FileOutcome& outcome = report_.files[slot.job];
    outcome.bytes = slot.copied;
    outcome.error = std::move(slot.error);
    outcome.latency_ns = now_ns() - slot.started_ns;
    free_.push_back(&slot);
    fill();
  }

  std::span<const CopyJob> jobs_;
  const EngineOptions& options_;
  CopyReport& report_;
  uv_loop_t loop_{};
  bool loop_ready_ = false;
  char* buffers_ = nullptr;
  std::size_t slot_count_ = 0;
  std::unique_ptr<Slot[]> slots_;
  std::vector<Slot*> free_;
  std::size_t next_job_ = 0;
  bool filling_ = false;
  bool kernel_copy_ = false;  // new files copy with uv_fs_sendfile
  int refused_ = 0;           // the errno with which the kernel refused it in this run
};

class UvEngine final : public Engine {
 public:
  std::string_view name() const override { return "uv"; }

  std::string describe(const EngineOptions& options, std::size_t file_count) const override {
    const std::size_t inflight =
        std::max<std::size_t>(1, std::min<std::size_t>(options.inflight, file_count));
    const unsigned pool = pool_in_use(options);
    return fmt::format("libuv event loop, {}-thread pool, {} file{} in flight, {}", pool, inflight,
                       inflight == 1 ? "" : "s",
                       options.kernel_copy == KernelCopy::off ? "uv_fs_read and uv_fs_write"
                                                              : "uv_fs_sendfile (copy_file_range)");
  }

  CopyReport copy(std::span<const CopyJob> jobs, const EngineOptions& options) override {
    CopyReport report = empty_report(jobs.size());
    const unsigned pool = start_pool(options);
    if (options.pool != 0 && options.pool != pool)
      report.notes.push_back(
          fmt::format("libuv's thread pool already runs {} threads in this process (libuv reads "
                      "UV_THREADPOOL_SIZE once): -pool {} could not change it",
                      pool, options.pool));
    if (jobs.empty()) return report;
    Loop loop(jobs, options, report);
    if (Error e = loop.setup()) {
      report.engine_error = std::move(e);
      fail_unattempted(report, jobs);
      return report;
    }
    loop.run();
    loop.add_notes();
    finish_report(report, options.cancel);
    return report;
  }
};

}  // namespace

std::unique_ptr<Engine> make_uv_engine() { return std::make_unique<UvEngine>(); }

}  // namespace ccopy::engines
