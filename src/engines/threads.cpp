// The "goroutine" design: blocking open, read, write and close on OS threads. With
// `workers == 0` every waiting file gets its own thread (bounded by a buffer budget), as the Go
// original gives every file its own goroutine; with `workers == N` at most N files are copied at
// once. A thread is started only for a file that no running thread has taken yet.

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

 private:
  void run(copy::FileSource& files, copy::FileContext& context,
           const EngineOptions& options) override {
    WorkerPool* self = nullptr;
    WorkerPool pool(worker_threads(options, SIZE_MAX), options.chunk, [&](Scratch& scratch) {
      copy::FileJob job;
      while (files.next(job, true) == copy::FileSource::Pull::job) {
        if (files.ready() > 0) self->grow();
        copy_file_blocking(job, context, options,
                           [&](int src, int dst, const copy::Extent& extent,
                               const copy::FilePlan& plan, copy::FileOutcome& outcome) {
                             transfer_read_write(src, dst, extent, plan, scratch.buffer(),
                                                 context, outcome);
                           });
      }
    });
    self = &pool;
    pool.run();
    note_refused_thread(pool, context);
  }
};

}  // namespace

std::unique_ptr<Engine> make_threads_engine() { return std::make_unique<ThreadsEngine>(); }

}  // namespace ccopy::engines
