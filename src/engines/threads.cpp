// The "goroutine" design: blocking open, read, write and close on OS threads. With
// `workers == 0` every file gets its own thread, as the Go original gives every file its own
// goroutine; with `workers == N` at most N files are copied at once.
#include <fmt/format.h>

#include <memory>

#include "engines/blocking.hpp"
#include "engines/engines.hpp"

namespace ccopy::engines {
namespace {

class ThreadsEngine final : public Engine {
 public:
  std::string_view name() const override { return "threads"; }

  std::string describe(const EngineOptions& options, std::size_t file_count) const override {
    if (options.workers == 0 || options.workers >= file_count)
      return options.workers == 0 ? "one thread per file"
                                  : fmt::format("{} worker threads", file_count);
    return fmt::format("{} worker threads", options.workers);
  }

  CopyReport copy(std::span<const CopyJob> jobs, const EngineOptions& options) override {
    CopyReport report = empty_report(jobs.size());
    const unsigned threads = thread_count(jobs.size(), options.workers);
    // Each file gets its buffer when its copy starts. A thread_local buffer kept for the
    // thread's life was reported by LeakSanitizer as leaked at every exit (the CI's ASan run).
    const PoolReport pool =
        run_on_threads(jobs.size(), threads, options.cancel, [&](std::size_t i) {
          const auto buffer = std::make_unique_for_overwrite<char[]>(options.chunk);
          const std::span<char> chunk(buffer.get(), options.chunk);
          report.files[i] = copy_one_file(
              jobs[i], options, [&](int src, int dst, const CopyJob& job, std::uint64_t& bytes) {
                return transfer_read_write(src, dst, job, chunk, bytes, options.cancel);
              });
        });
    if (pool.refused)
      report.notes.push_back(
          fmt::format("the system refused a thread: {}", pool.refused.message()));
    finish_report(report, options.cancel);
    return report;
  }

 private:
  static unsigned thread_count(std::size_t files, unsigned workers) {
    const std::size_t wanted = workers == 0 ? files : std::min<std::size_t>(workers, files);
    return static_cast<unsigned>(std::min<std::size_t>(wanted, 1u << 20));
  }
};

}  // namespace

std::unique_ptr<Engine> make_threads_engine() { return std::make_unique<ThreadsEngine>(); }

}  // namespace ccopy::engines
