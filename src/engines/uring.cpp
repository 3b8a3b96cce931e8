// The "xev" design: one thread runs one io_uring event loop, and every step of every file is
// a ring operation: open the source, create the destination, read, write, (fdatasync,) close
// both. At most `inflight` files are in progress, each with one buffer from a pool sized by
// `inflight`, not by the number of files.
//
// Short reads and writes resume with what remains, -EAGAIN and -EINTR are resubmitted, and a
// full submission queue is flushed and retried, as liburing's examples/io_uring-cp.c does.
#include <fcntl.h>
#include <liburing.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <vector>

#include "engines/blocking.hpp"
#include "engines/engines.hpp"
#include "sys/sys.hpp"

namespace ccopy::engines {
namespace {

enum class Step : std::uint8_t { open_source, open_destination, read, write, sync, close_source, close_destination };

constexpr unsigned kStepBits = 3;
constexpr std::uint64_t kStepMask = (1u << kStepBits) - 1;

std::uint64_t tag(std::size_t slot, Step step) {
  return (static_cast<std::uint64_t>(slot) << kStepBits) | static_cast<std::uint64_t>(step);
}

// The state of one file in progress. The loop owns every slot; user_data names slot and step.
struct Slot {
  std::size_t job = 0;
  int source = -1;
  int destination = -1;
  char* buffer = nullptr;
  std::uint64_t copied = 0;     // bytes read and fully written
  std::uint32_t chunk_len = 0;  // bytes in the buffer waiting to be written
  std::uint32_t chunk_done = 0; // of those, bytes already written
  unsigned pending = 0;         // operations submitted and not yet completed
  std::int64_t started_ns = 0;
  Error error;
};

class Loop {
 public:
  Loop(std::span<const CopyJob> jobs, const EngineOptions& options, CopyReport& report)
      : jobs_(jobs), options_(options), report_(report) {}

  ~Loop() {
    if (ring_ready_) io_uring_queue_exit(&ring_);
    std::free(buffers_);
  }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  Error setup() {
    const unsigned slots = static_cast<unsigned>(
        std::max<std::size_t>(1, std::min<std::size_t>(options_.inflight, jobs_.size())));
    unsigned entries = 8;
    while (entries < slots * 2) entries *= 2;
    const int rc = io_uring_queue_init(entries, &ring_, 0);
    if (rc < 0) return Error::from_errno(-rc, "io_uring_setup");
    ring_ready_ = true;
    void* memory = nullptr;
    if (::posix_memalign(&memory, 4096, options_.chunk * slots) != 0)
      return Error::from_errno(ENOMEM, "allocate io_uring buffers");
    buffers_ = static_cast<char*>(memory);
    slots_.resize(slots);
    for (unsigned i = 0; i < slots; ++i) {
      slots_[i].buffer = buffers_ + std::size_t{i} * options_.chunk;
      free_.push_back(i);
    }
    return {};
  }

