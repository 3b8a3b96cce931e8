// verify_tree(): two trees compared entry by entry, in parallel.
//
// A directory's job lists both sides, reports the names found on one side only, and hands the
// names found on both to the workers in batches; a batch compares its entries (kind, size,
// bytes, holes, mode, symlink target and what the options ask) and pushes a directory job for
// each pair of subdirectories. Files of several names are compared as hardlink groups once the
// walk is over. Several threads find differences in no particular order, so the one reported
// first is the first in the trees' own order (names compared byte by byte, a directory before
// what it holds), whatever the threads: the same trees always give the same message.
//
// Shared by several processes (VerifyOptions::parts), each walks and stats both whole trees
// (the cheap part) and compares the contents of the entries whose path hashes to it (the
// bytes: the costly part); the first difference's path in the trees' order is returned with it,
// so that merge_verdicts() picks the same one a single process would.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ccopy/tree.hpp"
#include "sys/sys.hpp"
#include "tree/directory.hpp"
#include "tree/parallel.hpp"

namespace ccopy {
namespace {

constexpr std::size_t kBlock = 1 << 20;
constexpr std::size_t kBatch = 64;

// The names of one directory, compactly: a million names cost their bytes and 8 bytes each.
class NameList {
 public:
  void add(std::string_view name) {
    offsets_.push_back(pool_.size());
    pool_.append(name);
    pool_.push_back('\0');
  }
  void sort() {
    std::sort(offsets_.begin(), offsets_.end(),
              [this](std::size_t a, std::size_t b) { return view_at(a) < view_at(b); });
  }
  [[nodiscard]] std::size_t size() const { return offsets_.size(); }
  [[nodiscard]] std::string_view operator[](std::size_t i) const { return view_at(offsets_[i]); }

 private:
  [[nodiscard]] std::string_view view_at(std::size_t offset) const {
    return std::string_view(pool_.data() + offset);
  }
  std::string pool_;
  std::vector<std::size_t> offsets_;
};

// A directory of the source and its counterpart in the copy, with the names found in both.
struct DirPair {
  sys::unique_fd source, copy;
  std::string path;
  NameList names;                     // the source's names
  std::vector<std::uint32_t> common;  // positions in `names` of those the copy has too
};
using SharedPair = std::shared_ptr<const DirPair>;

struct Job {
  SharedPair parent;  // a directory job: the pair that holds it; a batch: the pair it reads
  std::shared_ptr<DirPair> opened;  // the roots' job: their pair, opened by verify_tree
  std::string path;                 // a directory job: its path (the last component is its name)
  std::uint32_t begin = 0, end = 0;
  bool batch = false;
};

// Paths in the trees' order: byte by byte, with '/' before every other byte, so a directory's
// entries follow it and precede its next sibling.
bool tree_order(std::string_view a, std::string_view b) {
  auto key = [](char c) { return c == '/' ? 0u : static_cast<unsigned char>(c) + 1u; };
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [&](char x, char y) { return key(x) < key(y); });
}

const char* kind_name(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return "a directory";
    case S_IFREG:
      return "a regular file";
    case S_IFLNK:
      return "a symlink";
    case S_IFIFO:
      return "a FIFO";
    case S_IFSOCK:
      return "a socket";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    default:
      return "an entry of unknown kind";
  }
}

std::string octal(unsigned mode) {
  char text[16];
  std::snprintf(text, sizeof text, "%04o", mode);
  return text;
}

std::string timestamp(const struct ::timespec& t) {
  char text[48];
  std::snprintf(text, sizeof text, "%lld.%09ld", static_cast<long long>(t.tv_sec), t.tv_nsec);
  return text;
}

// Which part of a shared verification an entry falls to: FNV-1a of its path, the same on every
// host and build.
unsigned part_of(std::string_view path, unsigned parts) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : path) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return static_cast<unsigned>(h % parts);
}

struct LinkRecord {
  dev_t source_dev, copy_dev;
  ino_t source_ino, copy_ino;
  std::string path;
};

