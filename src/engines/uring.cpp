// The "xev" design: one thread runs one io_uring event loop, and every step of every file is
// a ring operation: open the source and statx it, create the destination, read, write,
// (fdatasync,) close both, each relative to the descriptors of the file's directories. With
// `loops > 1`, that many threads each run such a loop on their own ring, pulling files from the
// one walk. The loop thread itself walks (reads directories, creates what they hold) when it has
// room for more files and none is queued; the copy path's steps that are not transfers (the
// plan, the metadata, the commit) run on it between completions.
//
// A loop keeps at most `inflight` files in progress and a pool of `inflight` chunk buffers,
// sized by what is in flight, not by the number of files. Chunks are handed round-robin to
// the open files that still have bytes to read, up to kMaxChunksPerFile each, so the chunks of
// one large file are read and written at once when few files are in progress. A sparse file's
// chunks cover its data extents only; its holes stay holes.
//
// A chunk's read and write are submitted together, linked, so the kernel worker that did the
// read goes straight on to the write. That matters because, on this kernel, tmpfs cannot read or
// write without blocking and ext4 cannot write without blocking: such operations are handed to
// an io_uring kernel worker (io-wq) and every hand-off and completion costs a wake-up. A short
// read breaks the link (the kernel cancels the write) and the chunk goes on step by step.
// With Sparse::always the read goes alone, so that a chunk of zeros is not written.
//
// Short reads and writes resume with what remains; -EAGAIN, -EINTR and an operation io_uring
// cancelled before it ran (see kMaxRequeues) are resubmitted; and a full submission queue is
// flushed and retried, as liburing's examples/io_uring-cp.c does.
// Every completion's result passes through sys::filter_result, the fault seam.
//
// Operations are probed once (io_uring_get_probe): one the kernel lacks (STATX before 5.6,
// OPENAT or CLOSE before 5.6, SPLICE before 5.7) runs as a blocking call on the loop thread
// instead, its result delivered as a completion would be, with a note.
//
// Kernel copy (EngineOptions::kernel_copy): a chunk can instead move inside the kernel, as
// copy_file_range does: splice from the source into the chunk's own pipe, linked to a splice
// from the pipe into the destination. Splicing from the page cache only references its pages,
// so the bytes are copied once instead of twice and no buffer passes through the CPU cache;
// that is why a splice moves kSpliceChunks chunks at once (1 MiB by default, at most
// /proc/sys/fs/pipe-max-size). Each chunk slot owns one pipe, made the first time a chunk of that
// slot splices. `automatic` splices the files of kSpliceFrom bytes and more (docs/engines.md has
// the measurements), `on` every file, `off` none. A file system that refuses splice (EINVAL)
// makes the loops fall back to read/write for the rest of the run, with a note.
//
// A pipe is the one piece of state a repeated operation cannot rebuild: bytes taken from it are
// gone. The engine believes a chunk's pipe holds the source's bytes [written, filled) of the
// chunk; whenever a splice result is not exactly what was asked, it asks the pipe (FIONREAD)
// and, where the results and the pipe disagree (the fault seam shortened a result), believes
// the pipe when it knows where the pipe's bytes belong, and otherwise empties the pipe and
// splices again from the last byte known to be written. A pipe goes back to the pool empty.
#include <fcntl.h>
#include <fmt/format.h>
#include <liburing.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
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

// io_uring cancels the work it queued for its kernel workers (io-wq) when it cannot start one:
// when creating the worker thread is interrupted by a signal three times in a row, every
// operation waiting for it completes with -ECANCELED without having run (seen under a 1 ms
// signal storm). Such an operation is submitted again, up to this many times per file; the
// engine itself never cancels an operation, so any other -ECANCELED is the second half of a
// broken link (see settle_pair and splice_done).
constexpr unsigned kMaxRequeues = 64;

// One splice moves this many chunks' worth (16 x 64 KiB = 1 MiB by default): measured on tmpfs
// and ext4, a 1 MiB pipe copied large files 1.2x to 1.8x faster than a 64 KiB one
// (bench/uring_splice_probe.c). The pipe cannot be larger than /proc/sys/fs/pipe-max-size.
constexpr std::size_t kSpliceChunks = 16;

// With KernelCopy::automatic, files of this size and more are spliced, smaller ones read and
// written. Measured against -kernel-copy off (docs/engines.md): from 32 KiB up splice was
// faster on tmpfs and on ext4; at 16 KiB and 4 KiB it was level on tmpfs and as often slower
// as faster on ext4, where creating the file costs more than either way of copying it.
constexpr std::uint64_t kSpliceFrom = 32 * 1024;

// The pipe size asked for when /proc/sys/fs/pipe-max-size cannot be read (its default).
constexpr std::size_t kDefaultPipeMax = 1024 * 1024;

// Read, write and the splices name a chunk; every other step names a file slot.
enum class Step : std::uint8_t {
  open_source,
  stat_source,
  open_destination,
  read,
  write,
  sync,
  close_source,
  close_destination,
  splice_in,
  splice_out
};

constexpr unsigned kStepBits = 4;
constexpr std::uint64_t kStepMask = (1u << kStepBits) - 1;

std::uint64_t tag(std::size_t index, Step step) {
  return (static_cast<std::uint64_t>(index) << kStepBits) | static_cast<std::uint64_t>(step);
}

// Which ring operations this kernel has, probed once per process.
struct Ops {
  bool openat = true, statx = true, close = true, splice = true;
};

