// What the fault tests share: the engine parameter, a thread-safe fault hook installed for
// one scope, a descriptor count, and a way to run a piece of a test in a child process whose
// limits, credentials or mounts may be changed without touching the test process.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "ccopy/engine.hpp"
#include "ccopy/fileset.hpp"
#include "sys/sys.hpp"
#include "test_dir.hpp"

namespace ccopy::testing {

/// Every engine in the registry, by name.
std::vector<std::string> every_engine();

/// Skips the test unless the named engine can run here; returns a fresh instance otherwise.
std::unique_ptr<Engine> make_engine_or_skip(const std::string& name);

/// Installs a fault hook for the lifetime of the object and removes it afterwards.
class ScopedFaultHook {
 public:
  ScopedFaultHook(sys::FaultHook hook, void* context) { sys::set_fault_hook(hook, context); }
  ~ScopedFaultHook() { sys::set_fault_hook(nullptr, nullptr); }
  ScopedFaultHook(const ScopedFaultHook&) = delete;
  ScopedFaultHook& operator=(const ScopedFaultHook&) = delete;
};

/// What the seam fault tests start from: an engine that can run here, a fresh workspace, and a
/// copy under a fault hook after which every file must have copied and verified.
class EngineUnderFaults {
 protected:
  /// Makes engine `name` and the workspace; the calling test is skipped when the engine cannot
  /// run here. `seed` is the generated data's.
  void start(const std::string& name, std::uint64_t seed);
  /// Plans `count` files of `size` bytes in the workspace and generates them.
  std::vector<CopyJob> generate(std::size_t count, std::uint64_t size);
  /// Copies `jobs` with `hook` installed and checks that no descriptor leaked, no file failed,
  /// every file counts all its bytes, and every copy verifies byte for byte.
  CopyReport expect_verified_copies(const std::vector<CopyJob>& jobs, sys::FaultHook hook,
                                    void* context, const EngineOptions& options);

  TestDir dir_;
  Workspace workspace_;
  std::unique_ptr<Engine> engine_;

 private:
  std::uint64_t seed_ = 0;
};

/// True for the operations that move file data (read, write, copy_file_range, splice).
bool moves_data(sys::Op op);

/// The number of descriptors this process has open.
long open_descriptors();

/// One file's outcome as a child process saw it, with its verification.
struct ChildFile {
  int code = 0;
  std::string message;  ///< the error's message, empty when the copy succeeded
  bool verified = false;
};

/// What a child process reported: `skip` is a reason to skip, else one entry per job and an
/// engine error.
struct ChildReport {
  std::string skip;
  std::string engine_error;
  std::vector<ChildFile> files;
  long descriptors_leaked = 0;
  bool exited_cleanly = false;
};

/// Forks; the child runs `prepare` (which returns a skip reason or an empty string), copies
/// `jobs` with `engine` under `options`, runs `after_copy`, verifies every copy and reports.
/// Used for faults that need a lowered limit, another user, or a private mount.
ChildReport copy_in_child(Engine& engine, const std::vector<CopyJob>& jobs,
                          const EngineOptions& options, const std::function<std::string()>& prepare,
                          const std::function<void()>& after_copy = {});

/// Checks what every fault test demands of a copy report: each failed file's message names
/// that file, no file that failed is counted as copied, and every file reported as copied
/// verifies byte for byte.
void expect_honest(const std::vector<CopyJob>& jobs, const ChildReport& report);

}  // namespace ccopy::testing
