#include "menu_worker.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <exception>
#include <utility>

namespace ccopy::cli::menu {

BenchmarkWorker::~BenchmarkWorker() {
  cancel();
  wait();
}

void BenchmarkWorker::start(BenchmarkConfig config) {
  wait();
  cancel_ = false;
  {
    std::lock_guard lock(mutex_);
    progress_.reset();
    result_.reset();
  }
  thread_ = std::thread([this, config = std::move(config)] {
    BenchmarkHooks hooks;
    hooks.cancel = &cancel_;
    hooks.progress = [this](const ProgressEvent& event) {
      {
        std::lock_guard lock(mutex_);
        progress_ = ProgressState::from(event);
      }
      wake();
    };
    BenchmarkResult result;
    try {
      result = run_benchmark(config, hooks);
    } catch (const std::exception& e) {
      // run_benchmark does not throw; an allocation failure still must not kill the menu
      // with the terminal in raw mode.
      result.config = config;
      result.setup_error = Error::failure(e.what());
    }
    {
      std::lock_guard lock(mutex_);
      result_ = std::move(result);
    }
    wake();
  });
}

std::optional<ProgressState> BenchmarkWorker::take_progress() {
  std::lock_guard lock(mutex_);
  return std::exchange(progress_, std::nullopt);
}

std::optional<BenchmarkResult> BenchmarkWorker::take_result() {
  std::optional<BenchmarkResult> result;
  {
    std::lock_guard lock(mutex_);
    result = std::exchange(result_, std::nullopt);
  }
  if (result && thread_.joinable()) thread_.join();
  return result;
}

void BenchmarkWorker::wait() {
  if (thread_.joinable()) thread_.join();
}

// Retried when a signal interrupts it; EAGAIN (a full counter) needs no retry, since the menu
// is woken by a counter that is not zero.
void BenchmarkWorker::wake() const {
  const std::uint64_t one = 1;
  while (::write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

}  // namespace ccopy::cli::menu
