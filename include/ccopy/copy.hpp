// copy_tree(): the one copy path. The benchmark times it, the copy command runs it with the user's
// options, and every MPI rank runs it on its share. It walks each source root, creates the
// directories, symlinks and special files as the walk finds them, streams the regular files to
// an engine (which creates and fills them in its own design: that is where the engines differ),
// makes hardlinks once their first name is complete, and sets each directory's metadata once
// everything in it is done, deepest first.
//
// Errors of single entries do not stop the copy: each is handed to the observer as it happens and
// counted in the result. What stops it is a cancel request, or a failure that makes going on
// pointless (the destination file system is full).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ccopy/engine.hpp"
#include "ccopy/error.hpp"

namespace ccopy {

/// What a copy keeps of each source entry, beyond its name, kind and bytes.
struct Preserve {
  bool mode = true;         ///< permission bits; without: the source's less the umask, as cp
  bool ownership = false;   ///< owner and group; a refusal (EPERM) is a note, as for cp -a
  bool timestamps = false;  ///< access and modification times, to the nanosecond
  bool xattrs = false;      ///< extended attributes, and with them POSIX ACLs
  bool links = true;        ///< hardlinks: the names of one inode stay one inode
};

/// What to do with a destination name that exists already (not a directory: those are merged).
enum class Overwrite : std::uint8_t {
  replace,  ///< replace it (cp's default), atomically unless CopyOptions::inplace
  never,    ///< keep it (cp -n)
  older,    ///< replace it only when the source is newer (cp -u)
  refuse,   ///< an error (the benchmark, whose destination must be new)
};

/// When to clone a file's extents (FICLONE) instead of copying its bytes.
enum class Reflink : std::uint8_t {
  never,      ///< never: no clone, and no copy_file_range where it could clone (xfs, btrfs)
  /// The benchmark's: each engine its own way. The kernel engine clones first (FICLONE, then
  /// copy_file_range), as its design is the kernel's own copy; the others copy the bytes.
  by_engine,
  automatic,  ///< try, and copy the bytes where the file system cannot (cp 9's default)
  always,     ///< a file that cannot be cloned is an error
};

/// How holes are kept.
enum class Sparse : std::uint8_t {
  never,      ///< holes become written zeros
  automatic,  ///< a sparse source (fewer blocks than its size) keeps its holes (SEEK_DATA)
  always,     ///< also every block of zeros read becomes a hole
};

/// A directory of a source tree, as the processes sharing one copy deal the directories out.
struct SharedDirectory {
  unsigned root = 0;  ///< which of copy_tree()'s roots it is below (an index)
  std::string path;   ///< below that root: "" for the root itself, "a/b" below it
  std::uint64_t entries = 0;  ///< the entries a walk found in it (its share of the work)
  /// When not empty: only these names in it are the walk's (the others were copied already).
  std::vector<std::string> names;
  /// Created by this copy, in a walk level by level (CopyShare::subdirectories): it holds only
  /// what the walk that reads it makes, which need not look for entries there already.
  bool fresh = false;
};

/// Where a walk records, for a later pass, the directories or the names it found. Thread-safe.
class SharedLog {
 public:
  void add(SharedDirectory directory) {
    std::lock_guard lock(mutex_);
    items_.push_back(std::move(directory));
  }
  [[nodiscard]] std::vector<SharedDirectory> take() {
    std::vector<SharedDirectory> taken;
    std::lock_guard lock(mutex_);
    taken.swap(items_);
    return taken;
  }

