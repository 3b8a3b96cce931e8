// The walk: reads the source trees, creates their directories, symlinks and special files in
// the destination as it finds them, and queues their regular files for the engine. It is a
// FileSource: it has no threads of its own. The engine's threads walk when they have nothing to
// copy (FileSource::next), so the walk runs in parallel and overlaps the copy, and a run with
// one engine thread walks on that thread.
//
// Order and bounds: subdirectories are taken last-found-first (depth first), which keeps few
// directories open at once; a directory is read a buffer at a time, so a directory of a million
// entries feeds the engine from its first buffer; and once kHighWater files are queued the walk
// pauses, so neither the queue nor the open directories grow with the size of the tree.
//
// Shared among processes (CopyShare::directories): the walk reads only the directories dealt to
// it, each opened by its path below its root when the walk comes to it, and not the
// subdirectories they hold; a deal with names reads only those names.
#pragma once

#include <functional>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ccopy/copy.hpp"
#include "copy/context.hpp"
#include "copy/job.hpp"

namespace ccopy::copy {

class Walk final : public FileSource {
 public:
  explicit Walk(FileContext& context);
  Walk(const Walk&) = delete;
  Walk& operator=(const Walk&) = delete;
  ~Walk() override;

  /// Starts copying one root: a directory is opened and its destination created (or merged
  /// into); any other entry is queued or copied at once. Failures are the root's error.
  void add_root(const CopyRoot& root);
  /// Lets go of the roots, once the engine has copied everything: their metadata is set last.
  void release_roots();

  Pull next(FileJob& job, bool wait) override;
  [[nodiscard]] std::size_t ready() const override;

 private:
  struct Pending;
  struct Listing;
  struct Found;

  bool has_walk_work() const;
  void walk_step(std::unique_lock<std::mutex>& lock);
  std::unique_ptr<Listing> open_directory(Pending& pending, Found& found);
  void read_some(Listing& listing, Found& found);
  void found_entry(Listing& listing, const char* name, unsigned char type, std::uint64_t inode,
                   Found& found);
  void copy_symlink(DirNode& dir, const char* name, const char* destination_name,
                    const struct ::stat* known);
  long make_entry(DirNode& dir, const char* destination_name, FileContext::Existing existing,
                  const std::function<long(const char*)>& make);
  void copy_special(DirNode& dir, const char* name, const char* destination_name,
                    const struct ::stat& st);
  bool followed_into_loop(const DirNode& parent, const struct ::stat& st) const;
  bool skipped(const DirNode& dir, const char* name) const;
  void drop_everything(std::unique_lock<std::mutex>& lock);
  void add_directory_root(const CopyRoot& root, const struct ::stat& st);
  void add_entry_root(const CopyRoot& root, const struct ::stat& st);
  std::unique_ptr<Listing> open_dealt(Pending& pending);
  void read_names(Listing& listing, Found& found);
  bool left_for_later(const Listing& listing, const char* name, const struct ::stat& st);
  void add_pieces(const Listing& listing, const char* name, bool follow, Found& found);
  void make_subdirectory(const Listing& listing, const char* name);

  FileContext& context_;
  const CopyOptions& options_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<FileJob> jobs_;
  std::vector<Pending> pending_;                   // subdirectories to create, last found first
  std::vector<std::unique_ptr<Listing>> listings_;  // directories being read, to go on with
  std::vector<DirRef> roots_;                      // held until release_roots()
  unsigned walking_ = 0;                           // threads inside a walk step now
  unsigned next_root_ = 0;                         // the index of the root add_root() takes next
  bool finished_ = false;
};

}  // namespace ccopy::copy
