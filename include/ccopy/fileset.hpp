// The benchmark's files: a private workspace with a source tree of random files and a
// destination directory that is emptied before every run.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ccopy/engine.hpp"
#include "ccopy/error.hpp"

namespace ccopy {

/// A private directory `<parent>/concurrent_copy.XXXXXX` holding `src/` and `dst/`.
/// Removes everything below its root when destroyed, unless `keep()` was called.
class Workspace {
 public:
  /// Creates the directory and its `src/` and `dst/` below `parent`.
  [[nodiscard]] static Error create(const std::string& parent, Workspace& out);

  Workspace() = default;
  Workspace(Workspace&& other) noexcept;
  Workspace& operator=(Workspace&& other) noexcept;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  ~Workspace();

  [[nodiscard]] const std::string& root() const { return root_; }
  [[nodiscard]] std::string source_dir() const { return root_ + "/src"; }
  [[nodiscard]] std::string destination_dir() const { return root_ + "/dst"; }

  /// Leaves the files on disk when the workspace is destroyed.
  void keep() { keep_ = true; }
  /// Removes the whole workspace now; safe to call twice.
  [[nodiscard]] Error remove();
  /// Removes every file in `dst/` and creates it anew, empty.
  [[nodiscard]] Error reset_destination() const;
  /// Removes every file in `src/` (the next scenario generates its own).
  [[nodiscard]] Error reset_source() const;

 private:
  std::string root_;
  bool keep_ = false;
};

/// The jobs for `count` files of `size` bytes named `file_000000`... in `src/` and `dst/`.
[[nodiscard]] std::vector<CopyJob> plan_jobs(const Workspace& workspace, std::size_t count,
                                             std::uint64_t size);

/// Writes every job's source file with pseudo-random bytes: each file differs from every other
/// (the seed and the file's index choose its stream). Stops early, with an error, when
/// `cancel` becomes true.
[[nodiscard]] Error generate_sources(const std::vector<CopyJob>& jobs, std::uint64_t seed,
                                     const std::atomic<bool>* cancel = nullptr);

}  // namespace ccopy