const Ops& supported_ops() {
  static const Ops ops = [] {
    Ops o;
    io_uring_probe* probe = io_uring_get_probe();
    if (probe == nullptr) return o;  // no probe (before 5.6): assume, and let the ring say
    o.openat = io_uring_opcode_supported(probe, IORING_OP_OPENAT) != 0;
    o.statx = io_uring_opcode_supported(probe, IORING_OP_STATX) != 0;
    o.close = io_uring_opcode_supported(probe, IORING_OP_CLOSE) != 0;
    o.splice = io_uring_opcode_supported(probe, IORING_OP_SPLICE) != 0;
    io_uring_free_probe(probe);
    return o;
  }();
  return ops;
}

struct ::stat stat_of(const struct ::statx& x) {
  struct ::stat st {};
  st.st_dev = makedev(x.stx_dev_major, x.stx_dev_minor);
  st.st_ino = x.stx_ino;
  st.st_mode = x.stx_mode;
  st.st_nlink = x.stx_nlink;
  st.st_uid = x.stx_uid;
  st.st_gid = x.stx_gid;
  st.st_rdev = makedev(x.stx_rdev_major, x.stx_rdev_minor);
  st.st_size = static_cast<off_t>(x.stx_size);
  st.st_blksize = static_cast<blksize_t>(x.stx_blksize);
  st.st_blocks = static_cast<blkcnt_t>(x.stx_blocks);
  st.st_atim = {x.stx_atime.tv_sec, x.stx_atime.tv_nsec};
  st.st_mtim = {x.stx_mtime.tv_sec, x.stx_mtime.tv_nsec};
  st.st_ctim = {x.stx_ctime.tv_sec, x.stx_ctime.tv_nsec};
  return st;
}

// The state of one file in progress.
struct FileSlot {
  copy::FileJob job;
  copy::FilePlan plan;
  copy::FileOutcome outcome;
  struct ::statx statx {};
  int open_flags = 0;
  int source = -1;
  int destination = -1;
  std::size_t extent = 0;           // the extent chunks are being given from
  std::uint64_t next_offset = 0;    // the first byte of it no chunk has been given yet
  std::uint64_t written = 0;        // bytes of chunks read and fully written
  unsigned pending = 0;             // file operations (open, statx, sync, close) in flight
  unsigned chunks = 0;              // chunks held; each has a read or a write in flight
  bool opened = false;              // both ends are open and the data may move
  bool queued = false;              // waiting in the loop's queue for a chunk
  bool busy = false;                // between start() and retire()
  bool splice = false;              // its chunks go through pipes when they can
  unsigned requeued = 0;            // operations submitted again after io-wq cancelled them
  int closing_source = -1;          // descriptors whose close is on its way (source, destination)
  int closing_destination = -1;
  std::uint64_t ended_at = kNever;  // where the source ended early, when the outcome says so
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
  // Splice path. `filled` counts the chunk's bytes that went into the pipe and `written` those
  // that came out into the destination, so the pipe holds [written, filled) of the chunk.
  bool splicing = false;       // this chunk's bytes go through its pipe, not its buffer
  std::uint32_t capacity = 0;  // bytes one splice may move through the chunk's pipe; 0: none
  bool pipe_tried = false;     // its pipe was made, or could not be
  std::uint32_t asked = 0;     // bytes the splice (or linked pair) in flight was asked to move
  // No splice-out since the pipe was last empty has reported less than it may have moved, so
  // `written` is exact and the pipe's bytes begin at the chunk's byte `written`.
  bool out_exact = true;
};

// What the loops of one copy share.
struct Shared {
  Shared(copy::FileSource& source, copy::FileContext& ctx, const EngineOptions& opts)
      : files(source), context(ctx), options(opts) {}

  copy::FileSource& files;
  copy::FileContext& context;
  const EngineOptions& options;
  std::mutex mutex;   // guards setup_error and loops_started
  Error setup_error;  // the first loop that could not start
  unsigned loops_started = 0;
  // The errno with which the file system refused a splice (EINVAL), or 0: once set, every loop
  // reads and writes for the rest of the run.
  std::atomic<int> splice_refused{0};

  void setup_failed(Error e) {
    std::lock_guard lock(mutex);
    if (!setup_error) setup_error = std::move(e);
  }
  void started() {
    std::lock_guard lock(mutex);
    ++loops_started;
  }
};

// Bytes one splice moves: kSpliceChunks chunks, at most the largest pipe the system allows.
std::size_t splice_length(const EngineOptions& options) {
  const long max = sys::pipe_max_size();
  const std::size_t cap = max > 0 ? static_cast<std::size_t>(max) : kDefaultPipeMax;
  return std::min(cap, options.chunk * kSpliceChunks);
}

// "1 MiB", "256 KiB", "65552 bytes": a size as describe() states it, exactly.
std::string exact_size(std::uint64_t bytes) {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
    return fmt::format("{} MiB", bytes / (1024 * 1024));
  if (bytes >= 1024 && bytes % 1024 == 0) return fmt::format("{} KiB", bytes / 1024);
  return fmt::format("{} byte{}", bytes, bytes == 1 ? "" : "s");
}

bool splices(const EngineOptions& options, std::uint64_t size) {
  switch (options.kernel_copy) {
    case KernelCopy::on:
      return true;
    case KernelCopy::automatic:
      return size >= kSpliceFrom;
    case KernelCopy::off:
      break;
  }
  return false;
}

// A completion the ring did not produce: the result of an operation the kernel lacks, run as a
// blocking call and delivered in the loop's next round.
struct Deferred {
  std::uint64_t data;
  long result;
};

