// What the fault tests share: the engine parameter, a thread-safe fault hook installed for one
// scope, a descriptor count, checks of what a copy's result says about a tree, and a way to run
// a copy in a child process whose limits, credentials or mounts may be changed without touching
// the test process.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ccopy/copy.hpp"
#include "ccopy/engine.hpp"
#include "sys/sys.hpp"
#include "test_dir.hpp"
#include "tree_fixture.hpp"

namespace ccopy::testing {

/// Every engine in the registry, by name.
std::vector<std::string> every_engine();

/// A fresh instance of the named engine, or nullptr when it cannot run here. For uv, libuv's
/// process-wide descriptors are made first, so that they are not counted as a copy's leak.
std::unique_ptr<Engine> make_engine_or_skip(const std::string& name);

/// Installs a fault hook for the lifetime of the object and removes it afterwards.
class ScopedFaultHook {
 public:
  ScopedFaultHook(sys::FaultHook hook, void* context) { sys::set_fault_hook(hook, context); }
  ~ScopedFaultHook() { sys::set_fault_hook(nullptr, nullptr); }
  ScopedFaultHook(const ScopedFaultHook&) = delete;
  ScopedFaultHook& operator=(const ScopedFaultHook&) = delete;
};

/// True for the operations that move file data (read, write, copy_file_range, splice).
bool moves_data(sys::Op op);

/// The regular files of the tree at `root`, as paths below it ("a/b"), sorted.
std::vector<std::string> files_below(const std::string& root);

/// What the seam fault tests start from: an engine that can run here, and a copy under a fault
/// hook after which every file must have copied and verified.
class EngineUnderFaults {
 protected:
  /// Makes engine `name`; the calling test is skipped when the engine cannot run here. `seed`
  /// is the generated trees' data.
  void start(const std::string& name, std::uint64_t seed);
  /// A flat tree of `count` files of `size` bytes, generated.
  [[nodiscard]] std::unique_ptr<TreeFixture> generate(std::uint64_t count,
                                                      std::uint64_t size) const;
  /// Copies `tree` with `hook` installed and checks that no descriptor leaked, nothing failed,
  /// every file counts all its bytes, and the copy verifies entry by entry.
  CopyResult expect_verified_copy(const TreeFixture& tree, sys::FaultHook hook, void* context,
                                  const EngineOptions& options,
                                  const CopyOptions& copy = benchmark_options());

  std::unique_ptr<Engine> engine_;
  std::uint64_t seed_ = 0;
};

/// Checks what a copy that stopped or failed part-way may leave: every file of the source
/// (`source`, a directory) that is in the copy (`destination`) is complete and verifies,
/// there are as many as the result counts as copied, and every one that is missing is named
/// by an error unless the copy stopped (fatal or cancelled). Every error names an entry of
/// the source tree. Returns the files found in the copy.
std::size_t expect_honest_result(const std::string& source, const std::string& destination,
                                 const CopyResult& result);

/// One error of a copy, as a child process saw it.
struct ChildError {
  std::string path, destination, operation;
  int code = 0;
  std::string reason;
};

/// One regular file of the source tree, as the child found it after the copy.
struct ChildFile {
  std::string path;       ///< below the source root
  bool copied = false;    ///< in the copy
  bool verified = false;  ///< in the copy and identical to its source
};

/// What a child process reported: `skip` is a reason to skip, else the copy's result.
struct ChildReport {
  std::string skip;
  std::string fatal;  ///< the fatal error's message, empty when there was none
  int fatal_code = 0;
  bool cancelled = false;
  std::uint64_t files_copied = 0;
  std::uint64_t failed = 0;
  std::vector<ChildError> errors;
  std::vector<std::string> notes;
  std::vector<ChildFile> files;
  std::vector<std::string> extra;  ///< regular files of the copy that the source lacks
  long descriptors_leaked = 0;
  bool exited_cleanly = false;
  /// The errors with errno `code`.
  [[nodiscard]] std::size_t failed_with(int code) const;
  /// The error naming the source file `path` (below the source root), or nullptr.
  [[nodiscard]] const ChildError* error_of(const std::string& source_root,
                                           const std::string& path) const;
};

/// Forks; the child runs `prepare` (which returns a skip reason or an empty string), copies
/// `source` to `destination` with `engine` under `options`, runs `after_copy`, looks at every
/// regular file of the source in the copy and reports. Used for faults that need a lowered
/// limit, another user, or a private mount.
ChildReport copy_in_child(Engine& engine, const std::string& source, const std::string& destination,
                          const EngineOptions& options, const std::function<std::string()>& prepare,
                          const std::function<void()>& after_copy = {});

/// expect_honest_result() for what a child reported; also that it exited cleanly and leaked no
/// descriptor.
void expect_honest(const std::string& source, const std::string& destination,
                   const ChildReport& report);

}  // namespace ccopy::testing
