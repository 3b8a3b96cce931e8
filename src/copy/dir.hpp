// A directory of a copy in progress: its source and destination descriptors, held open while
// there is work in it, and what its destination must look like once that work is done.
//
// Two counts govern a DirNode. Its *work* counts what is still to be done in it: its listing,
// each file and entry found in it and not yet finished, each subdirectory not yet created, each
// hardlink still to be made in it. While work is above zero both descriptors are open; when it
// reaches zero, everything the directory holds exists, so its metadata is set (mode, owner,
// times: the times of a directory change whenever an entry is created in it, so they can only be
// set last) and its descriptors are closed. Directories therefore finish deepest first. Its
// *references* keep the node itself alive for as long as a subdirectory needs its name for a
// path, after its descriptors are gone.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace ccopy::copy {

class FileContext;

class DirNode {
 public:
  /// What a new node needs; descriptors are owned by the node from then on.
  struct Init {
    DirNode* parent = nullptr;       ///< nullptr for a root
    std::string name;                ///< in its parent; unused for a root
    std::string source_prefix;       ///< a root: the path its source entries are shown under
    std::string destination_prefix;  ///< a root: the same for the destination
    std::string relative_prefix;     ///< a root: the path below the source root ("" for it)
    int source_fd = -1;
    int destination_fd = -1;
    struct ::stat source {};         ///< the source directory's own stat
    unsigned created_mode = 0;       ///< the mode the destination was created with
    bool fresh = false;              ///< the copy created the destination: it held nothing
    bool apply_metadata = true;      ///< false for the parent directory of a root file
    bool hands_down_group = false;   ///< the destination is set-group-ID: entries get its group
  };

  /// A node with one unit of work (its listing, or its use as a root) and one reference.
  static DirNode* create(FileContext& context, Init init);

  DirNode(const DirNode&) = delete;
  DirNode& operator=(const DirNode&) = delete;

  [[nodiscard]] int source_fd() const { return source_fd_; }
  [[nodiscard]] int destination_fd() const { return destination_fd_; }
  [[nodiscard]] DirNode* parent() const { return parent_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const struct ::stat& source_stat() const { return source_; }
  [[nodiscard]] unsigned created_mode() const { return created_mode_; }
  [[nodiscard]] bool fresh() const { return fresh_; }
  [[nodiscard]] bool applies_metadata() const { return apply_metadata_; }
  [[nodiscard]] bool hands_down_group() const { return hands_down_group_; }
  [[nodiscard]] unsigned depth() const { return depth_; }

  /// "src/a/b" (+ "/child"): a path to show, from the root as it was given.
  [[nodiscard]] std::string source_path(std::string_view child = {}) const;
  [[nodiscard]] std::string destination_path(std::string_view child = {}) const;
  /// "a/b" (+ "/child"): below the source root, as CopyOptions::skip names entries.
  [[nodiscard]] std::string relative_path(std::string_view child = {}) const;

  /// One more unit of work: the descriptors stay open until it is finished.
  void add_work() { work_.fetch_add(1, std::memory_order_relaxed); }
  /// One unit of work is done; the last one completes the directory (its metadata, its
  /// descriptors) on the calling thread.
  void finish_work();
  /// Adds a unit of work only while some remains (the descriptors are still open).
  [[nodiscard]] bool try_add_work();

  /// Keeps the node (not its descriptors) alive.
  void add_reference() { references_.fetch_add(1, std::memory_order_relaxed); }
  void release_reference();

  /// A descriptor of the destination directory for the caller's own use, open even when the
  /// node's own are closed (reopened through its nearest ancestor still open); the caller
  /// closes it. -errno when it cannot be reopened.
  [[nodiscard]] long reopen_destination() const;

 private:
  DirNode(FileContext& context, Init init);
  ~DirNode();
  void complete();

  FileContext& context_;
  DirNode* parent_;
  std::string name_;
  std::string source_prefix_, destination_prefix_, relative_prefix_;
  int source_fd_;
  int destination_fd_;
  struct ::stat source_;
  unsigned created_mode_;
  bool fresh_;
  bool apply_metadata_;
  bool hands_down_group_;
  unsigned depth_;
  std::atomic<int> work_{1};
  std::atomic<int> references_{1};
};

/// A unit of a directory's work, held by whatever does it (a file job, a subdirectory not yet
/// created, a hardlink to make): move-only; finishing or destroying it finishes the work.
class DirRef {
 public:
  DirRef() = default;
  /// Adds a unit of work to `node`.
  explicit DirRef(DirNode* node) : node_(node) {
    if (node_ != nullptr) node_->add_work();
  }
  /// Takes over a unit of work the caller already added.
  static DirRef adopt(DirNode* node) {
    DirRef ref;
    ref.node_ = node;
    return ref;
  }
  DirRef(DirRef&& other) noexcept : node_(std::exchange(other.node_, nullptr)) {}
  DirRef& operator=(DirRef&& other) noexcept {
    if (this != &other) {
      reset();
      node_ = std::exchange(other.node_, nullptr);
    }
    return *this;
  }
  DirRef(const DirRef&) = delete;
  DirRef& operator=(const DirRef&) = delete;
  ~DirRef() { reset(); }

  [[nodiscard]] DirNode* get() const { return node_; }
  DirNode* operator->() const { return node_; }
  DirNode& operator*() const { return *node_; }
  explicit operator bool() const { return node_ != nullptr; }
  /// Finishes the unit of work now.
  void reset() {
    if (node_ != nullptr) std::exchange(node_, nullptr)->finish_work();
  }

 private:
  DirNode* node_ = nullptr;
};

}  // namespace ccopy::copy