// Reads up to `length` bytes at `offset`, through short reads, until the end of the file.
long read_full(int fd, char* buffer, std::size_t length, std::uint64_t offset) {
  std::size_t got = 0;
  while (got < length) {
    const long n = sys::pread(fd, buffer + got, length - got, offset + got);
    if (n == -EINTR || n == -EAGAIN) continue;
    if (n < 0) return n;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return static_cast<long>(got);
}

class Verifier {
 public:
  Verifier(const VerifyOptions& options, VerifyResult& out, const std::atomic<bool>* cancel)
      : options_(options),
        out_(out),
        cancel_(cancel),
        skip_(options.skip.begin(), options.skip.end()) {}

  Error run(int source_fd, int copy_fd);

 private:
  struct Buffers {
    std::vector<char> source, copy, listing;
  };
  void work();
  void process(Job& job, Buffers& buffers);
  void compare_directory(const Job& job, Buffers& buffers);
  Error open_pair(const Job& job, std::shared_ptr<DirPair>& out);
  Error match_names(DirPair& pair, Buffers& buffers);
  Error list(int fd, NameList& names, Buffers& buffers, const std::string& path, const char* side);
  void compare_batch(const Job& job, Buffers& buffers);
  Error compare_entry(const SharedPair& dir, std::string_view name, Buffers& buffers);
  Error compare_contents(const DirPair& dir, const char* name, const std::string& path,
                         const struct ::stat& s, const struct ::stat& c, Buffers& buffers,
                         std::string& difference);
  Error compare_bytes(const DirPair& dir, const char* name, const std::string& path,
                      std::uint64_t size, Buffers& buffers, std::string& difference);
  Error compare_xattrs(const DirPair& dir, const char* name, std::string& difference);
  void compare_metadata(const struct ::stat& s, const struct ::stat& c,
                        std::string& difference) const;
  void check_links();
  /// Counts a difference; `key` is where it is in the trees' order, `message` what is said.
  void differ(const std::string& key, const std::string& message);
  void differ_at(const std::string& path, const std::string& what) {
    differ(path, path + ": " + what);
  }
  void fail(Error e);
  /// Whether the entry at `path` is this part's to compare, count and report.
  [[nodiscard]] bool mine(std::string_view path) const {
    return options_.parts <= 1 || part_of(path, options_.parts) == options_.part;
  }
  [[nodiscard]] bool stopping() const {
    return failed_.load(std::memory_order_relaxed) ||
           (cancel_ != nullptr && cancel_->load(std::memory_order_relaxed));
  }

  const VerifyOptions& options_;
  VerifyResult& out_;
  const std::atomic<bool>* cancel_;
  const std::unordered_set<std::string> skip_;
  tree::WorkStack<Job> stack_;
  std::atomic<std::uint64_t> entries_{0}, bytes_{0}, differences_{0};
  std::atomic<bool> failed_{false};
  std::mutex mutex_;  // guards what follows
  std::string first_path_;
  std::vector<LinkRecord> links_;
  Error error_;
};

Error Verifier::run(int source_fd, int copy_fd) {
  const long s = tree::open_directory_for_reading(source_fd, ".");
  if (s < 0) return Error::from_errno(static_cast<int>(-s), "read the source's root");
  const long c = tree::open_directory_for_reading(copy_fd, ".");
  if (c < 0) {
    (void)sys::close(static_cast<int>(s));
    return Error::from_errno(static_cast<int>(-c), "read the copy's root");
  }
  auto root = std::make_shared<DirPair>();
  root->source.reset(static_cast<int>(s));
  root->copy.reset(static_cast<int>(c));
  Job job;
  job.opened = std::move(root);
  stack_.push(std::move(job));
  tree::run_workers(std::max(options_.threads, 1u), [this] { work(); });
  if (!error_.ok()) return error_;
  if (cancel_ != nullptr && cancel_->load()) return Error::cancelled("verify the trees");
  if (options_.links && options_.part == 0) check_links();
  out_.first_path = first_path_;
  out_.entries = entries_.load();
  out_.bytes = bytes_.load();
  out_.differences = differences_.load();
  return {};
}

void Verifier::work() {
  Buffers buffers;
  try {
    buffers.source.resize(kBlock);
    buffers.copy.resize(kBlock);
  } catch (const std::bad_alloc&) {
    return fail(Error::from_errno(ENOMEM, "verify the trees"));
  }
  Job job;
  while (stack_.pop(job)) {
    try {
      if (!stopping()) process(job, buffers);
    } catch (const std::bad_alloc&) {
      fail(Error::from_errno(ENOMEM, "verify the trees"));
    }
    job = Job{};
    stack_.done();
  }
}

void Verifier::fail(Error e) {
  {
    std::lock_guard lock(mutex_);
    if (error_.ok()) error_ = std::move(e);
  }
  failed_.store(true, std::memory_order_relaxed);
  stack_.stop();
}

void Verifier::differ(const std::string& key, const std::string& message) {
  differences_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  if (out_.first.empty() || tree_order(key, first_path_)) {
    first_path_ = key;
    out_.first = message;
  }
}

void Verifier::process(Job& job, Buffers& buffers) {
  if (job.batch)
    compare_batch(job, buffers);
  else
    compare_directory(job, buffers);
}

Error Verifier::list(int fd, NameList& names, Buffers& buffers, const std::string& path,
                     const char* side) {
  const long rc = tree::for_each_entry(fd, buffers.listing, [&](const tree::ListedEntry& e) {
    names.add(e.name);
    return true;
  });
  if (rc < 0)
    return Error::from_errno(
        static_cast<int>(-rc),
        "read directory " + (path.empty() ? std::string(".") : path) + " in " + side);
  names.sort();
  return {};
}

// Opens a directory job's directory in both trees, relative to its parent's pair.
Error Verifier::open_pair(const Job& job, std::shared_ptr<DirPair>& out) {
  auto pair = std::make_shared<DirPair>();
  pair->path = job.path;
  const std::size_t slash = job.path.rfind('/');
  const std::string name = slash == std::string::npos ? job.path : job.path.substr(slash + 1);
  const long s = tree::open_directory_for_reading(job.parent->source.get(), name.c_str());
  if (s < 0)
    return Error::from_errno(static_cast<int>(-s), "open directory " + job.path + " in the source");
  pair->source.reset(static_cast<int>(s));
  const long c = tree::open_directory_for_reading(job.parent->copy.get(), name.c_str());
  if (c < 0)
    return Error::from_errno(static_cast<int>(-c), "open directory " + job.path + " in the copy");
  pair->copy.reset(static_cast<int>(c));
  out = std::move(pair);
  return {};
}

// Lists both sides, keeps in `pair.common` the names found in both, and reports the others.
Error Verifier::match_names(DirPair& pair, Buffers& buffers) {
  NameList copy;
  if (Error e = list(pair.source.get(), pair.names, buffers, pair.path, "the source")) return e;
  if (Error e = list(pair.copy.get(), copy, buffers, pair.path, "the copy")) return e;
  std::size_t i = 0, j = 0;
  while (i < pair.names.size() || j < copy.size()) {
    const bool in_source = i < pair.names.size() && (j == copy.size() || pair.names[i] <= copy[j]);
    const bool in_copy = j < copy.size() && (i == pair.names.size() || copy[j] <= pair.names[i]);
    const std::string_view name = in_source ? pair.names[i] : copy[j];
    const bool skip = !skip_.empty() && skip_.count(tree::join_path(pair.path, name)) > 0;
    if (!skip && in_source && in_copy) {
      pair.common.push_back(static_cast<std::uint32_t>(i));
    } else if (!skip && mine(tree::join_path(pair.path, name))) {
      entries_.fetch_add(1, std::memory_order_relaxed);
      differ_at(tree::join_path(pair.path, name),
                in_source ? "missing in the copy" : "not in the source (extra in the copy)");
    }
    i += in_source;
    j += in_copy;
  }
  return {};
}

// A directory job: open both sides (the roots' are open), match their names, and push the
// names found on both sides in batches.
void Verifier::compare_directory(const Job& job, Buffers& buffers) {
  std::shared_ptr<DirPair> pair = job.opened;
  if (pair == nullptr) {
    if (Error e = open_pair(job, pair)) return fail(std::move(e));
  }
  if (Error e = match_names(*pair, buffers)) return fail(std::move(e));
  const SharedPair shared = pair;
  for (std::size_t b = 0; b < pair->common.size(); b += kBatch) {
    Job batch;
    batch.parent = shared;
    batch.begin = static_cast<std::uint32_t>(b);
    batch.end = static_cast<std::uint32_t>(std::min(b + kBatch, pair->common.size()));
    batch.batch = true;
    stack_.push(std::move(batch));
  }
}

void Verifier::compare_batch(const Job& job, Buffers& buffers) {
  for (std::uint32_t k = job.begin; k < job.end; ++k) {
    if (stopping()) return;
    if (Error e = compare_entry(job.parent, job.parent->names[job.parent->common[k]], buffers))
      return fail(std::move(e));
  }
}

Error Verifier::compare_entry(const SharedPair& dir, std::string_view name_view, Buffers& buffers) {
  const tree::CName name(name_view);
  const std::string path = tree::join_path(dir->path, name_view);
  struct ::stat s {
  }, c{};
  long rc = sys::stat_at(dir->source.get(), name.get(), s, AT_SYMLINK_NOFOLLOW);
  if (rc < 0) return Error::from_errno(static_cast<int>(-rc), "stat " + path + " in the source");
  rc = sys::stat_at(dir->copy.get(), name.get(), c, AT_SYMLINK_NOFOLLOW);
  if (rc < 0) return Error::from_errno(static_cast<int>(-rc), "stat " + path + " in the copy");
  const bool own = mine(path);
  if (own) entries_.fetch_add(1, std::memory_order_relaxed);
  std::string difference;
  if ((s.st_mode & S_IFMT) != (c.st_mode & S_IFMT)) {
    difference = std::string(kind_name(s.st_mode)) + " in the source, " + kind_name(c.st_mode) +
                 " in the copy";
    if (own) differ_at(path, difference);
    return {};
  }
  // Every part records the names of several links: part 0 checks the groups whole.
  if (S_ISREG(s.st_mode) && options_.links && (s.st_nlink > 1 || c.st_nlink > 1)) {
    std::lock_guard lock(mutex_);
    links_.push_back(LinkRecord{s.st_dev, c.st_dev, s.st_ino, c.st_ino, path});
  }
  if (own) {
    if (Error e = compare_contents(*dir, name.get(), path, s, c, buffers, difference)) return e;
    if (difference.empty()) compare_metadata(s, c, difference);
    if (difference.empty() && options_.xattrs)
      if (Error e = compare_xattrs(*dir, name.get(), difference)) return e;
    if (!difference.empty()) differ_at(path, difference);
  }
  if (S_ISDIR(s.st_mode)) {
    Job sub;
    sub.parent = dir;
    sub.path = path;
    stack_.push(std::move(sub));
  }
  return {};
}

// What the entry holds: a file's size, bytes and allocation, a symlink's target, a device's
// number. `difference` is left empty when they agree.
Error Verifier::compare_contents(const DirPair& dir, const char* name, const std::string& path,
                                 const struct ::stat& s, const struct ::stat& c, Buffers& buffers,
                                 std::string& difference) {
  if (S_ISREG(s.st_mode)) {
    if (s.st_size != c.st_size) {
      difference = "size " + std::to_string(s.st_size) + " in the source, " +
                   std::to_string(c.st_size) + " in the copy";
      return {};
    }
    if (Error e = compare_bytes(dir, name, path, static_cast<std::uint64_t>(s.st_size), buffers,
                                difference))
      return e;
    if (difference.empty() && options_.holes && c.st_blocks > s.st_blocks)
      difference = std::to_string(static_cast<long long>(c.st_blocks) * 512) +
                   " bytes allocated in the copy, " +
                   std::to_string(static_cast<long long>(s.st_blocks) * 512) + " in the source";
    return {};
  }
  if (S_ISLNK(s.st_mode)) {
    std::string source_target, copy_target;
    long rc = sys::read_symlink_at(dir.source.get(), name, source_target);
    if (rc < 0)
      return Error::from_errno(static_cast<int>(-rc), "readlink " + path + " in the source");
    rc = sys::read_symlink_at(dir.copy.get(), name, copy_target);
    if (rc < 0)
      return Error::from_errno(static_cast<int>(-rc), "readlink " + path + " in the copy");
    if (source_target != copy_target)
      difference =
          "symlink to '" + source_target + "' in the source, to '" + copy_target + "' in the copy";
    return {};
  }
  if ((S_ISCHR(s.st_mode) || S_ISBLK(s.st_mode)) && s.st_rdev != c.st_rdev) {
    difference = "device " + std::to_string(major(s.st_rdev)) + ":" +
                 std::to_string(minor(s.st_rdev)) + " in the source, " +
                 std::to_string(major(c.st_rdev)) + ":" + std::to_string(minor(c.st_rdev)) +
                 " in the copy";
  }
  return {};
}

Error Verifier::compare_bytes(const DirPair& dir, const char* name, const std::string& path,
                              std::uint64_t size, Buffers& buffers, std::string& difference) {
  const long s = tree::open_file_for_reading(dir.source.get(), name);
  if (s < 0) return Error::from_errno(static_cast<int>(-s), "open " + path + " in the source");
  sys::unique_fd source(static_cast<int>(s));
  const long c = tree::open_file_for_reading(dir.copy.get(), name);
  if (c < 0) return Error::from_errno(static_cast<int>(-c), "open " + path + " in the copy");
  sys::unique_fd copy(static_cast<int>(c));
  for (std::uint64_t offset = 0; offset < size;) {
    if (cancel_ != nullptr && cancel_->load(std::memory_order_relaxed))
      return Error::cancelled("verify the trees");
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(size - offset, kBlock));
    const long a = read_full(source.get(), buffers.source.data(), want, offset);
    if (a < 0) return Error::from_errno(static_cast<int>(-a), "read " + path + " in the source");
    const long b = read_full(copy.get(), buffers.copy.data(), want, offset);
    if (b < 0) return Error::from_errno(static_cast<int>(-b), "read " + path + " in the copy");
    const auto common = static_cast<std::size_t>(std::min(a, b));
    // memcmp (glibc's vectorised) over the block, and byte by byte only to name a difference.
    std::size_t at = common;
    if (std::memcmp(buffers.source.data(), buffers.copy.data(), common) != 0)
      at = static_cast<std::size_t>(
          std::mismatch(buffers.source.begin(),
                        buffers.source.begin() + static_cast<std::ptrdiff_t>(common),
                        buffers.copy.begin())
              .first -
          buffers.source.begin());
    bytes_.fetch_add(at, std::memory_order_relaxed);
    if (at < common || a != b) {
      difference = at < common ? "byte " + std::to_string(offset + at) + " differs"
                               : "ends at byte " + std::to_string(offset + at) + " in the " +
                                     (a < b ? "source" : "copy") + " while it is being read";
      return {};
    }
    if (a == 0) break;
    offset += static_cast<std::uint64_t>(a);
  }
  return {};
}

