// The benchmark on a thread of its own, so that the menu's thread keeps the terminal: it
// hands over progress and the result under a lock and wakes the menu through a descriptor.
#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include "ccopy/benchmark.hpp"
#include "progress.hpp"

namespace ccopy::cli::menu {

class BenchmarkWorker {
 public:
  /// `wake_fd` is an eventfd the worker adds 1 to after each progress step and at the end.
  explicit BenchmarkWorker(int wake_fd) : wake_fd_(wake_fd) {}
  BenchmarkWorker(const BenchmarkWorker&) = delete;
  BenchmarkWorker& operator=(const BenchmarkWorker&) = delete;
  /// Cancels a run that is going and waits for it, so that its workspace is removed.
  ~BenchmarkWorker();

  /// Starts `config` (its cancel flag and progress callback are the worker's). At most one run
  /// at a time: the previous one's result must have been taken.
  void start(BenchmarkConfig config);
  /// Asks the run to stop at its next check: the runner then removes its files and returns.
  void cancel() { cancel_ = true; }
  /// The latest progress step since the last call, if any.
  [[nodiscard]] std::optional<ProgressState> take_progress();
  /// The result once the run has ended (its thread is then joined), else nothing.
  [[nodiscard]] std::optional<BenchmarkResult> take_result();
  /// Blocks until the run, if any, has ended.
  void wait();

 private:
  void wake() const;

  int wake_fd_;
  std::atomic<bool> cancel_{false};
  std::mutex mutex_;
  std::optional<ProgressState> progress_;
  std::optional<BenchmarkResult> result_;
  std::thread thread_;
};

}  // namespace ccopy::cli::menu