  void run() {
    for (;;) {
      if (!cancelled() ) {
        while (!free_.empty() && next_job_ < jobs_.size()) start(take_free(), next_job_++);
      }
      if (active_ == 0) break;
      int rc = io_uring_submit_and_wait(&ring_, 1);
      if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
        report_.engine_error = Error::from_errno(-rc, "io_uring_enter");
        abandon();
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
  bool cancelled() const {
    return options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed);
  }

  std::size_t take_free() {
    const std::size_t slot = free_.back();
    free_.pop_back();
    return slot;
  }

  io_uring_sqe* sqe() {
    for (;;) {
      if (io_uring_sqe* s = io_uring_get_sqe(&ring_)) return s;
      // The submission queue is full: hand what is there to the kernel and try again.
      (void)io_uring_submit(&ring_);
    }
  }

  void start(std::size_t index, std::size_t job) {
    Slot& slot = slots_[index];
    slot = Slot{job, -1, -1, slot.buffer, 0, 0, 0, 0, now_ns(), {}};
    report_.files[job].attempted = true;
    ++active_;
    submit_open(index, Step::open_source);
    submit_open(index, Step::open_destination);
  }

  void submit_open(std::size_t index, Step step) {
    const CopyJob& job = jobs_[slots_[index].job];
    io_uring_sqe* s = sqe();
    if (step == Step::open_source)
      io_uring_prep_openat(s, AT_FDCWD, job.source.c_str(), O_RDONLY | O_CLOEXEC, 0);
    else
      io_uring_prep_openat(s, AT_FDCWD, job.destination.c_str(),
                           O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    push(s, index, step);
  }

  void submit_read(std::size_t index) {
    Slot& slot = slots_[index];
    const std::uint64_t left = jobs_[slot.job].size - slot.copied;
    const auto length = static_cast<unsigned>(std::min<std::uint64_t>(options_.chunk, left));
    io_uring_sqe* s = sqe();
    io_uring_prep_read(s, slot.source, slot.buffer, length, slot.copied);
    push(s, index, Step::read);
  }

  void submit_write(std::size_t index) {
    Slot& slot = slots_[index];
    io_uring_sqe* s = sqe();
    io_uring_prep_write(s, slot.destination, slot.buffer + slot.chunk_done,
                        slot.chunk_len - slot.chunk_done, slot.copied + slot.chunk_done);
    push(s, index, Step::write);
  }

  void submit_simple(std::size_t index, Step step) {
    Slot& slot = slots_[index];
    io_uring_sqe* s = sqe();
    if (step == Step::sync) io_uring_prep_fsync(s, slot.destination, IORING_FSYNC_DATASYNC);
    else io_uring_prep_close(s, step == Step::close_source ? slot.source : slot.destination);
    push(s, index, step);
  }

  void push(io_uring_sqe* s, std::size_t index, Step step) {
    io_uring_sqe_set_data64(s, tag(index, step));
    ++slots_[index].pending;
  }

  // Records the first error of a file; later ones are consequences of it.
  void fail(Slot& slot, long res, const char* what, const std::string& path) {
    if (!slot.error) slot.error = Error::from_errno(static_cast<int>(-res), fmt::format("{} {}", what, path));
  }

  static sys::Op op_of(Step step) {
    switch (step) {
      case Step::open_source: return sys::Op::open_source;
      case Step::open_destination: return sys::Op::create_destination;
      case Step::read: return sys::Op::read;
      case Step::write: return sys::Op::write;
      case Step::sync: return sys::Op::sync;
      case Step::close_source:
      case Step::close_destination: return sys::Op::close;
    }
    return sys::Op::close;
  }

  void complete(std::uint64_t data, int raw) {
    const std::size_t index = data >> kStepBits;
    const auto step = static_cast<Step>(data & kStepMask);
    Slot& slot = slots_[index];
    const CopyJob& job = jobs_[slot.job];
    --slot.pending;
    const long res = sys::filter_result(op_of(step), raw);
    const bool again = res == -EAGAIN || res == -EINTR;
    switch (step) {
      case Step::open_source:
      case Step::open_destination: {
        const bool source = step == Step::open_source;
        if (again) return submit_open(index, step);
        if (res < 0) fail(slot, res, source ? "open" : "create", source ? job.source : job.destination);
        else (source ? slot.source : slot.destination) = static_cast<int>(res);
        if (slot.pending > 0) return;  // the other open is still on its way
        // A file stopped by cancellation is not a copied file: it says so, and the report
        // counts the run as cancelled.
        if (cancelled()) fail(slot, -ECANCELED, "copy", job.source);
        if (slot.error) return close_both(index);
        if (job.size == 0) return finish_data(index);
        return submit_read(index);
      }
      case Step::read:
        if (again) return submit_read(index);
        if (res < 0) return fail(slot, res, "read", job.source), close_both(index);
        if (res == 0) {
          if (!slot.error) slot.error = source_ended_early(job, slot.copied);
          return close_both(index);
        }
        slot.chunk_len = static_cast<std::uint32_t>(res);
        slot.chunk_done = 0;
        return submit_write(index);
      case Step::write:
        if (again) return submit_write(index);
        if (res <= 0) return fail(slot, res == 0 ? -EIO : res, "write", job.destination), close_both(index);
        slot.chunk_done += static_cast<std::uint32_t>(res);
        if (slot.chunk_done < slot.chunk_len) return submit_write(index);
        slot.copied += slot.chunk_len;
        if (slot.copied >= job.size) return finish_data(index);
        if (cancelled()) {
          fail(slot, -ECANCELED, "copy", job.source);
          return close_both(index);
        }
        return submit_read(index);
      case Step::sync:
        if (again) return submit_simple(index, Step::sync);
        if (res < 0) fail(slot, res, "fdatasync", job.destination);
        return close_both(index);
      case Step::close_source:
      case Step::close_destination:
        // A close is never retried: on Linux the descriptor is gone whatever the result.
        if (res < 0) fail(slot, res, "close", step == Step::close_source ? job.source : job.destination);
        if (slot.pending == 0) retire(index);
        return;
    }
  }

  void finish_data(std::size_t index) {
    if (options_.fsync) return submit_simple(index, Step::sync);
    close_both(index);
  }

  void close_both(std::size_t index) {
    Slot& slot = slots_[index];
    if (slot.source >= 0) submit_simple(index, Step::close_source);
    if (slot.destination >= 0) submit_simple(index, Step::close_destination);
    slot.source = slot.destination = -1;
    if (slot.pending == 0) retire(index);
  }

  void retire(std::size_t index) {
    Slot& slot = slots_[index];
    FileOutcome& outcome = report_.files[slot.job];
    outcome.bytes = slot.copied;
    outcome.error = std::move(slot.error);
    outcome.latency_ns = now_ns() - slot.started_ns;
    --active_;
    free_.push_back(index);
  }

  // The ring itself failed: nothing more will complete, so close what is open by hand.
  void abandon() {
    for (Slot& slot : slots_) {
      if (slot.source >= 0) (void)sys::close(slot.source);
      if (slot.destination >= 0) (void)sys::close(slot.destination);
      slot.source = slot.destination = -1;
    }
  }

  std::span<const CopyJob> jobs_;
  const EngineOptions& options_;
  CopyReport& report_;
  io_uring ring_{};
  bool ring_ready_ = false;
  char* buffers_ = nullptr;
  std::vector<Slot> slots_;
  std::vector<std::size_t> free_;
  std::size_t next_job_ = 0;
  std::size_t active_ = 0;
};

class UringEngine final : public Engine {
 public:
  std::string_view name() const override { return "uring"; }

  std::string describe(const EngineOptions& options, std::size_t file_count) const override {
    const std::size_t inflight = std::max<std::size_t>(1, std::min<std::size_t>(options.inflight, file_count));
    return fmt::format("io_uring event loop, {} file{} in flight", inflight, inflight == 1 ? "" : "s");
  }

  CopyReport copy(std::span<const CopyJob> jobs, const EngineOptions& options) override {
    CopyReport report = empty_report(jobs.size());
    if (jobs.empty()) return report;
    Loop loop(jobs, options, report);
    if (Error e = loop.setup()) {
      report.engine_error = std::move(e);
      return report;
    }
    loop.run();
    finish_report(report, options.cancel);
    return report;
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