class Loop {
 public:
  explicit Loop(Shared& shared)
      : shared_(shared), files_source_(shared.files), context_(shared.context),
        options_(shared.options), ops_(supported_ops()) {}

  ~Loop() {
    if (ring_ready_) io_uring_queue_exit(&ring_);
    std::free(buffers_);
  }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  Error setup() {
    const std::size_t slots = std::max<std::size_t>(1, options_.inflight);
    const std::size_t chunks = std::max(slots, std::size_t{options_.inflight});
    // Every operation in flight has a submission entry: at most two per file (the opens, the
    // closes) and two per chunk (a linked read and write). The completion queue is twice that,
    // so it cannot overflow.
    unsigned entries = 8;
    while (entries < (slots + chunks) * 2) entries *= 2;
    if (Error e = init_ring(entries)) return e;
    chunks_.resize(chunks);
    pipes_.resize(chunks);
    // A spliced chunk keeps a buffer of its own length too: if the file system refuses splice
    // halfway through, the chunk goes on with read and write. Pages never touched cost nothing.
    std::size_t stride = options_.chunk;
    if (options_.kernel_copy != KernelCopy::off) stride = std::max(stride, splice_length(options_));
    void* memory = nullptr;
    if (::posix_memalign(&memory, 4096, stride * chunks) != 0)
      return Error::from_errno(ENOMEM, "allocate io_uring buffers");
    buffers_ = static_cast<char*>(memory);
    stride_ = stride;
    splice_length_ = splice_length(options_);
    files_.resize(slots);
    for (std::size_t i = 0; i < slots; ++i) free_files_.push_back(i);
    for (std::size_t i = 0; i < chunks; ++i) {
      chunks_[i].buffer = buffers_ + i * stride;
      free_chunks_.push_back(i);
    }
    if (!ops_.statx) context_.note("io_uring has no STATX here: sources are stat'ed with fstat");
    if (!ops_.openat || !ops_.close)
      context_.note("io_uring has no OPENAT or CLOSE here: files are opened and closed with "
                    "blocking calls on the loop thread");
    return {};
  }

  void run() {
    bool more_jobs = true;
    for (;;) {
      while (more_jobs && !free_files_.empty() && !stopping()) {
        copy::FileJob job;
        // Wait for a file only when nothing is in flight: otherwise completions are waiting.
        const auto pull = files_source_.next(job, active_ == 0 && deferred_.empty());
        if (pull == copy::FileSource::Pull::job)
          start(take(free_files_), std::move(job));
        else if (pull == copy::FileSource::Pull::finished)
          more_jobs = false;
        else
          break;
      }
      hand_out_chunks();
      if (!deferred_.empty()) {
        deliver_deferred();
        continue;
      }
      if (active_ == 0) {
        if (!more_jobs || stopping()) break;
        continue;
      }
      const int rc = io_uring_submit_and_wait(&ring_, 1);
      if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
        const Error why = Error::from_errno(-rc, "io_uring_enter");
        abandon(-rc);
        context_.fatal(why);
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
      context_.note("io_uring: the kernel refused COOP_TASKRUN; using a plain ring");
      params = io_uring_params{};
      rc = io_uring_queue_init_params(entries, &ring_, &params);
    }
    if (rc < 0) return Error::from_errno(-rc, "io_uring_setup");
    ring_ready_ = true;
    return {};
  }

  bool splice_refused() const {
    return shared_.splice_refused.load(std::memory_order_relaxed) != 0;
  }

  bool stopping() const { return context_.stopping(); }