 private:
  std::mutex mutex_;
  std::vector<SharedDirectory> items_;
};

/// One piece of a large file that several processes copy together (src/dist): the file is
/// `name` in the directory `path` below root `root`, `size` bytes when it was found. Its owner
/// creates the destination and gives it its size (SplitStep::create), every process copies the
/// pieces dealt to it into it (SplitStep::piece), and the owner sets its metadata and gives it
/// its name once every piece is in (SplitStep::commit).
struct SharedPiece {
  unsigned root = 0;
  std::string path;
  std::string name;
  std::uint64_t size = 0;
  std::uint64_t offset = 0;  ///< the piece: bytes [offset, offset + length) of the file
  std::uint64_t length = 0;
  /// From the create step on: the name the owner created the destination under (a temporary
  /// name for an existing file, else the file's own), and how it is committed (copy::Commit).
  std::string into;
  std::uint8_t commit = 0;
  bool failed = false;  ///< the commit step: a piece failed, and what was created is removed
};

/// The step of a split copy a copy_tree() call runs (CopyShare::split).
enum class SplitStep : std::uint8_t {
  none,    ///< no split files: a walk of dealt directories may leave them (CopyShare::large)
  create,  ///< the owner creates each destination in `pieces`, sized, and records its name
  piece,   ///< every process copies the pieces in `pieces` into the destinations created
  commit,  ///< the owner finishes each file in `pieces`: metadata, its name, counted once
};

/// Which of the entries the walk finds this process copies, when several processes copy one tree
/// together (concurrent_copy_mpi, src/dist/). Two ways: every process walks every directory and
/// copies the other entries whose inode falls to its share (`count`), so that all names of one
/// inode (a hardlink group) are copied by one process; or each walks only the `directories` it
/// was dealt. The default copies everything.
struct CopyShare {
  unsigned index = 0;  ///< this process's share, below `count`
  /// Shares the entries are dealt into; 0: none but directories (a pass that only creates
  /// them, or only sets their metadata).
  unsigned count = 1;
  /// Set each directory's metadata once everything in it is done; false leaves it to a later
  /// pass (the other processes may still be writing into it).
  bool directory_metadata = true;
  /// When set, the walk reads only these directories, and none below them (they exist already:
  /// each is some process's to read): a directory root is created or merged into as usual, and
  /// an entry of `names` is taken by its inode (`takes`) whether or not it has several links.
  const std::vector<SharedDirectory>* directories = nullptr;
  /// Whether roots that are not directories are copied (by `takes`); a pass that reads only
  /// whole dealt directories leaves them to the pass that takes the names with several links.
  bool entry_roots = true;
  /// Where the walk records what a later pass needs (null: nothing). Without `directories`: each
  /// directory it read to its end, with its count of entries (not one on another file system
  /// with -x: it is not read). With `directories` whose `names` are empty: each entry that has
  /// several links (with Preserve::links), which it leaves uncopied, so that a later pass copies
  /// each hardlink group by one process.
  SharedLog* log = nullptr;
  /// With `directories` whose names are empty: the walk creates the subdirectories of the
  /// dealt directories (their metadata left for later) and records each here, weighed by the
  /// size of its source directory (a measure of its entries), instead of leaving them alone:
  /// one level of a walk done level by level by all processes.
  SharedLog* subdirectories = nullptr;
  /// With `directories`: the walk only sets the metadata of the dealt directories, reading
  /// none (a level of the directories' metadata, deepest first, once everything is written).
  bool metadata_only = false;
  /// With `log` and `directories` whose names are empty: regular files of more than this many
  /// bytes (0: none) with one link are left uncopied and recorded in `large`, one name each with
  /// its size as `entries`, so that the processes copy them together in pieces of this size.
  std::uint64_t split_size = 0;
  SharedLog* large = nullptr;
  /// A step of copying split files: the walk reads only the files `pieces` names (the
  /// `directories` give their names), one job for each piece, and the steps record what the
  /// next needs in `log` (create: each file's name and the name it was created under, as two
  /// names; piece: each file a piece of which failed; commit: each file committed).
  SplitStep split = SplitStep::none;
  const std::vector<SharedPiece>* pieces = nullptr;  ///< sorted by (root, path, name, offset)
  /// Whether the entry with inode number `inode` is this process's to copy.
  [[nodiscard]] bool takes(std::uint64_t inode) const {
    if (count <= 1) return count == 1;
    std::uint64_t x = inode + 0x9e3779b97f4a7c15ULL;  // splitmix64: strides in inode numbers spread
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return (x ^ (x >> 31)) % count == index;
  }
};

/// How a copy behaves. The defaults are the benchmark's: copy into a new destination, keep modes
/// and hardlinks, nothing else.
struct CopyOptions {
  Preserve preserve;
  Overwrite overwrite = Overwrite::refuse;
  /// Rewrite an existing destination file in place (cp's way) instead of writing the new
  /// content under a temporary name and renaming it over the old one once complete.
  bool inplace = false;
  bool dereference = false;      ///< follow symlinks in the sources (cp -L)
  bool dereference_roots = false;  ///< follow a root that is a symlink, not those below (cp -H)
  bool one_file_system = false;  ///< do not descend into other file systems (cp -x)
  Reflink reflink = Reflink::by_engine;
  Sparse sparse = Sparse::automatic;
  /// Report a source file whose size or modification time changed while it was copied.
  bool detect_changes = false;
  /// Decide and report what would be copied, but create nothing.
  bool dry_run = false;
  /// Tell the observer about every entry copied (cp -v); off, only errors and notes.
  bool report_entries = false;
  /// Keep every file's latency (open to close) in the result, for the benchmark.
  bool record_latencies = false;
  /// The walk stats every regular file it finds, so that CopyProgress knows the bytes to copy
  /// before they are copied (a progress line's total); otherwise the engines stat them.
  bool stat_in_walk = false;
  /// Several processes copying one tree (dist::copy_tree_shared): files of more than this many
  /// bytes are copied in pieces of this size by all of them (0: each file by one process).
  std::uint64_t split_size = 0;
  /// Paths below a source root (as TreeSummary::unreadable lists them) to leave out.
  std::vector<std::string> skip;
  /// This process's share of the entries (several processes copying one tree).
  CopyShare share;
  /// When set and it becomes true, the copy stops: no new entry is started, the files in
  /// progress are abandoned and their partial destinations removed.
  const std::atomic<bool>* cancel = nullptr;
};

/// One source and what it becomes: `destination` is the path the source itself is copied to
/// (the caller resolves cp's "into an existing directory" shapes). A directory source merges
/// into an existing destination directory, as cp does.
struct CopyRoot {
  std::string source;
  std::string destination;
};

/// A failure of one entry: which, what was being done, and why.
struct CopyError {
  std::string path;         ///< the source entry, as its root was given plus the path below it
  std::string destination;  ///< the destination entry, when the failure was on that side
  std::string operation;    ///< "open", "create", "read", "write", "mkdir", "link", ...
  int code = 0;             ///< errno, or 0 with `detail` saying what is wrong
  std::string detail;       ///< what is wrong, in words; beside `code`, what that errno meant
  /// "create 'dst/a': Permission denied", "source changed while it was copied": the reason
  /// part of "cannot copy 'PATH': REASON".
  [[nodiscard]] std::string reason() const;
};

/// The kinds of entry, as the observer and the counts name them.
enum class EntryType : std::uint8_t { directory, file, symlink, hardlink, special };

/// What the observer hears of an entry copied (with CopyOptions::report_entries).
struct CopiedEntry {
  EntryType type = EntryType::file;
  std::string source;
  std::string destination;
  bool reflinked = false;
  bool skipped = false;  ///< kept as it was (-n, -u), or only planned (dry run)
};

/// Told what happens as it happens, from the copy's own threads, several at once: every method
/// must be thread-safe and quick. The default does nothing.
class CopyObserver {
 public:
  virtual ~CopyObserver() = default;
  CopyObserver() = default;
  CopyObserver(const CopyObserver&) = delete;
  CopyObserver& operator=(const CopyObserver&) = delete;

