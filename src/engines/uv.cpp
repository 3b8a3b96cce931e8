// The original's "xev" design: one event loop dispatches the I/O, libuv's thread pool runs
// the blocking file operations, and their completions come back to the loop as callbacks. At
// most `inflight` files are in progress, each with two buffers from a pool sized by
// `inflight`, not by the number of files. The loop thread walks (reads directories, creates
// what they hold) when it has room for more files and none is queued, and runs the copy path's
// steps that are not transfers (the plan, the metadata, the commit) between callbacks.
//
// libuv has no *at calls, so a file is named through its directory's descriptor:
// "/proc/self/fd/DIR/NAME", which resolves however deep the directory is.
//
// Per file: the source's open and its lstat go to the pool together; once the context has
// planned the file, the destination's create. Then, by default (-kernel-copy on, and auto), the
// bytes move inside the kernel: uv_fs_sendfile requests of up to 16 MiB (libuv 1.44 on Linux
// runs one copy_file_range per request, else sendfile, else its own read/write loop), and when
// the last one is done the source's close and the destination's close (or fdatasync, then
// close) go to the pool together. With -kernel-copy off, the original's path: the next 64 KiB
// chunk is read while the last one is written (two buffers per file), and the source is closed
// alongside the last write. A read/write pair per chunk is two hand-offs to the pool and back;
// measured on tmpfs, that made the engine 0.3x to 0.7x of copy_file_range on threads from
// 256 KiB files up, where uv_fs_sendfile matches it (docs/engines.md). A sparse file (several
// extents), Sparse::always and Reflink::never (copy_file_range would clone on xfs and btrfs)
// take the read/write path, which names its offsets.
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
#include <time.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <pthread.h>
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
// How many of `wanted` threads the system lets this process start now: libuv aborts the whole
// process when it cannot start its pool (uv_thread_create failing in init_threads), so the pool
// is sized, before its first use, to what can start. Each probe thread exits at once.
//
// pthread_join returns once a thread has left, but the kernel counts it against RLIMIT_NPROC
// until it is released a moment later: libuv starting its pool at once could still be refused,
// and abort. So this returns only once the process's thread count (/proc/self/status, which
// the kernel lowers after the limit's count) is back where it was, or after about a second.
unsigned startable_threads(unsigned wanted) {
  const long before = sys::thread_count();
  std::vector<pthread_t> started;
  started.reserve(wanted);
  for (unsigned i = 0; i < wanted; ++i) {
    pthread_t id;
    if (::pthread_create(&id, nullptr, [](void*) -> void* { return nullptr; }, nullptr) != 0) break;
    started.push_back(id);
  }
  for (pthread_t id : started) ::pthread_join(id, nullptr);
  if (before > 0 && !started.empty()) {
    const struct ::timespec pause {0, 1000000};  // 1 ms
    for (int i = 0; i < 1000 && sys::thread_count() > before; ++i) ::nanosleep(&pause, nullptr);
  }
  return static_cast<unsigned>(started.size());
}