  // The chunk slot's pipe, made the first time one of its chunks splices. A slot without one
  // (the system refused it: EMFILE, ENFILE) reads and writes; a pipe the kernel would not grow
  // moves what it holds per splice.
  void make_pipe(std::size_t c) {
    Chunk& chunk = chunks_[c];
    chunk.pipe_tried = true;
    const long capacity = sys::create_pipe(splice_length_, pipes_[c]);
    if (capacity <= 0) {
      context_.note(fmt::format("a splice pipe could not be made ({}): its chunks read and write",
                                sys::error_text(static_cast<int>(-capacity))));
      pipes_[c] = sys::Pipe{};
      return;
    }
    chunk.capacity = static_cast<std::uint32_t>(
        std::min<std::size_t>(splice_length_, static_cast<std::size_t>(capacity)));
    if (chunk.capacity < splice_length_)
      context_.note(fmt::format(
          "the kernel would not grow some splice pipes to {} (fs.pipe-user-pages-soft): "
          "their splices move {} at a time",
          exact_size(splice_length_), exact_size(chunk.capacity)));
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

  void start(std::size_t index, copy::FileJob job) {
    FileSlot& file = files_[index];
    file = FileSlot{};
    file.job = std::move(job);
    file.busy = true;
    file.plan.started_ns = now_ns();
    file.open_flags = context_.source_flags(file.job);
    ++active_;
    submit_open_source(index);
    submit_stat(index);
  }

  void submit_open_source(std::size_t index) {
    FileSlot& file = files_[index];
    if (!ops_.openat) {
      return defer(index, Step::open_source,
                   sys::open_source_at(file.job.source_dir(), file.job.name.c_str(), file.open_flags));
    }
    io_uring_sqe* s = sqe();
    io_uring_prep_openat(s, file.job.source_dir(), file.job.name.c_str(), file.open_flags, 0);
    push_file_op(s, index, Step::open_source);
  }

  void submit_stat(std::size_t index) {
    FileSlot& file = files_[index];
    if (!ops_.statx) return;  // fstat once the source is open
    io_uring_sqe* s = sqe();
    const int flags = file.job.follow ? 0 : AT_SYMLINK_NOFOLLOW;
    io_uring_prep_statx(s, file.job.source_dir(), file.job.name.c_str(), flags, STATX_BASIC_STATS,
                        &file.statx);
    push_file_op(s, index, Step::stat_source);
  }

  void submit_create(std::size_t index) {
    FileSlot& file = files_[index];
    const copy::FilePlan& plan = file.plan;
    if (!ops_.openat) {
      return defer(index, Step::open_destination,
                   sys::create_at(plan.create_dir, plan.create_name.c_str(), plan.create_flags,
                                  plan.create_mode));
    }
    io_uring_sqe* s = sqe();
    io_uring_prep_openat(s, plan.create_dir, plan.create_name.c_str(), plan.create_flags,
                         plan.create_mode);
    push_file_op(s, index, Step::open_destination);
  }

  void submit_close(std::size_t index, Step step, int fd) {
    if (!ops_.close) return defer(index, step, sys::close(fd));
    io_uring_sqe* s = sqe();
    io_uring_prep_close(s, fd);
    push_file_op(s, index, step);
  }

  void submit_sync(std::size_t index) {
    io_uring_sqe* s = sqe();
    io_uring_prep_fsync(s, files_[index].destination, IORING_FSYNC_DATASYNC);
    push_file_op(s, index, Step::sync);
  }

  void push_file_op(io_uring_sqe* s, std::size_t index, Step step) {
    io_uring_sqe_set_data64(s, tag(index, step));
    ++files_[index].pending;
  }

  // A blocking call's result, delivered as a completion in the next round (never from inside
  // the step that made it, which may still be using the slot).
  void defer(std::size_t index, Step step, long result) {
    ++files_[index].pending;
    deferred_.push_back({tag(index, step), result});
  }

  void deliver_deferred() {
    std::vector<Deferred> now;
    now.swap(deferred_);
    for (const Deferred& d : now) complete(d.data, static_cast<int>(d.result));
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
    const Chunk& chunk = chunks_[c];
    const FileSlot& file = files_[chunk.file];
    submit_pair(c, Step::read, Step::write, [&](io_uring_sqe* r, io_uring_sqe* w) {
      io_uring_prep_read(r, file.source, chunk.buffer, chunk.length, chunk.offset);
      io_uring_prep_write(w, file.destination, chunk.buffer, chunk.length, chunk.offset);
    });
  }

  // Two operations of chunk `c`, the first linked to the second, in one submission: room for
  // both is made before the first entry is taken. `prepare` fills both entries; the tags and
  // the link are set after it, since liburing's prep calls clear an entry's flags.
  template <typename Prepare>
  void submit_pair(std::size_t c, Step first, Step second, Prepare prepare) {
    while (io_uring_sq_space_left(&ring_) < 2) (void)io_uring_submit(&ring_);
    io_uring_sqe* a = sqe();
    io_uring_sqe* b = sqe();
    prepare(a, b);
    io_uring_sqe_set_data64(a, tag(c, first));
    a->flags |= IOSQE_IO_LINK;
    io_uring_sqe_set_data64(b, tag(c, second));
    chunks_[c].linked = 2;
  }

  // Both halves of a linked pair have completed.
  void settle_pair(std::size_t c) {
    Chunk& chunk = chunks_[c];
    if (chunk.read_res != static_cast<long>(chunk.length)) return read_done(c, chunk.read_res);
    chunk.filled = chunk.length;
    // The read was whole, so a cancelled write was io-wq's doing, not the link's.
    write_done(c, requeue_if_cancelled(files_[chunk.file], chunk.write_res));
  }

  // Records the first failure of a file; later ones are consequences of it. An operation
  // io_uring cancelled once the copy is stopping abandons its file; at any other time it is a
  // failure like another (the requeue budget is spent), so that no file goes missing unreported.
  void fail(FileSlot& file, long res, const char* what, bool destination) const {
    if (res == -ECANCELED && stopping()) return cancel(file);
    if (res == -ECANCELED) {
      // Only io-wq cancels on its own, when it cannot start a kernel worker thread (a process
      // limit such as RLIMIT_NPROC, or signals interrupting the thread's creation).
      file.outcome.fail(what, ECANCELED, destination);
      if (file.outcome.code == ECANCELED)
        file.outcome.detail = "io_uring's kernel worker thread could not start, cancelled " +
                              std::to_string(kMaxRequeues) + " times";
      return;
    }
    file.outcome.fail(what, static_cast<int>(-res), destination);
  }

  static void cancel(FileSlot& file) {
    if (file.outcome.ok()) file.outcome.cancelled = true;
  }

  bool wants_data(const FileSlot& file) const {
    return file.opened && file.outcome.ok() && file.extent < file.plan.extents.size();
  }

  void enqueue(std::size_t index) {
    FileSlot& file = files_[index];
    if (file.queued || !wants_data(file)) return;
    file.queued = true;
    hungry_.push_back(index);
  }

  // Gives free chunks to the files waiting for one, in turn, and starts their reads. Once the
  // copy is stopping, a waiting file is abandoned instead of reading on.
  void hand_out_chunks() {
    while (!free_chunks_.empty() && !hungry_.empty()) {
      const std::size_t index = hungry_.front();
      hungry_.pop_front();
      FileSlot& file = files_[index];
      file.queued = false;
      if (!wants_data(file)) continue;
      if (stopping()) {
        cancel(file);
        if (file.chunks == 0) close_both(index);
        continue;
      }
      const std::size_t c = take(free_chunks_);
      Chunk& chunk = chunks_[c];
      const copy::Extent& extent = file.plan.extents[file.extent];
      if (file.next_offset < extent.offset) file.next_offset = extent.offset;
      chunk.file = index;
      chunk.offset = file.next_offset;
      const bool wants_splice = file.splice && !splice_refused() && ops_.splice;
      if (wants_splice && !chunk.pipe_tried) make_pipe(c);
      chunk.splicing = wants_splice && chunk.capacity > 0;
      const std::uint64_t most = chunk.splicing ? chunk.capacity : options_.chunk;
      const std::uint64_t end = extent.offset + extent.length;
      chunk.length = static_cast<std::uint32_t>(std::min<std::uint64_t>(most, end - file.next_offset));
      chunk.filled = chunk.written = 0;
      file.next_offset += chunk.length;
      if (file.next_offset >= end) ++file.extent;
      ++file.chunks;
      if (chunk.splicing)
        submit_splice_pair(c);
      else if (file.plan.zero_blocks_to_holes)
        submit_read(c);
      else
        submit_linked_pair(c);
      if (file.chunks < kMaxChunksPerFile) enqueue(index);
    }
  }

  static sys::Op op_of(Step step) {
    switch (step) {
      case Step::open_source:
        return sys::Op::open_source;
      case Step::stat_source:
        return sys::Op::stat;
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
      case Step::splice_in:
        return sys::Op::splice_in;
      case Step::splice_out:
        return sys::Op::splice_out;
    }
    return sys::Op::close;
  }

  void complete(std::uint64_t data, int raw) {
    const std::size_t index = data >> kStepBits;
    const auto step = static_cast<Step>(data & kStepMask);
    long res = sys::filter_result(op_of(step), raw);
    const bool first = step == Step::read || step == Step::splice_in;
    const bool second = step == Step::write || step == Step::splice_out;
    const bool linked = (first || second) && chunks_[index].linked > 0;
    const bool close = step == Step::close_source || step == Step::close_destination;
    if (close && raw == -ECANCELED) {
      // Only the kernel's own -ECANCELED says that a close never ran: after any other result
      // the descriptor is gone, and its number may already belong to another file.
      FileSlot& file = files_[index];
      const int fd = step == Step::close_source ? file.closing_source : file.closing_destination;
      if (file.requeued < kMaxRequeues) {
        ++file.requeued;
        --file.pending;
        return submit_close(index, step, fd);
      }
      // The budget is spent: close it here rather than lose the descriptor.
      res = sys::close(fd);
    } else if (!close && !(second && linked)) {
      // The second half of a link is cancelled when the first comes back short; which case
      // it is, is known only once both have arrived.
      res = requeue_if_cancelled(files_[first || second ? chunks_[index].file : index], res);
    }
    if (linked) {
      Chunk& chunk = chunks_[index];
      (first ? chunk.read_res : chunk.write_res) = res;
      if (--chunk.linked > 0) return;
      if (step == Step::read || step == Step::write) return settle_pair(index);
      return splice_done(index, true, chunk.read_res, chunk.write_res);
    }
    switch (step) {
      case Step::read:
        return read_done(index, res);
      case Step::write:
        return write_done(index, res);
      case Step::splice_in:  // never submitted alone
      case Step::splice_out:
        return splice_done(index, false, 0, res);
      default:
        return file_op_done(index, step, res, res == -EAGAIN || res == -EINTR);
    }
  }

  // -EAGAIN (submit again) for an operation io-wq cancelled before it ran, while the file's
  // budget lasts; any other result as it is.
  static long requeue_if_cancelled(FileSlot& file, long res) {
    if (res != -ECANCELED || file.requeued >= kMaxRequeues) return res;
    ++file.requeued;
    return -EAGAIN;
  }

  void file_op_done(std::size_t index, Step step, long res, bool again) {
    FileSlot& file = files_[index];
    --file.pending;
    switch (step) {
      case Step::open_source:
        if (again) return submit_open_source(index);
        if (res < 0 && context_.retry_without_noatime(file.open_flags, static_cast<int>(-res))) {
          file.open_flags &= ~O_NOATIME;
          return submit_open_source(index);
        }
        if (res < 0) fail(file, res, "open", false);
        else file.source = static_cast<int>(res);
        return source_ready(index);
      case Step::stat_source:
        if (again) return submit_stat(index);
        if (res < 0) fail(file, res, "stat", false);
        return source_ready(index);
      case Step::open_destination:
        if (again) return submit_create(index);
        if (context_.created(file.plan, res, file.outcome)) file.destination = static_cast<int>(res);
        return destination_ready(index);
      case Step::sync:
        if (again) return submit_sync(index);
        if (res < 0) fail(file, res, "fdatasync", true);
        return finish_file(index);
      default:
        // A close is never retried: on Linux the descriptor is gone whatever the result
        // (complete() resubmits one that io-wq cancelled before it ran).
        if (res < 0) fail(file, res, "close", step == Step::close_destination);
        if (file.pending == 0) retire(index);
        return;
    }
  }

  // The source's open and statx have both completed: the context plans the file.
  void source_ready(std::size_t index) {
    FileSlot& file = files_[index];
    if (file.pending > 0) return;  // the other one is still on its way
    if (file.outcome.ok() && stopping()) cancel(file);
    if (!file.outcome.ok()) return close_both(index);
    struct ::stat st {};
    if (ops_.statx) {
      st = stat_of(file.statx);
    } else if (const long rc = sys::stat_fd(file.source, st); rc < 0) {
      fail(file, rc, "stat", false);
      return close_both(index);
    }
    context_.plan(file.job, file.source, st, file.plan, file.outcome);
    if (!file.outcome.ok() || file.plan.action != copy::FilePlan::Action::copy)
      return close_both(index);
    file.splice = splices(options_, file.plan.size) && !file.plan.zero_blocks_to_holes;
    submit_create(index);
  }

  void destination_ready(std::size_t index) {
    FileSlot& file = files_[index];
    if (file.outcome.ok() && stopping()) cancel(file);
    if (!file.outcome.ok()) return close_both(index);
    if (context_.reflink(file.source, file.destination, file.plan, file.outcome) ||
        !file.outcome.ok() || file.plan.extents.empty())
      return finish_data(index);
    file.opened = true;
    enqueue(index);
  }

  void read_done(std::size_t c, long res) {
    Chunk& chunk = chunks_[c];
    FileSlot& file = files_[chunk.file];
    const bool again = res == -EAGAIN || res == -EINTR;
    if (again) return submit_read(c);
    if (res < 0) {
      fail(file, res, "read", false);
      return release(c);
    }
    if (res == 0) return source_short(c);
    chunk.filled += static_cast<std::uint32_t>(res);
    // After a short read, read on: either the rest comes, or the end of the source shows.
    if (chunk.filled < chunk.length && (file.outcome.ok() || file.ended_at != kNever))
      return submit_read(c);
    if (!file.outcome.ok()) return release(c);
    if (file.plan.zero_blocks_to_holes &&
        copy::FileContext::all_zero({chunk.buffer, chunk.filled})) {
      chunk.written = chunk.filled;
      return finish_chunk(c);
    }
    submit_write(c);
  }

  // The source ended inside this chunk: several chunks may meet the end, and the outcome names
  // the first byte that is missing.
  void source_short(std::size_t c) {
    Chunk& chunk = chunks_[c];
    FileSlot& file = files_[chunk.file];
    const std::uint64_t at = chunk.offset + chunk.filled;
    if (file.outcome.ok() || (file.ended_at != kNever && at < file.ended_at)) {
      file.outcome = copy::FileOutcome{};
      source_ended_early(file.outcome, at, file.plan.size);
      file.ended_at = at;
    }
    release(c);
  }

  void write_done(std::size_t c, long res) {
    Chunk& chunk = chunks_[c];
    FileSlot& file = files_[chunk.file];
    const bool again = res == -EAGAIN || res == -EINTR;
    if (again) return submit_write(c);
    if (res <= 0) {
      if (res == 0) file.outcome.fail("write", "the destination took no bytes", true);
      else fail(file, res, "write", true);
      return release(c);
    }
    chunk.written += static_cast<std::uint32_t>(res);
    if (chunk.written < chunk.filled && file.outcome.ok()) return submit_write(c);
    finish_chunk(c);
  }

  static bool again(long res) { return res == -EAGAIN || res == -EINTR; }

  // The splice of the rest of a chunk into its empty pipe, linked to the splice of the same
  // bytes out into the destination. A short splice-in breaks the link: the kernel cancels the
  // splice-out (-ECANCELED) and splice_done() goes on with what the pipe holds.
  void submit_splice_pair(std::size_t c) {
    Chunk& chunk = chunks_[c];
    const FileSlot& file = files_[chunk.file];
    const auto at = static_cast<std::int64_t>(chunk.offset + chunk.filled);
    chunk.asked = chunk.length - chunk.filled;
    chunk.out_exact = true;
    submit_pair(c, Step::splice_in, Step::splice_out, [&](io_uring_sqe* in, io_uring_sqe* out) {
      io_uring_prep_splice(in, file.source, at, pipes_[c].write.get(), -1, chunk.asked, 0);
      io_uring_prep_splice(out, pipes_[c].read.get(), -1, file.destination, at, chunk.asked, 0);
    });
  }

  // The splice of everything the pipe holds, [written, filled) of the chunk, to the
  // destination. The pipe holds at least one byte, so the splice cannot wait for more.
  void submit_splice_out(std::size_t c) {
    Chunk& chunk = chunks_[c];
    chunk.asked = chunk.filled - chunk.written;
    io_uring_sqe* out = sqe();
    io_uring_prep_splice(out, pipes_[c].read.get(), -1, files_[chunk.file].destination,
                         static_cast<std::int64_t>(chunk.offset + chunk.written), chunk.asked, 0);
    io_uring_sqe_set_data64(out, tag(c, Step::splice_out));
  }

  // A splice step has completed: a linked pair (`paired`) or a splice-out alone.
  void splice_done(std::size_t c, bool paired, long in_res, long out_res) {
    Chunk& chunk = chunks_[c];
    FileSlot& file = files_[chunk.file];
    const long asked = chunk.asked;
    // A whole splice-in means a cancelled splice-out was io-wq's doing, not the link's.
    if (paired && in_res == asked) out_res = requeue_if_cancelled(file, out_res);
    if ((!paired || in_res == asked) && out_res == asked) {
      if (paired) chunk.filled += chunk.asked;
      chunk.written += chunk.asked;
      return splice_next(c);
    }
    // What the results claim. A splice-out that the kernel cancelled because its splice-in
    // came back short did not run; any other result short of `asked` may hide bytes it moved.
    const bool cancelled_by_link = paired && in_res != asked && out_res == -ECANCELED;
    if (paired && in_res > 0) chunk.filled += static_cast<std::uint32_t>(in_res);
    if (out_res > 0) {
      chunk.written += static_cast<std::uint32_t>(out_res);
      chunk.filled = std::max(chunk.filled, chunk.written);
    }
    if (out_res != asked && !cancelled_by_link) chunk.out_exact = false;
    const long in_error = paired && in_res < 0 && !again(in_res) ? in_res : 0;
    long out_error = 0;
    if (!cancelled_by_link && out_res <= 0 && !again(out_res))
      out_error = out_res == 0 ? -EIO : out_res;
    for (const long error : {in_error, out_error})
      if (error == -EINVAL || error == -EOPNOTSUPP) return splice_refused_by(c, error);
    if (in_error != 0) fail(file, in_error, "splice from", false);
    if (out_error != 0) fail(file, out_error, "splice to", true);
    if (!sync_with_pipe(c)) return go_on_reading(c);
    if (paired && in_res == 0 && chunk.filled == chunk.written) {
      // As in read_done(): the outcome names the first byte missing of all the chunks.
      const std::uint64_t at = chunk.offset + chunk.filled;
      if (file.outcome.ok() || (file.ended_at != kNever && at < file.ended_at)) {
        file.outcome = copy::FileOutcome{};
        source_ended_early(file.outcome, at, file.plan.size);
        file.ended_at = at;
      }
      return release(c);
    }
    splice_next(c);
  }

  // Moves a spliced chunk on, from a state its pipe agrees with: out with what the pipe holds,
  // in with what the source still owes, or back to the pool.
  void splice_next(std::size_t c) {
    Chunk& chunk = chunks_[c];
    const FileSlot& file = files_[chunk.file];
    // As after a short read, a source found short elsewhere does not stop this chunk: it may
    // meet the end sooner, and the outcome must name the first missing byte.
    const bool stop = !file.outcome.ok() && file.ended_at == kNever;
    if (!stop && chunk.written < chunk.filled) return submit_splice_out(c);
    if (!stop && chunk.filled < chunk.length) return submit_splice_pair(c);
    if (chunk.filled != chunk.written) empty_pipe(c);
    finish_chunk(c);
  }

  // Makes the chunk's count of what its pipe holds agree with the pipe (see the top of the
  // file). Returns false when the pipe could not be asked or emptied: it is then closed, and
  // the chunk must go on by read and write from its last byte known to be written.
  //
  // The seam only ever shortens a count or replaces a result with an error, so every count is
  // a lower bound. One case stays beyond what the pipe can tell: when the seam shortens both
  // results of one linked pair by the same amount while the kernel's own splice-out was short,
  // the counts agree with the pipe and yet are wrong. That needs a real short splice-out (a file
  // system short of space) under such a seam; the verification after each run would catch it.
  bool sync_with_pipe(std::size_t c) {
    Chunk& chunk = chunks_[c];
    const long held = sys::pipe_bytes(pipes_[c].read.get());
    if (held < 0) return break_pipe(c);
    const auto bytes = static_cast<std::uint64_t>(held);
    if (bytes == chunk.filled - chunk.written) return true;
    if (bytes > 0 && chunk.out_exact && chunk.written + bytes <= chunk.length) {
      chunk.filled = chunk.written + static_cast<std::uint32_t>(bytes);
      return true;
    }
    // Where the pipe's bytes belong is unknown (or there are none): empty it, and splice again
    // from the last byte known to be written, which rewrites some bytes with the same data.
    if (bytes > 0 && sys::drain_pipe(pipes_[c].read.get(), bytes, chunk.buffer, stride_) < 0)
      return break_pipe(c);
    chunk.filled = chunk.written;
    return true;
  }

  // Empties the pipe of a chunk whose pipe bytes will not be written.
  void empty_pipe(std::size_t c) {
    Chunk& chunk = chunks_[c];
    const long held = sys::pipe_bytes(pipes_[c].read.get());
    if (held < 0 ||
        (held > 0 && sys::drain_pipe(pipes_[c].read.get(), static_cast<std::size_t>(held),
                                     chunk.buffer, stride_) < 0))
      (void)break_pipe(c);
    chunk.filled = chunk.written;
  }

  // A pipe whose content is unknown is never used again: the chunk reads and writes from now on.
  bool break_pipe(std::size_t c) {
    pipes_[c] = sys::Pipe{};
    Chunk& chunk = chunks_[c];
    chunk.capacity = 0;
    chunk.splicing = false;
    chunk.filled = chunk.written;
    context_.note("a splice pipe could not be emptied: its chunk read and wrote from then on");
    return false;
  }

  // The file system refused splice (EINVAL): every loop reads and writes for the rest of the
  // run, and this chunk goes on that way from its last byte known to be written.
  void splice_refused_by(std::size_t c, long error) {
    int expected = 0;
    (void)shared_.splice_refused.compare_exchange_strong(expected, static_cast<int>(-error));
    empty_pipe(c);
    go_on_reading(c);
  }

  // A chunk that can no longer splice goes on with its buffer, from `written`.
  void go_on_reading(std::size_t c) {
    Chunk& chunk = chunks_[c];
    const FileSlot& file = files_[chunk.file];
    chunk.splicing = false;
    chunk.filled = chunk.written;
    if (chunk.written < chunk.length && (file.outcome.ok() || file.ended_at != kNever))
      return submit_read(c);
    finish_chunk(c);
  }

  // A chunk's bytes count for its file only when all of them were written and the file has
  // not failed: a failed file is never reported as fully copied.
  void finish_chunk(std::size_t c) {
    const Chunk& chunk = chunks_[c];
    FileSlot& file = files_[chunk.file];
    if (chunk.written == chunk.length && file.outcome.ok()) {
      file.written += chunk.length;
      file.outcome.bytes += chunk.length;
      context_.bytes_moved(chunk.length);
    }
    release(c);
  }

  // A chunk's work is over, finished or failed: its buffer goes back to the pool and its file
  // moves on: more data, the sync and closes, or (after a failure) the closes once no other
  // chunk of it is in flight.
  void release(std::size_t c) {
    const std::size_t index = chunks_[c].file;
    FileSlot& file = files_[index];
    --file.chunks;
    free_chunks_.push_back(c);
    if (!file.outcome.ok()) {
      if (file.chunks == 0) close_both(index);
      return;
    }
    if (file.chunks == 0 && file.written == file.plan.data_bytes) return finish_data(index);
    enqueue(index);
  }

  void finish_data(std::size_t index) {
    FileSlot& file = files_[index];
    file.opened = false;
    if (options_.fsync && file.outcome.ok()) return submit_sync(index);
    finish_file(index);
  }

  // Metadata and the final name, on the loop thread, before the closes.
  void finish_file(std::size_t index) {
    FileSlot& file = files_[index];
    if (file.destination >= 0)
      context_.finish(file.job, file.plan, file.source, file.destination, file.outcome);
    close_both(index);
  }

  void close_both(std::size_t index) {
    FileSlot& file = files_[index];
    file.opened = false;
    file.closing_source = file.source;
    file.closing_destination = file.destination;
    const int source = file.source;
    const int destination = file.destination;
    file.source = file.destination = -1;
    if (source >= 0) submit_close(index, Step::close_source, source);
    if (destination >= 0) submit_close(index, Step::close_destination, destination);
    if (file.pending == 0) retire(index);
  }

  void retire(std::size_t index) {
    FileSlot& file = files_[index];
    file.busy = false;
    context_.done(file.job, file.plan, file.outcome);
    file.job = copy::FileJob{};
    --active_;
    free_files_.push_back(index);
  }

  // The ring itself failed: nothing more will complete, so close what is open by hand and
  // fail every file in progress with the ring's error.
  void abandon(int err) {
    for (std::size_t i = 0; i < files_.size(); ++i) {
      FileSlot& file = files_[i];
      if (file.source >= 0) (void)sys::close(file.source);
      if (file.destination >= 0) (void)sys::close(file.destination);
      file.source = file.destination = -1;
      if (!file.busy) continue;
      file.outcome.fail("io_uring_enter", err, false);
      file.pending = 0;
      retire(i);
    }
  }

  Shared& shared_;
  copy::FileSource& files_source_;
  copy::FileContext& context_;
  const EngineOptions& options_;
  const Ops& ops_;
  io_uring ring_{};
  bool ring_ready_ = false;
  char* buffers_ = nullptr;
  std::size_t stride_ = 0;        // bytes of buffer per chunk
  std::size_t splice_length_ = 0;
  std::vector<sys::Pipe> pipes_;  // one per chunk slot, made when it first splices
  std::vector<FileSlot> files_;
  std::vector<std::size_t> free_files_;
  std::vector<Chunk> chunks_;
  std::vector<std::size_t> free_chunks_;
  std::deque<std::size_t> hungry_;  // open files waiting for a chunk, served in turn
  std::vector<Deferred> deferred_;
  std::size_t active_ = 0;
};

// Sets up one loop and runs it until no file is left; a loop that cannot start leaves its
// share to the others and records why.
void run_loop(Shared& shared) {
  Loop loop(shared);
  if (Error e = loop.setup()) return shared.setup_failed(std::move(e));
  shared.started();
  loop.run();
}

class UringEngine final : public Engine {
 public:
  std::string_view name() const override { return "uring"; }

