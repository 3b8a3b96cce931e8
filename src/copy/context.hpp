// The shared state of one copy_tree() call, and the per-file steps every engine runs through it:
// plan() once the source is open, reflink() and finish() around the engine's own data movement,
// done() at the end. Everything the engines and the walk report (errors, entries copied, notes,
// counts, latencies) is gathered here and handed out once as the CopyResult.
//
// Thread-safe throughout: engine threads and walking threads call it at once.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ccopy/copy.hpp"
#include "copy/job.hpp"
#include "copy/links.hpp"

namespace ccopy::copy {

class FileContext {
 public:
  FileContext(const CopyOptions& options, CopyObserver& observer, CopyProgress* progress);
  FileContext(const FileContext&) = delete;
  FileContext& operator=(const FileContext&) = delete;

  [[nodiscard]] const CopyOptions& options() const { return options_; }
  /// True once the copy must stop: the caller cancelled it or a fatal failure happened. Engines
  /// then start nothing new and abandon what is in flight (FileOutcome::cancelled).
  [[nodiscard]] bool stopping() const;

  // ---- The engines' per-file steps ----

  /// Open flags for a job's source: O_RDONLY | O_CLOEXEC, O_NOFOLLOW unless it is followed,
  /// O_NOATIME unless the system refused it before.
  [[nodiscard]] int source_flags(const FileJob& job) const;
  /// An open with `flags` failed with `err`: true when it was O_NOATIME that was refused (EPERM:
  /// not the file's owner) and the open should be tried again without it; the context stops
  /// asking for it from then on.
  [[nodiscard]] bool retry_without_noatime(int flags, int err);
  /// Decides what to do with the file now open as `source_fd`, whose fstat is `st`, and fills
  /// `plan`. The engine creates and copies only when plan.action is copy; otherwise (the file
  /// is a later name of a hardlink group, the destination is kept, a dry run, a failure recorded
  /// in `outcome`) it closes the source and calls done().
  void plan(FileJob& job, int source_fd, const struct ::stat& st, FilePlan& plan,
            FileOutcome& outcome);
  /// The destination was created (`fd` >= 0) or not (-errno): records it in the plan and, on
  /// failure, in the outcome. Returns whether it was.
  bool created(FilePlan& plan, long fd, FileOutcome& outcome);
  /// With plan.try_reflink: clones the source into the destination (FICLONE). True when the
  /// destination now holds the whole file; false when the bytes must be copied (the file
  /// system cannot clone: remembered for the rest of the copy) or the clone failed (outcome).
  bool reflink(int source_fd, int destination_fd, FilePlan& plan, FileOutcome& outcome);
  /// Whether the engine's own design may clone (the kernel engine's FICLONE first): with
  /// Reflink::by_engine (the benchmark) and Reflink::automatic, not with Reflink::never.
  [[nodiscard]] bool engine_may_reflink() const {
    return options_.reflink == Reflink::by_engine || options_.reflink == Reflink::automatic;
  }
  /// The destination file system refused a clone earlier in this copy.
  [[nodiscard]] bool reflink_refused() const { return reflink_refused_.load(std::memory_order_relaxed); }
  /// The destination's data is written: its size past the last extent, the metadata the
  /// options preserve, the source checked for changes, and its final name. Failures go to
  /// `outcome`. Call before closing the descriptors.
  void finish(FileJob& job, FilePlan& plan, int source_fd, int destination_fd,
              FileOutcome& outcome);
  /// The file is over and both descriptors are closed, whatever happened: counts it, tells the
  /// observer, removes what a failed or abandoned copy created, and finishes the job.
  void done(FileJob& job, FilePlan& plan, FileOutcome& outcome);
  /// done() for a job whose source could not be opened or stat'ed (no plan yet).
  void failed_before_plan(FileJob& job, FileOutcome& outcome);
  /// Bytes an engine moved just now, for the progress counters (not the result's counts).
  void bytes_moved(std::uint64_t bytes);
  /// Copies `data` blocks of the source at `offset` that are all zeros (Sparse::always)?
  [[nodiscard]] static bool all_zero(std::span<const char> data);

  // ---- What the walk and the engines report ----