void Verifier::compare_metadata(const struct ::stat& s, const struct ::stat& c,
                                std::string& difference) const {
  if (options_.mode && !S_ISLNK(s.st_mode) && (s.st_mode & 07777) != (c.st_mode & 07777)) {
    difference = "mode " + octal(s.st_mode & 07777) + " in the source, " +
                 octal(c.st_mode & 07777) + " in the copy";
  } else if (options_.times &&
             (s.st_mtim.tv_sec != c.st_mtim.tv_sec || s.st_mtim.tv_nsec != c.st_mtim.tv_nsec)) {
    difference = "modification time " + timestamp(s.st_mtim) + " in the source, " +
                 timestamp(c.st_mtim) + " in the copy";
  } else if (options_.ownership && (s.st_uid != c.st_uid || s.st_gid != c.st_gid)) {
    difference = "owner " + std::to_string(s.st_uid) + ":" + std::to_string(s.st_gid) +
                 " in the source, " + std::to_string(c.st_uid) + ":" + std::to_string(c.st_gid) +
                 " in the copy";
  }
}

// The extended attributes' names and values; a file system without them has none.
Error Verifier::compare_xattrs(const DirPair& dir, const char* name, std::string& difference) {
  auto names_of = [&](int fd, std::vector<std::string>& out) -> long {
    std::string list;
    const long rc = sys::list_xattrs_at(fd, name, list);
    if (rc == -ENOTSUP || rc == -ENODATA) return 0;
    if (rc < 0) return rc;
    for (std::size_t at = 0; at < list.size();) {
      const std::size_t end = list.find('\0', at);
      out.emplace_back(list.substr(at, end - at));
      at = end == std::string::npos ? list.size() : end + 1;
    }
    std::sort(out.begin(), out.end());
    return 0;
  };
  std::vector<std::string> s, c;
  long rc = names_of(dir.source.get(), s);
  if (rc == 0) rc = names_of(dir.copy.get(), c);
  if (rc < 0) return Error::from_errno(static_cast<int>(-rc), "list extended attributes");
  std::size_t i = 0, j = 0;
  for (; i < s.size() && j < c.size() && s[i] == c[j]; ++i, ++j) {
    std::string a, b;
    rc = sys::get_xattr_at(dir.source.get(), name, s[i].c_str(), a);
    if (rc >= 0) rc = sys::get_xattr_at(dir.copy.get(), name, c[j].c_str(), b);
    if (rc < 0) return Error::from_errno(static_cast<int>(-rc), "read extended attribute " + s[i]);
    if (a != b) {
      difference = "extended attribute " + s[i] + " differs";
      return {};
    }
  }
  if (i < s.size() && (j == c.size() || s[i] < c[j]))
    difference = "extended attribute " + s[i] + " missing in the copy";
  else if (j < c.size())
    difference = "extended attribute " + c[j] + " not in the source";
  return {};
}

