// Trees: the unit of work. A generated tree is planned first as a Manifest (so that its size is
// known before anything is written), then written; any tree on disk, generated or the user's, can
// be described (counted and measured) and two trees compared entry by entry.
//
// Every function here reaches entries relative to directory descriptors (openat and friends),
// never by whole paths, so a tree deeper than PATH_MAX is handled like any other. None of them
// follows a symbolic link, prints, or throws; they return an Error (ccopy/error.hpp) and stop
// early, with a cancelled Error, once the `cancel` flag they were given is set.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ccopy/error.hpp"

namespace ccopy {

/// The shapes `-tree` generates.
enum class Shape : std::uint8_t {
  flat,          ///< N files of one size in one directory: the original's scenarios
  linux,         ///< shaped like the Linux 6.1 source tree
  node_modules,  ///< an npm dependency tree
  impressions,   ///< Agrawal et al., FAST 2009: the generative model of file-system images
  photos,        ///< a photo library: a dozen dated directories of 2 to 6 MiB files
  mixed,         ///< every kind of entry a copier must handle, small: the engines' test tree
};

/// What a shape is, for --help, docs/trees.md and the space check. The counts are those of
/// scale 1 (for `flat`, of its default 50 x 1 MiB).
struct ShapeInfo {
  Shape shape;
  std::string_view name;      ///< as -tree spells it: "linux"
  std::string_view summary;   ///< one line: "shaped like the Linux 6.1 source tree"
  std::uint64_t files;        ///< regular files at scale 1
  std::uint64_t directories;  ///< directories at scale 1, the root included
  std::uint64_t symlinks;     ///< symbolic links at scale 1
  std::uint64_t bytes;        ///< bytes of file data at scale 1 (approximate for random shapes)
};

/// Every shape, in the order --help lists them.
[[nodiscard]] std::span<const ShapeInfo> shapes();
/// The shape called `name`, or nullptr.
[[nodiscard]] const ShapeInfo* find_shape(std::string_view name);

/// Everything that decides a generated tree: the same recipe always gives the same tree, name
/// for name and byte for byte.
struct TreeRecipe {
  Shape shape = Shape::flat;
  /// Multiplies the counts of a shape (files, directories, links); the distributions stay, and
  /// every kind of entry the shape has at scale 1 keeps at least one. Not used by `flat` (whose
  /// counts are `files` and `file_size`) nor by `mixed` (a fixed test tree). plan_tree accepts
  /// 0.001 to 100 (a manifest costs about 50 bytes per entry: `linux` at 10 is 860,000 entries).
  double scale = 1.0;
  std::uint64_t files = 50;           ///< `flat` only
  std::uint64_t file_size = 1 << 20;  ///< `flat` only
  std::uint64_t seed = 24301;
};

/// The kinds of entry a tree holds.
enum class EntryKind : std::uint8_t {
  directory,
  regular,
  symlink,
  hardlink,  ///< another name of an earlier regular entry (ManifestEntry::target)
  fifo,
};

/// Where a regular file's data lies. Every layout but `none` leaves holes: ranges of the file
/// that are never written, so a file system that supports holes allocates nothing for them.
/// `data_extents()` gives the exact ranges.
enum class Holes : std::uint8_t {
  none,    ///< data from 0 to size: an ordinary file
  start,   ///< a hole first, then `data` bytes up to the end
  middle,  ///< data at the start and at the end (half of `data` each), a hole between
  end,     ///< `data` bytes first, then a hole up to `size`
  all,     ///< no data at all (`data` is 0): one hole of `size` bytes
};

/// One entry of a planned tree. Compact on purpose: a million entries cost tens of MiB.
struct ManifestEntry {
  std::uint32_t parent = 0;       ///< index of its directory; the root (index 0) is its own
  std::uint32_t name_offset = 0;  ///< into Manifest::names (symlinks: the target follows the name)
  std::uint16_t name_length = 0;
  std::uint16_t target_length = 0;  ///< symlinks: bytes of the target after the name
  EntryKind kind = EntryKind::regular;
  Holes holes = Holes::none;  ///< regular: where `data` lies within `size`
  std::uint16_t mode = 0644;  ///< permission bits (07777)
  std::uint64_t size = 0;     ///< regular: apparent size in bytes
  std::uint64_t data = 0;     ///< regular: bytes of data (less than size for a sparse file)
  std::uint32_t target = 0;   ///< hardlink: index of the regular entry it names again
};

/// A range of a regular file's bytes.
struct Extent {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};
/// The ranges of `e` that hold data, in increasing order (at most two; none for `Holes::all`
/// or an empty file). Their lengths add up to `e.data`; what they leave out are holes.
struct DataExtents {
  Extent extent[2];
  unsigned count = 0;
};
[[nodiscard]] DataExtents data_extents(const ManifestEntry& e);

/// A planned tree: entries in an order where every directory comes before what it holds.
struct Manifest {
  std::vector<ManifestEntry> entries;  ///< entries[0] is the root directory
  std::string names;                   ///< every name (and symlink target), back to back