  void note(std::string text);
  /// A failure that stops the whole copy (an engine could not start, the destination is full).
  void fatal(Error error);
  /// A failed entry of the walk (a directory, a symlink...).
  void entry_failed(const DirNode& dir, std::string_view name, const char* operation, int code,
                    bool on_destination, std::string detail = {});
  /// A root that could not be copied at all.
  void root_failed(const CopyRoot& root, const char* operation, int code, bool on_destination,
                   std::string detail = {});
  /// cp's refusal to copy a directory into itself or onto itself, comparing devices and inodes
  /// (not strings) of the destination's nearest existing directory and its parents with the
  /// source directory `source`. Returns the refusal as the error's operation, "into itself" or
  /// (the destination is the source) "same file", with what is wrong in `detail`; empty when
  /// the copy may go on.
  [[nodiscard]] std::string check_not_into_itself(const CopyRoot& root, std::string& detail,
                                                  const struct ::stat& source) const;
  /// An entry the walk copied, for the counts and the observer.
  void entry_copied(EntryType type, const DirNode& dir, std::string_view name,
                    std::string_view destination_name = {});
  /// An entry kept as it was (-n, -u) or only planned (dry run).
  void entry_kept(EntryType type, const DirNode& dir, std::string_view name,
                  std::string_view destination_name = {});
  /// A directory's work is all done: its metadata is set (called by DirNode).
  void directory_done(DirNode& dir);
  void file_found(std::uint64_t bytes);
  void walk_finished();

  /// What to do with a destination entry that may exist already (the walk's symlinks, special
  /// files and directories, and plan() for files).
  enum class Existing : std::uint8_t { absent, replace, keep, failed };
  [[nodiscard]] Existing check_existing(const DirNode& dir, const char* destination_name,
                                        const struct ::stat& source, bool source_is_directory,
                                        struct ::stat& found, FileOutcome& outcome);

  /// The permission bits a new entry gets from `source`: all of them with Preserve::mode, else
  /// the source's less the umask (cp without -p).
  [[nodiscard]] unsigned wanted_mode(const struct ::stat& source) const;
  [[nodiscard]] unsigned umask() const { return umask_; }
  /// The process may write into directories it has no write permission on (CAP_DAC_OVERRIDE).
  [[nodiscard]] bool overrides_permissions() const { return overrides_permissions_; }
  /// Whether an entry with this owner, created in `container` (nullptr: not known), needs a
  /// chown to keep it: it is not the process's own, or the directory hands down its group.
  [[nodiscard]] bool needs_chown(const struct ::stat& source, const DirNode* container) const;
  /// Ownership could not be kept (EPERM): counted, and said once in a note at the end.
  void ownership_refused();
  /// A temporary name for replacing `name` atomically: ".ccopy-<16 hex digits>".
  [[nodiscard]] std::string temporary_name();

  HardlinkRegistry& links() { return links_; }

  /// In a walk of dealt directories (CopyShare::log): whether the entry `name` of `dealt`, whose
  /// stat is `st`, is left to a later pass, and recorded for it (a name with several links, a
  /// file to split).
  [[nodiscard]] bool leaves_for_later(const SharedDirectory& dealt, const std::string& name,
                                      const struct ::stat& st);

  /// The result, once everything is done. Call once.
  [[nodiscard]] CopyResult take_result();

 private:
  void record(CopyError error);
  void count(EntryType type, std::uint64_t bytes, bool reflinked);
  void tell_copied(EntryType type, std::string source, std::string destination, bool reflinked,
                   bool skipped);
  void plan_extents(int source_fd, FilePlan& plan);
  bool file_wanted(FileJob& job, const struct ::stat& st, Existing& existing,
                   FileOutcome& outcome);
  void plan_piece(FileJob& job, int source_fd, const struct ::stat& st, FilePlan& plan,
                  FileOutcome& outcome);
  void piece_done(FileJob& job, FilePlan& plan, FileOutcome& outcome);
  void plan_creation(FileJob& job, const struct ::stat& st, bool exists, FilePlan& plan);
  void remove_partial(FilePlan& plan);

  const CopyOptions& options_;
  CopyObserver& observer_;
  CopyProgress* progress_;
  HardlinkRegistry links_;
  unsigned umask_;
  uid_t euid_;
  gid_t egid_;
  bool overrides_permissions_;

  std::atomic<bool> stop_{false};
  std::atomic<bool> noatime_refused_{false};
  std::atomic<bool> reflink_refused_{false};
  // The destination's file system cannot share extents (sys::never_shares_extents of the first
  // file's directory): 1 yes, 0 no, -1 not asked yet.
  std::atomic<int> never_shares_{-1};
  bool destination_never_shares(int dir_fd);
  std::atomic<std::uint64_t> ownership_refusals_{0};
  std::atomic<std::uint64_t> temp_counter_{0};
  std::uint64_t temp_seed_;

  // Counts, updated lock-free; the rest under the mutex.
  std::atomic<std::uint64_t> files_{0}, directories_{0}, symlinks_{0}, hardlinks_{0},
      specials_{0}, bytes_{0}, reflinked_{0}, skipped_{0}, failed_{0};
  std::mutex mutex_;
  std::vector<CopyError> errors_;
  std::vector<std::string> notes_;
  std::vector<std::int64_t> latencies_;
  Error fatal_;
};

/// Monotonic time in nanoseconds.
[[nodiscard]] std::int64_t now_ns();

}  // namespace ccopy::copy
