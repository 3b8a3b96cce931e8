// The one interface every copy engine implements, and the registry that names them.
//
// An engine creates and fills regular files; everything else a tree copy does (the walk, the
// directories, symlinks, hardlinks, metadata) is the copy path's (ccopy/copy.hpp), shared by every
// engine. The engine pulls files from a FileSource as the walk finds them and runs each through
// the steps of a FileContext (src/copy/context.hpp): open and stat the source, ask the context for
// a plan, create the destination as planned, move the bytes in its own design, let the context
// finish the file (metadata, commit), close both, and report the outcome.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "ccopy/error.hpp"

namespace ccopy {

namespace copy {
class FileSource;
class FileContext;
}  // namespace copy

/// Whether the event-loop engines copy inside the kernel (uring: splice through a pipe; uv:
/// uv_fs_sendfile, which is copy_file_range) instead of reading into a buffer and writing it.
enum class KernelCopy : std::uint8_t {
  automatic,  ///< where it was measured faster (docs/engines.md says where)
  on,         ///< always, for every file
  off         ///< never: read and write through a buffer, the original's design
};

/// "auto", "on" or "off", as the command line spells it.
[[nodiscard]] std::string_view kernel_copy_name(KernelCopy mode);

/// How an engine should copy. Every engine reads the fields that apply to its design and
/// ignores the rest; `describe()` says which ones it used.
struct EngineOptions {
  /// Bytes per read and write.
  std::size_t chunk = 64 * 1024;
  /// Threads engines: most files copied at once; 0 means one thread per waiting file.
  unsigned workers = 0;
  /// Event-loop engines: most files in progress at once (each holds one buffer).
  unsigned inflight = 16;
  /// libuv engine: size of libuv's thread pool; 0 means the engine's default.
  unsigned pool = 0;
  /// io_uring engine: number of rings, one per thread.
  unsigned loops = 1;
  /// Event-loop engines (uring, uv): copy inside the kernel or through a buffer.
  KernelCopy kernel_copy = KernelCopy::automatic;
  /// fdatasync every destination before closing it (inside the timing).
  bool fsync = false;
};

/// A copy engine: one way of creating and filling many files at once.
class Engine {
 public:
  virtual ~Engine() = default;
  Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// The engine's name as the command line spells it ("uring", "threads").
  [[nodiscard]] virtual std::string_view name() const = 0;
  /// What the engine is and its concurrency under `options` for about `file_count` files, for
  /// the output: "io_uring event loop, 16 files in flight".
  [[nodiscard]] virtual std::string describe(const EngineOptions& options,
                                             std::size_t file_count) const = 0;

  /// Copies every file `files` yields, each through `context`, and returns once none is left
  /// and every file it started is done. Never throws; never prints. Whatever the engine could
  /// not start (its ring could not be set up, the system refused its threads) is reported
  /// through the context, and every file it left behind fails with that reason, so that no file
  /// of a run that could not start reads as copied.
  void copy(copy::FileSource& files, copy::FileContext& context, const EngineOptions& options);

 private:
  virtual void run(copy::FileSource& files, copy::FileContext& context,
                   const EngineOptions& options) = 0;
};

/// Whether an engine can run on this machine, and why not.
struct Availability {
  bool available = true;
  std::string reason;  ///< why it is not available ("io_uring_setup: Operation not permitted")
};

/// How an engine holds files open at once: what bounds it under the descriptor limit.
enum class OpenFiles : std::uint8_t {
  per_thread,        ///< a thread per file, or EngineOptions::workers threads
  per_inflight,      ///< EngineOptions::inflight files in one event loop
  rings_with_pipes,  ///< EngineOptions::inflight files in each of EngineOptions::loops rings,
                     ///< each file with a pipe unless kernel copy is off
};

/// Everything the registry knows about one engine.
struct EngineInfo {
  std::string_view name;
  std::string_view summary;  ///< one line for --help
  Availability (*probe)();
  std::unique_ptr<Engine> (*make)();
  OpenFiles open_files;
};

/// Every engine, in the order `all` runs them.
[[nodiscard]] std::span<const EngineInfo> engine_registry();
/// The engine called `name`, or nullptr.
[[nodiscard]] const EngineInfo* find_engine(std::string_view name);

}  // namespace ccopy