  [[nodiscard]] std::string_view name(const ManifestEntry& e) const;
  [[nodiscard]] std::string_view symlink_target(const ManifestEntry& e) const;
  /// The entry's path below the root ("a/b/c"), for messages and tests.
  [[nodiscard]] std::string path(std::size_t index) const;
};

/// Plans the tree `recipe` describes, without touching the disk.
[[nodiscard]] Error plan_tree(const TreeRecipe& recipe, Manifest& out);

/// What writing or copying a tree allocates on a file system with `block_size` blocks: the data
/// of every file rounded up to blocks, a block per directory and per symlink, and one inode per
/// entry (hardlinks take none).
struct Footprint {
  std::uint64_t bytes = 0;
  std::uint64_t inodes = 0;
};
[[nodiscard]] Footprint footprint(const Manifest& manifest, std::uint64_t block_size);

/// Writes `manifest` into the existing, empty directory `root_fd` (the root entry is that
/// directory, whose own mode is left as it is): file data pseudo-random from `seed` (each file
/// its own stream), sparse files with real holes, directories given their modes once their
/// contents are written. Uses up to `threads` threads (fewer when the system refuses more). A
/// write the file system refuses (ENOSPC, EFBIG) is an Error naming the file: its path in the
/// tree, after `root_path` and a slash when `root_path` is given (the root's path, for messages).
[[nodiscard]] Error write_tree(const Manifest& manifest, int root_fd, std::uint64_t seed,
                               unsigned threads, const std::atomic<bool>* cancel,
                               const std::string& root_path = {});

/// A description of a tree on disk, for the report's header: what was copied.
struct TreeSummary {
  std::uint64_t files = 0;        ///< regular files, counting each inode once
  std::uint64_t directories = 0;  ///< the root included
  std::uint64_t symlinks = 0;
  std::uint64_t hardlinks = 0;     ///< extra names of a regular file already counted
  std::uint64_t specials = 0;      ///< FIFOs, sockets, devices
  std::uint64_t bytes = 0;         ///< apparent bytes of the regular files (each inode once)
  std::uint64_t allocated = 0;     ///< bytes their blocks take (st_blocks x 512)
  std::uint64_t sparse_files = 0;  ///< files with fewer blocks than their size needs
  std::uint64_t size_median = 0, size_p90 = 0, size_p99 = 0, size_max = 0;
  unsigned max_depth = 0;  ///< deepest entry below the root (its children are at 1)
  /// Entries that could not be read (a directory that cannot be opened, a file that cannot be
  /// opened for reading): their paths below the root, as found; they are left out of the counts,
  /// the copy and the verification.
  std::vector<std::string> unreadable;