  std::string describe(const EngineOptions& options, std::size_t) const override {
    const unsigned loops = std::max(1u, options.loops);
    const std::size_t slots = std::max(1u, options.inflight);
    const std::string files = fmt::format("{} file{} in flight", slots, slots == 1 ? "" : "s");
    std::string splice;
    if (options.kernel_copy != KernelCopy::off) {
      const std::string pipe = exact_size(splice_length(options));
      splice = options.kernel_copy == KernelCopy::on
                   ? fmt::format(", splice through pipes of {} for every file", pipe)
                   : fmt::format(", splice through pipes of {} for files of {} and more", pipe,
                                 exact_size(kSpliceFrom));
    }
    if (loops == 1) return "io_uring event loop, " + files + splice;
    return fmt::format("{} io_uring event loops (one ring per thread), {} each{}", loops, files,
                       splice);
  }

 private:
  void run(copy::FileSource& files, copy::FileContext& context,
           const EngineOptions& options) override {
    Shared shared(files, context, options);
    const unsigned loops = std::max(1u, options.loops);
    if (loops == 1) {
      run_loop(shared);
    } else {
      WorkerPool pool(loops, 0, [&](Scratch&) { run_loop(shared); });
      for (unsigned i = 1; i < loops; ++i) pool.grow();
      pool.run();
      if (const Error refused = pool.refused())
        context.note(fmt::format("the system refused a loop's thread: {}", refused.message()));
    }
    // A loop that could not start left its files to the others: an error of the copy only
    // when no loop started at all.
    if (shared.setup_error) {
      if (shared.loops_started > 0)
        context.note(fmt::format("a loop could not start: {}", shared.setup_error.message()));
      else
        context.fatal(shared.setup_error);
    }
    if (const int err = shared.splice_refused.load(); err != 0)
      context.note(fmt::format(
          "splice refused ({}): read and wrote through a buffer for the rest of the run",
          sys::error_text(err)));
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