// Returns the size in use, or 0 when not one pool thread can start (the engine cannot run).
unsigned start_pool(const EngineOptions& options, std::string& note) {
  const std::lock_guard lock(g_pool_mutex);
  if (const unsigned started = g_pool_started.load(); started != 0) return started;
  const unsigned wanted = pool_size_for(options);
  const unsigned size = startable_threads(wanted);
  if (size == 0) return 0;
  if (size < wanted)
    note = fmt::format("the system lets only {} of libuv's {} pool threads start: the pool has {}",
                       size, wanted, size);
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
// close the source) and the destination side (lstat the source, then create, write,
// fdatasync, close the destination), so that the open and the lstat, a read and the previous
// chunk's write, and the last write and the source's close, run side by side.
struct Request {
  uv_fs_t fs{};
  Slot* slot = nullptr;
  bool source_side = false;
  bool busy = false;
  bool stat = false;  // the destination side's request is the source's lstat
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
  copy::FileJob job;
  copy::FilePlan plan;
  copy::FileOutcome outcome;
  struct ::stat source_stat {};
  std::string source_path, destination_path;  // /proc/self/fd/DIR/NAME
  int open_flags = 0;
  uv_file source = -1;
  uv_file destination = -1;
  std::size_t read_extent = 0;    // the extent the next read is in
  std::uint64_t read_offset = 0;  // the next byte to read
  std::uint64_t copied = 0;       // bytes whose chunk is fully written, or sent
  std::uint64_t position = 0;     // the destination's file offset, where a sendfile writes
  bool planned = false;           // the context has planned the file
  bool kernel = false;            // this file copies with uv_fs_sendfile (else read/write)
  bool data_done = false;         // every byte written: fdatasync and close remain
  bool finished = false;          // the context's finish() has run

  [[nodiscard]] bool idle() const { return !source_request.busy && !destination_request.busy; }
};

bool means_unsupported(long rc) {
  return rc == -EXDEV || rc == -ENOSYS || rc == -EINVAL || rc == -EOPNOTSUPP;
}

std::string proc_path(int dir, const std::string& name) {
  return fmt::format("/proc/self/fd/{}/{}", dir, name);
}

struct ::stat stat_of(const uv_stat_t& s) {
  struct ::stat st {};
  st.st_dev = static_cast<dev_t>(s.st_dev);
  st.st_ino = static_cast<ino_t>(s.st_ino);
  st.st_mode = static_cast<mode_t>(s.st_mode);
  st.st_nlink = static_cast<nlink_t>(s.st_nlink);
  st.st_uid = static_cast<uid_t>(s.st_uid);
  st.st_gid = static_cast<gid_t>(s.st_gid);
  st.st_rdev = static_cast<dev_t>(s.st_rdev);
  st.st_size = static_cast<off_t>(s.st_size);
  st.st_blksize = static_cast<blksize_t>(s.st_blksize);
  st.st_blocks = static_cast<blkcnt_t>(s.st_blocks);
  st.st_atim = {s.st_atim.tv_sec, s.st_atim.tv_nsec};
  st.st_mtim = {s.st_mtim.tv_sec, s.st_mtim.tv_nsec};
  st.st_ctim = {s.st_ctim.tv_sec, s.st_ctim.tv_nsec};
  return st;
}

class Loop {
 public:
  Loop(copy::FileSource& files, copy::FileContext& context, const EngineOptions& options)
      : files_(files), context_(context), options_(options) {}

  ~Loop() {
    if (loop_ready_) (void)uv_loop_close(&loop_);
    std::free(buffers_);
  }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  Error setup() {
    kernel_copy_ = options_.kernel_copy != KernelCopy::off;
    slot_count_ = std::max<std::size_t>(1, options_.inflight);
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
    for (;;) {
      fill(active_ == 0);
      if (active_ == 0) {
        if (finished_ || context_.stopping()) return;
        continue;
      }
      // Returns when no request is left, or after one round when files may be waiting.
      (void)uv_run(&loop_, more_waiting() ? UV_RUN_NOWAIT : UV_RUN_ONCE);
    }
  }

  // Says so when the kernel refused uv_fs_sendfile and the run went on with read/write.
  void add_notes() const {
    if (refused_ != 0)
      context_.note(fmt::format(
          "uv_fs_sendfile refused ({}): fell back to read/write for the rest of the run",
          sys::error_text(refused_)));
  }

 private:
  bool cancelled() const { return context_.stopping(); }

  // Whether files could be started now: a free slot and a walk not yet finished.
  bool more_waiting() const { return !free_.empty() && !finished_ && files_.ready() > 0; }

  // Starts files while slots are free. A file can finish during its own start (when libuv
  // refuses a request at once), so a call made while filling leaves the work to the outer one.
  // `wait`: block for the next file (nothing is in flight).
  void fill(bool wait = false) {
    if (filling_) return;
    filling_ = true;
    while (!free_.empty() && !finished_ && !cancelled()) {
      copy::FileJob job;
      const auto pull = files_.next(job, wait && active_ == 0);
      if (pull == copy::FileSource::Pull::finished) {
        finished_ = true;
        break;
      }
      if (pull != copy::FileSource::Pull::job) break;
      Slot* slot = free_.back();
      free_.pop_back();
      start(*slot, std::move(job));
    }
    filling_ = false;
  }

  void start(Slot& slot, copy::FileJob job) {
    ++active_;
    slot.job = std::move(job);
    slot.plan = copy::FilePlan{};
    slot.outcome = copy::FileOutcome{};
    slot.plan.started_ns = now_ns();
    slot.source = slot.destination = -1;
    slot.head = slot.filled = 0;
    slot.read_extent = 0;
    slot.read_offset = slot.copied = slot.position = 0;
    slot.planned = slot.kernel = slot.data_done = slot.finished = false;
    slot.open_flags = context_.source_flags(slot.job);
    slot.source_path = proc_path(slot.job.source_dir(), slot.job.name);
    submit_open(slot.source_request);
    submit_stat(slot.destination_request);
    if (slot.idle()) retire(slot);  // libuv refused both
  }

  static void on_done(uv_fs_t* fs) {
    auto* request = static_cast<Request*>(fs->data);
    static_cast<Loop*>(fs->loop->data)->complete(*request);
  }

  // Counts a submitted request as busy. One libuv refused at once (it could not allocate)
  // fails its file as a failed completion would.
  void submitted(Request& request, int rc, const char* what) {
    if (rc >= 0) {
      request.busy = true;
      return;
    }
    uv_fs_req_cleanup(&request.fs);
    fail(*request.slot, rc, what, !request.source_side && !request.stat);
  }

  void submit_open(Request& request) {
    Slot& slot = *request.slot;
    if (request.source_side) {
      submitted(request,
                uv_fs_open(&loop_, &request.fs, slot.source_path.c_str(), slot.open_flags, 0, on_done),
                "open");
    } else {
      const copy::FilePlan& plan = slot.plan;
      slot.destination_path = proc_path(plan.create_dir, plan.create_name);
      submitted(request,
                uv_fs_open(&loop_, &request.fs, slot.destination_path.c_str(), plan.create_flags,
                           static_cast<int>(plan.create_mode), on_done),
                "create");
    }
  }

  void submit_stat(Request& request) {
    Slot& slot = *request.slot;
    request.stat = true;
    const int rc = slot.job.follow
                       ? uv_fs_stat(&loop_, &request.fs, slot.source_path.c_str(), on_done)
                       : uv_fs_lstat(&loop_, &request.fs, slot.source_path.c_str(), on_done);
    submitted(request, rc, "stat");
    if (!request.busy) request.stat = false;
  }

  // The extent holding the next byte to read, past any the reads have finished.
  const copy::Extent* read_extent(Slot& slot) {
    while (slot.read_extent < slot.plan.extents.size()) {
      const copy::Extent& e = slot.plan.extents[slot.read_extent];
      if (slot.read_offset < e.offset) slot.read_offset = e.offset;
      if (slot.read_offset < e.offset + e.length) return &e;
      ++slot.read_extent;
    }
    return nullptr;
  }

  void submit_read(Slot& slot) {
    const copy::Extent* extent = read_extent(slot);
    Chunk& chunk = slot.chunks[(slot.head + slot.filled) % 2];
    chunk.offset = slot.read_offset;
    const uv_buf_t buf = uv_buf_init(
        chunk.buffer, static_cast<unsigned>(std::min<std::uint64_t>(
                          options_.chunk, extent->offset + extent->length - slot.read_offset)));
    Request& r = slot.source_request;
    submitted(r,
              uv_fs_read(&loop_, &r.fs, slot.source, &buf, 1,
                         static_cast<std::int64_t>(slot.read_offset), on_done),
              "read");
  }

  void submit_write(Slot& slot) {
    const Chunk& chunk = slot.chunks[slot.head];
    const uv_buf_t buf = uv_buf_init(chunk.buffer + chunk.written, chunk.length - chunk.written);
    Request& r = slot.destination_request;
    submitted(r,
              uv_fs_write(&loop_, &r.fs, slot.destination, &buf, 1,
                          static_cast<std::int64_t>(chunk.offset + chunk.written), on_done),
              "write");
  }

  // One piece of a dense file, from `copied` in the source to the destination's file offset
  // (libuv passes no destination offset to copy_file_range), which equals `copied` here. The
  // source's own file offset is set to `copied` too: when copy_file_range and sendfile fail,
  // libuv's emulation reads with pread at `copied`, but falls back to read(), at the source's
  // file offset, when pread fails with EIO; that read must start at the same byte.
  void submit_sendfile(Slot& slot) {
    (void)sys::set_file_offset(slot.source, slot.copied);
    const auto length = static_cast<std::size_t>(
        std::min<std::uint64_t>(kSendfileStep, slot.plan.size - slot.copied));
    Request& r = slot.destination_request;
    submitted(r,
              uv_fs_sendfile(&loop_, &r.fs, slot.destination, slot.source,
                             static_cast<std::int64_t>(slot.copied), length, on_done),
              "sendfile");
  }

  void submit_sync(Slot& slot) {
    Request& r = slot.destination_request;
    submitted(r, uv_fs_fdatasync(&loop_, &r.fs, slot.destination, on_done), "fdatasync");
  }

  // Closes one end. The descriptor is forgotten at once, so no path closes it twice; when
  // libuv refuses the request, the descriptor is closed here, blocking.
  void submit_close(Request& request) {
    Slot& slot = *request.slot;
    const uv_file closing = std::exchange(request.source_side ? slot.source : slot.destination, -1);
    const int rc = uv_fs_close(&loop_, &request.fs, closing, on_done);
    submitted(request, rc, "close");
    if (rc < 0) (void)sys::close(closing);
  }

  // Records the first failure of a file; later ones are consequences of it.
  void fail(Slot& slot, long res, const char* what, bool destination) const {
    if (res == -ECANCELED && cancelled()) {
      if (slot.outcome.ok()) slot.outcome.cancelled = true;
      return;
    }
    slot.outcome.fail(what, static_cast<int>(-res), destination);
  }

  void cancel(Slot& slot) const {
    if (slot.outcome.ok()) slot.outcome.cancelled = true;
  }

  static sys::Op op_of(const Request& request) {
    if (request.stat) return sys::Op::stat;
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
    const bool was_stat = request.stat;
    if (was_stat && res == 0) slot.source_stat = stat_of(request.fs.statbuf);
    uv_fs_req_cleanup(&request.fs);
    request.busy = false;
    request.stat = false;
    const bool again = res == -EAGAIN || res == -EINTR;
    if (was_stat) {
      if (again) submit_stat(request);
      else if (res < 0) fail(slot, res, "stat", false);
      return advance(slot);
    }
    switch (type) {
      case UV_FS_OPEN:
        if (again) {
          submit_open(request);
        } else if (request.source_side) {
          if (res < 0 && context_.retry_without_noatime(slot.open_flags, static_cast<int>(-res))) {
            slot.open_flags &= ~O_NOATIME;
            submit_open(request);
          } else if (res < 0) {
            fail(slot, res, "open", false);
          } else {
            slot.source = static_cast<uv_file>(res);
          }
        } else if (context_.created(slot.plan, res, slot.outcome)) {
          slot.destination = static_cast<uv_file>(res);
          created(slot);
        }
        if (slot.outcome.ok() && cancelled()) cancel(slot);
        break;
      case UV_FS_READ:
        read_done(slot, res, again);
        break;
      case UV_FS_WRITE:
        write_done(slot, res, again);
        break;
      case UV_FS_SENDFILE:
        complete_sendfile(slot, res, again);
        break;
      case UV_FS_FDATASYNC:
        if (again) submit_sync(slot);
        else if (res < 0) fail(slot, res, "fdatasync", true);
        break;
      default:
        // A close is never retried: on Linux the descriptor is gone whatever the result.
        if (res < 0) fail(slot, res, "close", !request.source_side);
        break;
    }
    advance(slot);
  }

  void read_done(Slot& slot, long res, bool again) {
    if (again) return submit_read(slot);
    if (res < 0) return fail(slot, res, "read", false);
    if (res == 0) {
      if (slot.outcome.ok()) source_ended_early(slot.outcome, slot.read_offset, slot.plan.size);
      return;
    }
    Chunk& chunk = slot.chunks[(slot.head + slot.filled) % 2];
    chunk.length = static_cast<std::uint32_t>(res);
    chunk.written = 0;
    slot.read_offset += static_cast<std::uint64_t>(res);
    if (slot.plan.zero_blocks_to_holes &&
        copy::FileContext::all_zero({chunk.buffer, chunk.length})) {
      // A block of zeros stays a hole: counted as written without writing it.
      slot.copied += chunk.length;
      slot.outcome.bytes += chunk.length;
      return;
    }
    ++slot.filled;
  }

  void write_done(Slot& slot, long res, bool again) {
    if (again) return submit_write(slot);
    if (res <= 0) {
      if (res == 0) slot.outcome.fail("write", "the destination took no bytes", true);
      else fail(slot, res, "write", true);
      return;
    }
    Chunk& chunk = slot.chunks[slot.head];
    chunk.written += static_cast<std::uint32_t>(res);
    if (chunk.written < chunk.length) return;  // a short write: the rest goes next
    slot.copied += chunk.length;
    slot.outcome.bytes += chunk.length;
    context_.bytes_moved(chunk.length);
    slot.head = (slot.head + 1) % 2;
    --slot.filled;
    if (slot.copied < slot.plan.data_bytes && cancelled()) cancel(slot);
  }

  // The source is open and stat'ed: the context plans the file, and the destination is created.
  void planned(Slot& slot) {
    slot.planned = true;
    context_.plan(slot.job, slot.source, slot.source_stat, slot.plan, slot.outcome);
    if (!slot.outcome.ok() || slot.plan.action != copy::FilePlan::Action::copy) return;
    submit_open(slot.destination_request);
  }

  // The destination exists: a clone, or the bytes by sendfile or read/write.
  void created(Slot& slot) {
    if (context_.reflink(slot.source, slot.destination, slot.plan, slot.outcome)) {
      slot.copied = slot.plan.data_bytes;
      slot.read_extent = slot.plan.extents.size();
      return;
    }
    const bool dense = slot.plan.extents.size() == 1 && slot.plan.extents[0].offset == 0 &&
                       slot.plan.extents[0].length == slot.plan.size;
    // uv_fs_sendfile is copy_file_range first, which clones where the file system can: not for
    // a copy that must not share extents (Reflink::never).
    slot.kernel = kernel_copy_ && dense && !slot.plan.zero_blocks_to_holes &&
                  slot.plan.may_share_extents;
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
    if (again) return;
    if (means_unsupported(res)) {
      if (refused_ == 0) refused_ = static_cast<int>(-res);
      kernel_copy_ = false;
      to_read_write(slot);
    } else if (res < 0) {
      fail(slot, res, "sendfile", true);
    } else if (res == 0) {
      to_read_write(slot);
    } else {
      slot.copied += static_cast<std::uint64_t>(res);
      slot.outcome.bytes += static_cast<std::uint64_t>(res);
      context_.bytes_moved(static_cast<std::uint64_t>(res));
      if (slot.copied < slot.plan.size && cancelled()) cancel(slot);
    }
  }

  // Starts whatever the file can do next, given what is idle: the plan once the source is open
  // and stat'ed, the next write, the next read into a free buffer, the source's close after its
  // last read, then fdatasync, the context's finish and the destination's close. After a
  // failure (or a decision that nothing is to be copied), waits for what is in flight and
  // closes both ends.
  void advance(Slot& slot) {
    Request& reader = slot.source_request;
    Request& writer = slot.destination_request;
    if (!slot.planned) {
      if (!slot.idle()) return;
      if (slot.outcome.ok() && slot.source >= 0) planned(slot);
      if (!slot.outcome.ok() || slot.plan.action != copy::FilePlan::Action::copy) {
        slot.planned = true;
        return advance(slot);
      }
    } else if (!slot.outcome.ok() || slot.plan.action != copy::FilePlan::Action::copy) {
      if (!reader.busy && slot.source >= 0) submit_close(reader);
      if (!writer.busy && slot.destination >= 0) submit_close(writer);
    } else if (slot.destination < 0) {
      // The create is on its way.
    } else if (slot.kernel) {
      if (!advance_kernel(slot)) return advance(slot);
    } else if (!advance_read_write(slot)) {
      return advance(slot);
    }
    if (slot.idle() && slot.source < 0 && slot.destination < 0) retire(slot);
  }

  // The read/write path: false when the file needs another pass of advance() (it failed).
  bool advance_read_write(Slot& slot) {
    Request& reader = slot.source_request;
    Request& writer = slot.destination_request;
    if (!writer.busy && slot.filled > 0) submit_write(slot);
    if (!reader.busy && slot.source >= 0) {
      if (read_extent(slot) != nullptr) {
        if (slot.filled < 2) submit_read(slot);
      } else if (slot.copied >= slot.plan.data_bytes || slot.filled == 0) {
        // Every byte is read: the source can go, once the context has finished with it.
        if (slot.copied >= slot.plan.data_bytes) finish_once(slot);
        if (slot.finished || !slot.outcome.ok()) submit_close(reader);
      }
    }
    if (!writer.busy && slot.destination >= 0 && slot.copied >= slot.plan.data_bytes)
      finish_destination(slot);
    return slot.outcome.ok();
  }

  // The sendfile path: once both ends are open, pieces until the planned size is sent, then
  // the context's finish and the closes. A file whose destination offset is not where the next
  // piece starts (the seam reported less than the kernel moved, or turned a completed piece into
  // -EINTR), or whose run stopped using sendfile, goes on with read/write, which names its
  // offsets. Returns false when the file needs another pass of advance().
  bool advance_kernel(Slot& slot) {
    Request& reader = slot.source_request;
    Request& writer = slot.destination_request;
    if (reader.busy || writer.busy) return true;
    if (slot.copied < slot.plan.size) {
      if (!kernel_copy_ || slot.position != slot.copied) {
        to_read_write(slot);
        return false;
      }
      submit_sendfile(slot);
    } else {
      finish_destination(slot);
      if (slot.finished && slot.source >= 0) submit_close(reader);
    }
    return slot.outcome.ok();
  }

  // fdatasync (once), then the context's finish, then the destination's close.
  void finish_destination(Slot& slot) {
    if (options_.fsync && !slot.data_done) {
      slot.data_done = true;
      return submit_sync(slot);
    }
    finish_once(slot);
    if (slot.finished && slot.destination >= 0) submit_close(slot.destination_request);
  }

  // The context's finish() needs both descriptors: it runs once, before either is closed.
  void finish_once(Slot& slot) {
    if (slot.finished || slot.destination_request.busy || slot.source < 0 || slot.destination < 0)
      return;
    if (options_.fsync && !slot.data_done) return;
    slot.finished = true;
    context_.finish(slot.job, slot.plan, slot.source, slot.destination, slot.outcome);
  }

  void retire(Slot& slot) {
    context_.done(slot.job, slot.plan, slot.outcome);
    slot.job = copy::FileJob{};
    --active_;
    free_.push_back(&slot);
    fill();
  }

  copy::FileSource& files_;
  copy::FileContext& context_;
  const EngineOptions& options_;
  uv_loop_t loop_{};
  bool loop_ready_ = false;
  char* buffers_ = nullptr;
  std::size_t slot_count_ = 0;
  std::unique_ptr<Slot[]> slots_;
  std::vector<Slot*> free_;
  std::size_t active_ = 0;
  bool filling_ = false;
  bool finished_ = false;     // the source has no more files
  bool kernel_copy_ = false;  // new files copy with uv_fs_sendfile
  int refused_ = 0;           // the errno with which the kernel refused it in this run
};

class UvEngine final : public Engine {
 public:
  std::string_view name() const override { return "uv"; }

  std::string describe(const EngineOptions& options, std::size_t) const override {
    const std::size_t inflight = std::max<std::size_t>(1, options.inflight);
    const unsigned pool = pool_in_use(options);
    return fmt::format("libuv event loop, {}-thread pool, {} file{} in flight, {}", pool, inflight,
                       inflight == 1 ? "" : "s",
                       options.kernel_copy == KernelCopy::off ? "uv_fs_read and uv_fs_write"
                                                              : "uv_fs_sendfile (copy_file_range)");
  }

 private:
  void run(copy::FileSource& files, copy::FileContext& context,
           const EngineOptions& options) override {
    std::string refused;
    const unsigned pool = start_pool(options, refused);
    if (pool == 0)
      return context.fatal(Error::from_errno(EAGAIN, "start libuv's thread pool"));
    if (!refused.empty()) context.note(refused);
    if (options.pool != 0 && options.pool != pool)
      context.note(
          fmt::format("libuv's thread pool already runs {} threads in this process (libuv reads "
                      "UV_THREADPOOL_SIZE once): -pool {} could not change it",
                      pool, options.pool));
    Loop loop(files, context, options);
    if (Error e = loop.setup()) return context.fatal(std::move(e));
    loop.run();
    loop.add_notes();
  }
};

}  // namespace

std::unique_ptr<Engine> make_uv_engine() { return std::make_unique<UvEngine>(); }

}  // namespace ccopy::engines
