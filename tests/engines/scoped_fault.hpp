// Helpers for engine-specific tests: a fault hook installed for one scope, a workspace of
// generated sources, and a count of this process's open descriptors.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>

#include "ccopy/fileset.hpp"
#include "sys/sys.hpp"
#include "test_dir.hpp"

namespace ccopy::testing {

/// Passes every syscall result through `filter` until destroyed. `filter` is called from every
/// engine thread at once and must be thread-safe.
class ScopedFault {
 public:
  using Filter = std::function<long(sys::Op op, long result)>;
  explicit ScopedFault(Filter filter) : filter_(std::move(filter)) {
    sys::set_fault_hook(&ScopedFault::call, this);
  }
  ~ScopedFault() { sys::set_fault_hook(nullptr, nullptr); }
  ScopedFault(const ScopedFault&) = delete;
  ScopedFault& operator=(const ScopedFault&) = delete;

 private:
  static long call(sys::Op op, long result, void* self) {
    return static_cast<ScopedFault*>(self)->filter_(op, result);
  }
  Filter filter_;
};

/// How many descriptors this process holds open now.
inline std::size_t open_descriptors() { return entries_in("/proc/self/fd"); }

/// A workspace in a fresh test directory, with `count` generated sources of `size` bytes.
class GeneratedFiles {
 public:
  GeneratedFiles(std::size_t count, std::uint64_t size) {
    ok_ = dir_.ok() && !Workspace::create(dir_.path(), workspace_);
    if (!ok_) return;
    jobs_ = plan_jobs(workspace_, count, size);
    ok_ = !generate_sources(jobs_, 7);
  }
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] const std::vector<CopyJob>& jobs() const { return jobs_; }
  /// Empties the destination for another run.
  [[nodiscard]] bool reset() const { return !workspace_.reset_destination(); }

 private:
  TestDir dir_;
  Workspace workspace_;
  std::vector<CopyJob> jobs_;
  bool ok_ = false;
};

}  // namespace ccopy::testing
