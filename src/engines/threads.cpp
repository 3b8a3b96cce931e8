// The "goroutine" design: blocking open, read, write and close on OS threads. With
// `workers == 0` every file gets its own thread, as the Go original gives every file its own
// goroutine; with `workers == N` at most N files are copied at once.

#include <memory>

#include "engines/blocking.hpp"
#include "engines/engines.hpp"

namespace ccopy::engines {
namespace {

class ThreadsEngine final : public Engine {
 public:
  std::string_view name() const override { return "threads"; }

  std::string describe(const EngineOptions& options, std::size_t file_count) const override {
    return describe_workers(options, file_count);
  }

  CopyReport copy(std::span<const CopyJob> jobs, const EngineOptions& options) override {
    CopyReport report = empty_report(jobs.size());
    const unsigned threads = worker_threads(options, jobs.size());
    // Each thread allocates its buffer for its first file and keeps it for the others.
    const PoolReport pool = run_on_threads(
        jobs.size(), threads, options.cancel, options.chunk, [&](std::size_t i, Scratch& scratch) {
          const std::span<char> chunk = scratch.buffer();
          report.files[i] = copy_one_file(
              jobs[i], options, [&](int src, int dst, const CopyJob& job, std::uint64_t& bytes) {
                return transfer_read_write(src, dst, job, chunk, bytes, options.cancel);
              });
        });
    note_refused_thread(pool, report);
    finish_report(report, options.cancel);
    return report;
  }
};

}  // namespace

std::unique_ptr<Engine> make_threads_engine() { return std::make_unique<ThreadsEngine>(); }

}  // namespace ccopy::engines