// Hardlink groups: every name of one source inode must name one inode in the copy, and names
// of distinct source inodes distinct inodes. The records are grouped by one side's inode (in
// the trees' order within a group); a group whose other side is not one inode is a difference,
// named by its first name and the first that breaks it.
void Verifier::check_links() {
  using Inode = std::pair<dev_t, ino_t>;
  auto source = [](const LinkRecord& r) { return Inode{r.source_dev, r.source_ino}; };
  auto copy = [](const LinkRecord& r) { return Inode{r.copy_dev, r.copy_ino}; };
  auto check = [this](auto group_of, auto other_of, const char* what) {
    std::sort(links_.begin(), links_.end(), [&](const LinkRecord& a, const LinkRecord& b) {
      return group_of(a) != group_of(b) ? group_of(a) < group_of(b) : tree_order(a.path, b.path);
    });
    for (std::size_t g = 0; g < links_.size();) {
      std::size_t end = g + 1;
      while (end < links_.size() && group_of(links_[end]) == group_of(links_[g])) ++end;
      for (std::size_t k = g + 1; k < end; ++k)
        if (other_of(links_[k]) != other_of(links_[g])) {
          differ(links_[g].path, links_[g].path + " and " + links_[k].path + ": " + what);
          break;
        }
      g = end;
    }
  };
  check(source, copy, "one inode in the source, two in the copy");
  check(copy, source, "two inodes in the source, one in the copy");
}

}  // namespace

VerifyResult merge_verdicts(const std::vector<VerifyResult>& parts) {
  VerifyResult all;
  bool found = false;
  for (const VerifyResult& p : parts) {
    all.entries += p.entries;
    all.bytes += p.bytes;
    all.differences += p.differences;
    if (!p.first.empty() && (!found || tree_order(p.first_path, all.first_path))) {
      all.first = p.first;
      all.first_path = p.first_path;
      found = true;
    }
  }
  return all;
}

Error verify_tree(int source_fd, int copy_fd, const VerifyOptions& options, VerifyResult& out,
                  const std::atomic<bool>* cancel) {
  out = VerifyResult{};
  try {
    Verifier verifier(options, out, cancel);
    return verifier.run(source_fd, copy_fd);
  } catch (const std::bad_alloc&) {
    return Error::from_errno(ENOMEM, "verify the trees");
  }
}

}  // namespace ccopy
