// The one interface every copy engine implements, and the registry that names them.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ccopy/error.hpp"

namespace ccopy {

/// One file to copy: from `source` to `destination`, which must not exist yet.
/// `size` is the source's size when the job was planned: engines copy exactly that many bytes
/// and report an error when the source ends sooner (it was truncated after planning). A source
/// that grew is copied short, and verification says so.
struct CopyJob {
  std::string source;
  std::string destination;
  std::uint64_t size = 0;
};

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
  /// Threads engines: most files copied at once; 0 means one thread per file.
  unsigned workers = 0;
  /// Event-loop engines: most files in progress at once (each holds one buffer).
  unsigned inflight = 16;
  /// libuv engine: size of libuv's thread pool; 0 means libuv's own default.
  unsigned pool = 0;
  /// io_uring engine: number of rings, one per thread.
  unsigned loops = 1;
  /// Event-loop engines (uring, uv): copy inside the kernel or through a buffer.
  KernelCopy kernel_copy = KernelCopy::automatic;
  /// fdatasync every destination before closing it (inside the timing).
  bool fsync = false;
  /// When set and it becomes true, engines stop starting new work, finish or cancel what is
  /// in flight, close every descriptor and return with `cancelled` set.
  const std::atomic<bool>* cancel = nullptr;
};

/// What happened to one file.
struct FileOutcome {
  Error error;                 ///< empty when the copy succeeded
  std::uint64_t bytes = 0;     ///< bytes written to the destination
  std::int64_t latency_ns = 0; ///< from the start of opening the source to the last close
  bool attempted = false;      ///< false when the run was cancelled before this file started
};

/// What one engine run produced. `files[i]` belongs to `jobs[i]`.
struct CopyReport {
  std::vector<FileOutcome> files;
  /// An error that stopped the engine as a whole (a ring that could not be set up, a thread
  /// the system refused), as opposed to one file's failure.
  Error engine_error;
  bool cancelled = false;
  /// Notes the user should see about how the run went ("fell back to read/write: EXDEV").
  std::vector<std::string> notes;

  /// The first file error, or the engine error, or an empty Error when all went well.
  [[nodiscard]] Error first_error() const;
  [[nodiscard]] std::size_t failed_count() const;
};

/// A copy engine: one way of copying many files at once.
class Engine {
 public:
  virtual ~Engine() = default;
  Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// The engine's name as the command line spells it ("uring", "threads").
  [[nodiscard]] virtual std::string_view name() const = 0;
  /// What the engine is and its concurrency under `options`, for the output:
  /// "io_uring event loop, 16 files in flight".
  [[nodiscard]] virtual std::string describe(const EngineOptions& options,
                                             std::size_t file_count) const = 0;
  /// Copies every job and reports each file's outcome. Never throws; never prints.
  virtual CopyReport copy(std::span<const CopyJob> jobs, const EngineOptions& options) = 0;
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
