// describe_tree(): one walk that counts and measures a tree without changing it.
//
// The walk is depth first with a stack of directories still to read, each holding its parent
// open (tree::SharedFd), so it keeps about one descriptor per level. What it keeps per entry is
// one size per regular file (for the percentiles) and one inode number per file with several
// names (to count each inode once): a directory of a million files is described in 11 MiB.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <new>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ccopy/tree.hpp"
#include "sys/sys.hpp"
#include "tree/directory.hpp"

namespace ccopy {
namespace {

using tree::SharedFd;

struct Pending {
  SharedFd parent;
  std::string path;  // below the root; its last component is the name in `parent`
  unsigned depth = 0;
};

struct InodeHash {
  std::size_t operator()(const std::pair<dev_t, ino_t>& k) const {
    return std::hash<std::uint64_t>()(static_cast<std::uint64_t>(k.second) * 0x9e3779b97f4a7c15ULL ^
                                      static_cast<std::uint64_t>(k.first));
  }
};

bool fatal(long rc) { return rc == -EMFILE || rc == -ENFILE || rc == -ENOMEM; }

std::string_view last_component(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string_view(path)
                                    : std::string_view(path).substr(slash + 1);
}

class Walker {
 public:
  Walker(TreeSummary& out, const std::atomic<bool>* cancel)
      : out_(out), cancel_(cancel), privileged_(sys::effective_user() == 0) {}

  Error run(int root_fd);

 private:
  Error read_directory(const Pending& dir, const SharedFd& self);
  Error visit(int dir, const tree::ListedEntry& entry, const Pending& at, const SharedFd& self);
  void count_file(const struct ::stat& st);
  bool readable(int dir, const char* name, const struct ::stat& st) const;
  bool searchable(int fd) const;
  void finish();

