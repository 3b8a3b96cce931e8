#include "preflight.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <vector>

#include "ccopy/size.hpp"
#include "engines/blocking.hpp"

namespace ccopy {
namespace {

std::uint64_t round_up(std::uint64_t bytes, std::uint64_t block) {
  return block == 0 ? bytes : (bytes + block - 1) / block * block;
}

// "2.0 MiB", or "2.0 MiB (2101248 bytes)" when `other`, the figure it is compared with, rounds
// to the same text: "needs 2.0 MiB, 2.0 MiB free" would hide why the run was refused.
std::string readable_bytes(std::uint64_t bytes, std::uint64_t other) {
  const std::string text = format_bytes(bytes);
  if (bytes < 1024 || text != format_bytes(other)) return text;
  return fmt::format("{} ({} bytes)", text, bytes);
}

// The fewest spare descriptors a run can copy with: one file at a time on a thread (its source
// and destination), and one file in flight in each event loop, with its pipe when the loop may
// splice.
std::size_t minimum_spare(const EngineOptions& requested, std::size_t files,
                          DescriptorHolders holders) {
  std::size_t minimum = holders.threads ? 2 : 0;
  if (holders.loops) {
    const bool pipes = holders.rings && requested.kernel_copy != KernelCopy::off;
    const std::size_t loops = holders.rings ? std::max(1u, requested.loops) : 1;
    minimum = std::max(minimum, 2 * std::min(files, loops) + (pipes ? 2 * loops : 0));
  }
  return std::max<std::size_t>(minimum, 2);
}

}  // namespace

SpaceNeeded space_needed(std::span<const Scenario> scenarios, bool keep, std::uint64_t block_size) {
  SpaceNeeded total, largest;
  for (const Scenario& s : scenarios) {
    // Two copies of every file (source and destination), each taking whole blocks, and one
    // block per file for its directory entry; the workspace holds three directories.
    const std::uint64_t per_file = 2 * round_up(s.size, block_size) + block_size;
    const SpaceNeeded one{s.files * per_file + 3 * block_size, 2 * s.files + 3};
    total.bytes += one.bytes;
    total.inodes += one.inodes;
    largest.bytes = std::max(largest.bytes, one.bytes);
    largest.inodes = std::max(largest.inodes, one.inodes);
  }
  return keep ? total : largest;
}

Error check_space(const std::string& directory, const SpaceNeeded& needed,
                  const sys::FilesystemSpace& space) {
  // A file system with no size (ramfs) grows until memory runs out: nothing to check here.
  if (space.available_bytes >= 0) {
    const auto free_bytes = static_cast<std::uint64_t>(space.available_bytes);
    if (needed.bytes > free_bytes)
      return Error::failure(
          fmt::format("not enough space in {}: the run needs {} ({}), {} free", directory,
                      readable_bytes(needed.bytes, free_bytes), needed.what,
                      readable_bytes(free_bytes, needed.bytes)));
  }
  if (space.available_inodes >= 0 &&
      needed.inodes > static_cast<std::uint64_t>(space.available_inodes))
    return Error::failure(
        fmt::format("not enough inodes in {}: the run creates {} files and directories, "
                    "{} can still be created",
                    directory, needed.inodes, space.available_inodes));
  return {};
}

DescriptorBound bound_by_descriptors(const EngineOptions& requested, std::size_t files, long limit,
                                     long open_now, DescriptorHolders holders) {
  DescriptorBound bound;
  bound.options = requested;
  const long spare = limit - std::max(0L, open_now) - kReservedDescriptors;
  const std::size_t minimum = minimum_spare(requested, files, holders);
  if (spare < static_cast<long>(minimum)) {
    const long enough = std::max(0L, open_now) + kReservedDescriptors + static_cast<long>(minimum);
    bound.error = Error::failure(
        fmt::format("the open-file limit ({}) leaves no room to copy: {} descriptors are open, "
                    "{} are kept for the benchmark itself and copying needs {} more; raise it "
                    "to at least {} with 'ulimit -n {}'",
                    limit, open_now, kReservedDescriptors, minimum, enough, enough));
    return bound;
  }
  const auto at_once = static_cast<std::size_t>(spare / 2);
  std::vector<std::string> changes;
  // The threads the thread engines would run at once (a thread per file is bounded by its
  // buffer budget).
  const std::size_t workers = engines::worker_threads(requested, files);
  if (holders.threads && files > at_once && workers > at_once) {
    bound.options.workers = static_cast<unsigned>(at_once);
    changes.push_back(fmt::format("-workers {}", at_once));
  }
  // The io_uring engine runs -loops rings, and one that may splice (kernel copy) also holds a
  // pipe, two more descriptors, per file it keeps in flight, whether or not that many files are
  // left. Every loop of the run gets the same -inflight, so the strictest bound applies to all.
  const bool pipes = holders.rings && requested.kernel_copy != KernelCopy::off;
  const unsigned loops = holders.rings ? std::max(1u, requested.loops) : 1u;
  const std::size_t loop_slots = std::size_t{requested.inflight} * loops;
  const std::size_t needed = 2 * std::min(files, loop_slots) + (pipes ? 2 * loop_slots : 0);
  if (holders.loops && needed > static_cast<std::size_t>(spare)) {
    const std::size_t per_slot = pipes ? 4 : 2;
    bound.options.inflight = static_cast<unsigned>(
        std::max<std::size_t>(1, static_cast<std::size_t>(spare) / per_slot / loops));
    changes.push_back(fmt::format("-inflight {}", bound.options.inflight));
  }
  if (!changes.empty())
    bound.note = fmt::format(
        "the open-file limit ({}) allows {} files open at once (2 descriptors each): copying at "
        "most {} at a time ({}){}",
        limit, at_once, at_once, fmt::join(changes, ", "),
        pipes && bound.options.inflight != requested.inflight
            ? "; an event loop that may splice holds 4 descriptors per file in flight (a "
              "pipe's two ends besides the files)"
            : "");
  return bound;
}

}  // namespace ccopy
