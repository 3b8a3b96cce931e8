// The tree library's parallelism: a stack of jobs shared by worker threads, and the threads.
//
// Jobs are taken last-in first-out. A job that lists a directory pushes the jobs for what it
// found, so the newest work is the deepest: the walk proceeds depth first on every thread, and
// the directories held open at any time are about the depth of the tree times the threads, not
// the width of its widest level.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace ccopy::tree {

template <class Job>
class WorkStack {
 public:
  /// Adds a job (dropped once the stack is stopped). May throw std::bad_alloc.
  void push(Job job) {
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
      jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
  }

  /// Waits for a job and takes it; false once there is none left and none running (the work is
  /// done), or once the stack was stopped. Every true must be followed by done().
  bool pop(Job& out) {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [this] { return stopped_ || !jobs_.empty() || active_ == 0; });
    if (stopped_ || jobs_.empty()) return false;
    out = std::move(jobs_.back());
    jobs_.pop_back();
    ++active_;
    return true;
  }

  /// The job taken by the last pop() is finished.
  void done() {
    std::lock_guard lock(mutex_);
    if (--active_ == 0 && jobs_.empty()) wake_.notify_all();
  }

  /// Drops every waiting job and makes every pop() return false.
  void stop() {
    std::vector<Job> dropped;
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      dropped.swap(jobs_);
    }
    wake_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Job> jobs_;
  std::size_t active_ = 0;
  bool stopped_ = false;
};

/// Runs `work` on the calling thread and on up to `threads - 1` more, and returns once all have
/// returned: how many ran it. A thread the system refuses (std::system_error, std::bad_alloc)
/// is not retried; the work goes on with fewer. `work` must not throw.
unsigned run_workers(unsigned threads, const std::function<void()>& work);

}  // namespace ccopy::tree