  TreeSummary& out_;
  const std::atomic<bool>* cancel_;
  const bool privileged_;
  std::vector<Pending> pending_;
  std::vector<std::uint64_t> sizes_;
  std::unordered_set<std::pair<dev_t, ino_t>, InodeHash> linked_;
  std::vector<char> buffer_;
};

Error Walker::run(int root_fd) {
  const long fd = tree::open_directory_for_reading(root_fd, ".");
  if (fd < 0) return Error::from_errno(static_cast<int>(-fd), "read the tree's root");
  out_.directories = 1;
  Pending root;
  if (Error e = read_directory(root, std::make_shared<const sys::unique_fd>(static_cast<int>(fd))))
    return e;
  while (!pending_.empty()) {
    if (cancel_ != nullptr && cancel_->load(std::memory_order_relaxed))
      return Error::cancelled("describe the tree");
    Pending dir = std::move(pending_.back());
    pending_.pop_back();
    const std::string name(last_component(dir.path));
    const long sub = tree::open_directory_for_reading(dir.parent->get(), name.c_str());
    dir.parent.reset();
    if (sub == -ENOENT) continue;  // removed while the walk went on
    if (fatal(sub)) return Error::from_errno(static_cast<int>(-sub), "open directory " + dir.path);
    auto opened = sub < 0 ? nullptr : std::make_shared<const sys::unique_fd>(static_cast<int>(sub));
    if (opened == nullptr || !searchable(opened->get())) {
      out_.unreadable.push_back(dir.path);
      continue;
    }
    ++out_.directories;
    out_.max_depth = std::max(out_.max_depth, dir.depth);
    if (Error e = read_directory(dir, opened)) return e;
  }
  finish();
  return {};
}

// Lists one directory; the subdirectories found are pushed with `self`, their parent, which
// stays open until the last of them has been opened.
Error Walker::read_directory(const Pending& dir, const SharedFd& self) {
  const int fd = self->get();
  Error failure;
  const long rc = tree::for_each_entry(fd, buffer_, [&](const tree::ListedEntry& entry) {
    failure = visit(fd, entry, dir, self);
    return failure.ok();
  });
  if (failure) return failure;
  // The root must be readable; below it, a directory that cannot be listed is reported.
  if (rc < 0 && (fatal(rc) || dir.path.empty()))
    return Error::from_errno(static_cast<int>(-rc), dir.path.empty()
                                                        ? "read the tree's root"
                                                        : "read directory " + dir.path);
  if (rc < 0) out_.unreadable.push_back(dir.path);
  return {};
}

Error Walker::visit(int dir, const tree::ListedEntry& entry, const Pending& at,
                    const SharedFd& self) {
  const unsigned depth = at.depth + 1;
  auto unreadable = [&] {
    out_.unreadable.push_back(tree::join_path(at.path, entry.name));
    return Error{};
  };
  unsigned char type = entry.type;
  struct ::stat st {};
  if (type == DT_REG || type == DT_UNKNOWN) {
    const long rc = sys::stat_at(dir, entry.name.data(), st, AT_SYMLINK_NOFOLLOW);
    if (rc == -ENOENT) return {};
    if (fatal(rc))
      return Error::from_errno(static_cast<int>(-rc),
                               "stat " + tree::join_path(at.path, entry.name));
    if (rc < 0) return unreadable();
    type = S_ISDIR(st.st_mode)   ? DT_DIR
           : S_ISREG(st.st_mode) ? DT_REG
           : S_ISLNK(st.st_mode) ? DT_LNK
                                 : DT_FIFO;
  }
  switch (type) {
    case DT_DIR:
      pending_.push_back(Pending{self, tree::join_path(at.path, entry.name), depth});
      return {};
    case DT_REG:
      if (!readable(dir, entry.name.data(), st)) return unreadable();
      count_file(st);
      break;
    case DT_LNK:
      ++out_.symlinks;
      break;
    default:
      ++out_.specials;
      break;
  }
  out_.max_depth = std::max(out_.max_depth, depth);
  return {};
}

void Walker::count_file(const struct ::stat& st) {
  if (st.st_nlink > 1 && !linked_.emplace(st.st_dev, st.st_ino).second) {
    ++out_.hardlinks;
    return;
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const auto allocated = static_cast<std::uint64_t>(st.st_blocks) * 512;
  ++out_.files;
  out_.bytes += size;
  out_.allocated += allocated;
  // As cp decides that a file is sparse: fewer 512-byte blocks than its size fills.
  if (static_cast<std::uint64_t>(st.st_blocks) < size / 512) ++out_.sparse_files;
  sizes_.push_back(size);
}

// Whether a regular file could be opened for reading, without opening it: always for the
// superuser, by the mode bits for its owner (ACLs cannot take the owner's access away), and
// by faccessat (which knows groups and ACLs) for anyone else.
bool Walker::readable(int dir, const char* name, const struct ::stat& st) const {
  if (privileged_) return true;
  if (st.st_uid == sys::effective_user()) return (st.st_mode & S_IRUSR) != 0;
  return sys::access_at(dir, name, R_OK, AT_EACCESS) == 0;
}

// A directory that can be listed but not searched (r without x) cannot be walked: its
// entries cannot be looked at.
bool Walker::searchable(int fd) const {
  return privileged_ || sys::access_at(fd, ".", X_OK, AT_EACCESS) == 0;
}

void Walker::finish() {
  const std::size_t n = sizes_.size();
  if (n == 0) return;
  auto nearest_rank = [&](unsigned percent) {
    std::size_t rank = (n * percent + 99) / 100;
    rank = std::clamp<std::size_t>(rank, 1, n) - 1;
    std::nth_element(sizes_.begin(), sizes_.begin() + static_cast<std::ptrdiff_t>(rank),
                     sizes_.end());
    return sizes_[rank];
  };
  out_.size_median = nearest_rank(50);
  out_.size_p90 = nearest_rank(90);
  out_.size_p99 = nearest_rank(99);
  out_.size_max = *std::max_element(sizes_.begin(), sizes_.end());
}

}  // namespace

std::uint64_t TreeSummary::entries() const {
  return files + directories + symlinks + hardlinks + specials;
}

Error describe_tree(int root_fd, TreeSummary& out, const std::atomic<bool>* cancel) {
  out = TreeSummary{};
  try {
    Walker walker(out, cancel);
    return walker.run(root_fd);
  } catch (const std::bad_alloc&) {
    return Error::from_errno(ENOMEM, "describe the tree");
  }
}

}  // namespace ccopy