  /// Entries of every kind: files + directories + symlinks + hardlinks + specials.
  [[nodiscard]] std::uint64_t entries() const;
};

/// Walks the tree at `root_fd` (reading only: O_NOATIME where the system allows it) and
/// describes it. Each unreadable entry is recorded in `out.unreadable`, not an Error; an Error
/// means the walk itself could not go on (the root cannot be read, memory ran out).
[[nodiscard]] Error describe_tree(int root_fd, TreeSummary& out,
                                  const std::atomic<bool>* cancel = nullptr);

/// What verify_tree checks beyond names, types and bytes (always checked).
struct VerifyOptions {
  bool mode = true;        ///< permission bits of every entry but symlinks
  bool links = true;       ///< hardlink groups: names of one inode stay one inode
  bool holes = true;       ///< a copy allocates no more blocks than its source (sparse files)
  bool times = false;      ///< modification times, to the nanosecond (cp -a)
  bool ownership = false;  ///< owner and group
  bool xattrs = false;     ///< extended attributes, names and values
  /// Paths below the source root to leave out (TreeSummary::unreadable): in neither tree.
  std::vector<std::string> skip;
  /// Entries of the copy that the source lacks are not differences (a copy merged into a
  /// directory that held other files).
  bool extra_allowed = false;
  /// verify_copy(): a root that is a symlink is followed (cp -L, -H).
  bool follow_root = false;
  unsigned threads = 2;
  /// One share of a verification that several processes make together (concurrent_copy_mpi's
  /// ranks): with `parts` > 1, every part lists and stats both whole trees, but compares the
  /// contents (bytes, symlink targets, extended attributes) and counts the entries and
  /// differences of only the entries whose path falls to `part` (by a hash of the path); part 0
  /// checks the hardlink groups. merge_verdicts() of the parts' results is the result of one
  /// whole verification.
  unsigned part = 0;
  unsigned parts = 1;
};

/// The verdict on one tree against another.
struct VerifyResult {
  std::uint64_t entries = 0;      ///< entries compared
  std::uint64_t bytes = 0;        ///< bytes of file data compared
  std::uint64_t differences = 0;  ///< entries that differ
  /// The first difference found, as "PATH: WHAT" ("a/b: byte 4096 differs", "a/c: missing in the
  /// copy", "a/d: a symlink in the source, a regular file in the copy"); empty when none.
  std::string first;
  /// Where `first` is in the trees' order (its path below the roots): what merge_verdicts()
  /// ranks the parts' first differences by.
  std::string first_path;
  [[nodiscard]] bool ok() const { return differences == 0; }
};

/// The verdicts of the parts of one verification (VerifyOptions::parts), as one: counts
/// summed, and the first difference in the trees' order (the lowest part's on a tie).
[[nodiscard]] VerifyResult merge_verdicts(const std::vector<VerifyResult>& parts);

/// Compares the copy at `copy_fd` with the source at `source_fd`: the same set of names in every
/// directory, the same kind for each, the bytes of every file, symlink targets, and what
/// `options` asks. The roots themselves are not compared, only what they hold. An Error means
/// the comparison could not be made (an entry of either tree could not be read); a difference
/// is not an Error but part of the result.
[[nodiscard]] Error verify_tree(int source_fd, int copy_fd, const VerifyOptions& options,
                                VerifyResult& out, const std::atomic<bool>* cancel = nullptr);

/// verify_tree() for one copied entry of any kind, by path: two trees when `source` is a
/// directory, else the two entries themselves (bytes and what `options` asks of a file, the
/// target of a symlink, the kind of a special file).
[[nodiscard]] Error verify_copy(const std::string& source, const std::string& copy,
                                const VerifyOptions& options, VerifyResult& out,
                                const std::atomic<bool>* cancel = nullptr);

/// Drops the data of every regular file of the tree at `root_fd` from the page cache
/// (POSIX_FADV_DONTNEED), for cold-cache runs; the caller syncs the file system first. Metadata
/// (inodes, dentries) stays cached: only unmounting drops it.
[[nodiscard]] Error evict_tree(int root_fd);

/// Removes the entry `name` in the directory `parent_fd`, and everything below it when it is a
/// directory (however deep: relative to descriptors), on up to `threads` threads. Directories
/// without write or search permission are made removable first. A name that does not exist is
/// not an error.
[[nodiscard]] Error remove_tree(int parent_fd, const char* name, unsigned threads = 2);

}  // namespace ccopy