  virtual void copied(const CopiedEntry& entry) { (void)entry; }
  virtual void failed(const CopyError& error) { (void)error; }
  virtual void note(std::string_view text) { (void)text; }
};

/// Counters the copy advances as it goes; any thread may read them at any time (a progress
/// line, an MPI rank's report).
struct CopyProgress {
  std::atomic<std::uint64_t> files_found{0};   ///< regular files the walk has found
  std::atomic<std::uint64_t> bytes_found{0};   ///< their bytes, with CopyOptions::stat_in_walk
  std::atomic<std::uint64_t> entries_done{0};  ///< entries of every kind finished (or failed)
  std::atomic<std::uint64_t> files_done{0};
  std::atomic<std::uint64_t> bytes_done{0};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<bool> walk_done{false};
};

/// Entries copied, by kind.
struct CopyCounts {
  std::uint64_t files = 0;
  std::uint64_t directories = 0;
  std::uint64_t symlinks = 0;
  std::uint64_t hardlinks = 0;
  std::uint64_t specials = 0;
  std::uint64_t bytes = 0;      ///< bytes of file data written or cloned
  std::uint64_t reflinked = 0;  ///< files cloned (FICLONE) rather than copied byte by byte
  std::uint64_t skipped = 0;    ///< destinations kept as they were (-n, -u)
  [[nodiscard]] std::uint64_t entries() const {
    return files + directories + symlinks + hardlinks + specials;
  }
};

/// What a copy did.
struct CopyResult {
  CopyCounts copied;
  std::uint64_t failed = 0;       ///< entries that could not be copied
  /// The first errors, in the order they happened (at most kMaxKeptErrors; `failed` counts all).
  std::vector<CopyError> errors;
  std::vector<std::string> notes;  ///< conditions the user should know, each once
  /// What stopped the copy as a whole: the engine could not start, the destination is full.
  Error fatal;
  bool cancelled = false;
  /// Per-file latency, open to close (CopyOptions::record_latencies).
  std::vector<std::int64_t> latencies_ns;

  static constexpr std::size_t kMaxKeptErrors = 10000;
  [[nodiscard]] bool ok() const { return failed == 0 && !fatal && !cancelled; }
};

/// The engine `--engine auto` picks to copy into `destination` (a path that may not exist yet:
/// its nearest existing parent decides) with `reflink`, and why, for the output. docs/copy.md
/// gives the rule and the measurements behind it.
struct AutoChoice {
  std::string engine;
  std::string reason;
};
[[nodiscard]] AutoChoice choose_engine(const std::string& destination,
                                       Reflink reflink = Reflink::automatic);

/// Copies every root with `engine`. `progress` may be null. Never throws; never prints.
[[nodiscard]] CopyResult copy_tree(const std::vector<CopyRoot>& roots, Engine& engine,
                                   const EngineOptions& engine_options,
                                   const CopyOptions& options, CopyObserver& observer,
                                   CopyProgress* progress = nullptr);

}  // namespace ccopy
