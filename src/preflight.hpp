// Checks made before a benchmark writes anything: is there room on disk for it, and how many
// files may be open at once under the descriptor limit. Both are pure functions of what the
// system reports, so that tests can give them any figures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "ccopy/benchmark.hpp"
#include "ccopy/engine.hpp"
#include "ccopy/error.hpp"
#include "sys/sys.hpp"

namespace ccopy {

/// What a run needs on the file system of its directory.
struct SpaceNeeded {
  std::uint64_t bytes = 0;   ///< every file rounded up to whole blocks, sources and copies
  std::uint64_t inodes = 0;  ///< every source, every copy, and the workspace's directories
  /// What `bytes` counts, for the message when it does not fit.
  std::string what = "the source files, one copy and their metadata";
};

/// The room needed by `scenarios`: one scenario's sources and one destination set at a time,
/// or all of them at once when `keep` leaves every scenario's files on disk.
[[nodiscard]] SpaceNeeded space_needed(std::span<const Scenario> scenarios, bool keep,
                                       std::uint64_t block_size);

/// An error naming `directory`, what is needed and what is free, when `space` cannot hold
/// `needed`; an empty Error otherwise. Sizes are rounded as format_bytes() rounds them, with the
/// exact bytes beside both when the two would read the same. A file system without a size
/// (`available_bytes` -1: ramfs) is not refused for its bytes.
[[nodiscard]] Error check_space(const std::string& directory, const SpaceNeeded& needed,
                                const sys::FilesystemSpace& space);

/// Descriptors kept free for what runs beside the copies: the ring or event loop itself,
/// verification threads, generation threads, the report and the standard streams.
inline constexpr long kReservedDescriptors = 64;

/// Which kinds of engine a run holds (EngineInfo::open_files): only their options are bounded.
/// The default, every kind, is the conservative bound.
struct DescriptorHolders {
  bool threads = true;  ///< a thread engine: EngineOptions::workers
  bool loops = true;    ///< an event loop: EngineOptions::inflight files each
  bool rings = true;    ///< io_uring loops, -loops of them, each with a pipe per file in flight
};

/// The options an engine runs with under the descriptor limit.
struct DescriptorBound {
  EngineOptions options;  ///< `requested`, with workers and in-flight files bounded
  std::string note;       ///< what was bounded and why, for the output; empty when nothing was
  /// Set when not even one file can be copied at a time (one per thread, or one in flight per
  /// event loop with its pipe); it says what limit would let the run start.
  Error error;
};

/// Bounds the files open at once (two descriptors each: source and destination) so that a run
/// of `files` files never fails halfway with EMFILE: `-workers 0` (a thread per file),
/// `-workers` and `-inflight` x `-loops` are each brought down to what `limit` allows once
/// `open_now` descriptors and `kReservedDescriptors` are set aside; only the options of the
/// kinds of engine in `holders` are bounded. When an engine of the run splices through pipes and
/// kernel copy is not off, every in-flight slot of an event loop also counts a pipe (two
/// descriptors).
[[nodiscard]] DescriptorBound bound_by_descriptors(const EngineOptions& requested,
                                                   std::size_t files, long limit, long open_now,
                                                   DescriptorHolders holders = {});

}  // namespace ccopy
