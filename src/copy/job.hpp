// What flows between the copy path and an engine: a FileJob (one regular file to copy, named
// relative to its directory's descriptors), the FilePlan the context makes for it once its
// source is open, and the FileOutcome the engine reports when it is done.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ccopy/copy.hpp"
#include "copy/dir.hpp"

namespace ccopy::copy {

/// One regular file to copy: `name` in the source directory `dir`, to `destination_name()` in
/// the matching destination directory. The job holds its directory open until it is done.
struct FileJob {
  DirRef dir;
  std::string name;
  std::string rename;            ///< the destination's name when it differs (a root file)
  std::uint64_t walk_size = 0;   ///< its size when the walk stat'ed it (CopyOptions::stat_in_walk)
  bool follow = false;           ///< open it following a symlink (cp -L)
  /// In a walk of dealt directories that leaves files to later passes (the names with several
  /// links, CopyShare::log; the files to split, CopyShare::large): the directory it was dealt
  /// in. The walk did not stat the file; plan(), given the engine's fstat, decides.
  const SharedDirectory* dealt_in = nullptr;
  /// A step of a split copy (CopyShare::split): the piece (create, commit: the file) it is.
  const SharedPiece* piece = nullptr;

  [[nodiscard]] int source_dir() const { return dir->source_fd(); }
  [[nodiscard]] int destination_dir() const { return dir->destination_fd(); }
  [[nodiscard]] const char* destination_name() const {
    return rename.empty() ? name.c_str() : rename.c_str();
  }
};

/// A run of file data: bytes [offset, offset + length) of the source.
struct Extent {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

/// How a destination is made: under its name at once, as an unnamed file given its name once
/// complete, or under a temporary name renamed over an existing file once complete.
enum class Commit : std::uint8_t { direct, unnamed, rename, inplace };

/// What the context decided for one file, once its source was opened and stat'ed. The engine
/// reads `action`, the extents, and how to create the destination; the rest is the context's.
struct FilePlan {
  enum class Action : std::uint8_t {
    copy,  ///< create the destination as below and copy the extents
    done,  ///< nothing more for the engine: the file was linked, kept or only planned
  };
  Action action = Action::done;
  std::uint64_t size = 0;       ///< the source's size: the destination's size when done
  std::vector<Extent> extents;  ///< the data to copy, in order; holes between them stay holes
  std::uint64_t data_bytes = 0; ///< the sum of the extents' lengths
  bool zero_blocks_to_holes = false;  ///< Sparse::always: blocks of zeros read are not written
  bool sparse = false;                ///< the destination will have holes: sized before written
  bool try_reflink = false;           ///< clone the whole file first (FileContext::reflink)
  /// Whether the engine may move the bytes with copy_file_range (and libuv's sendfile, which is
  /// copy_file_range first), which clones (shares the extents) wherever the file system can, as
  /// FICLONE does: with a Reflink that allows clones, or onto a file system that cannot share
  /// (tmpfs, ext4). Otherwise the bytes must be copied (cp 9 avoids copy_file_range there too).
  bool may_share_extents = false;

  // How to create the destination: openat(create_dir, create_name, create_flags, create_mode).
  int create_dir = -1;
  std::string create_name;
  int create_flags = 0;
  unsigned create_mode = 0600;

  // The context's own state, for finish() and done().
  struct ::stat source {};
  Commit commit = Commit::direct;
  std::string temp_name;        ///< Commit::rename: the name the new content is written under
  bool created = false;         ///< the destination exists under create_name (to remove on failure)
  bool committed = false;       ///< the destination has its final name and content
  bool reflinked = false;
  bool sized = false;           ///< the destination was given its size when created
  bool link_target = false;     ///< the first name of a hardlink group: others link to it
  bool left = false;            ///< left to a later pass (FileJob::dealt_in): not counted
  bool piece = false;           ///< a step of a split file (FileJob::piece): never cloned whole
  bool fix_mode = false;        ///< fchmod after create: the umask or special bits
  std::int64_t started_ns = 0;
};

/// How one file went, as the engine reports it.
struct FileOutcome {
  std::uint64_t bytes = 0;      ///< bytes written to the destination (or cloned)
  /// The failed step ("open", "create", "read", "write", "close"...), or nullptr on success.
  const char* operation = nullptr;
  int code = 0;                 ///< errno of that step, or 0 with `detail`
  std::string detail;           ///< a failure without an errno ("source ended at byte 10")
  bool on_destination = false;  ///< the step worked on the destination side
  bool cancelled = false;       ///< abandoned because the copy was cancelled

  [[nodiscard]] bool ok() const { return operation == nullptr && !cancelled; }
  /// Records the first failure only: later ones are consequences of it.
  void fail(const char* op, int err, bool destination) {
    if (operation != nullptr || cancelled) return;
    operation = op;
    code = err;
    on_destination = destination;
  }
  void fail(const char* op, std::string what, bool destination) {
    if (operation != nullptr || cancelled) return;
    operation = op;
    detail = std::move(what);
    on_destination = destination;
  }
};

/// Where an engine gets its files: the walk, as it finds them (or, under MPI, a rank's share of
/// a plan). Thread-safe: every engine thread may pull at once.
class FileSource {
 public:
  enum class Pull : std::uint8_t {
    job,       ///< `job` holds the next file
    none_yet,  ///< none is ready now; more may come (only without `wait`)
    finished,  ///< none is left, and none will come
  };
  virtual ~FileSource() = default;
  FileSource() = default;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  /// Moves the next file into `job`. With `wait`, blocks until one is ready or none will come;
  /// without, returns none_yet when none is ready now. Either way the calling thread may do some
  /// of the walk first (read a directory, create what it holds): an engine thread with nothing
  /// to copy helps the walk.
  virtual Pull next(FileJob& job, bool wait) = 0;
  /// Files queued and not yet taken, now: a hint for engines that start threads while files
  /// wait.
  [[nodiscard]] virtual std::size_t ready() const = 0;
};

}  // namespace ccopy::copy
