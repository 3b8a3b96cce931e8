#include "copy/walk.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <tuple>
#include <fmt/format.h>

#include "copy/metadata.hpp"
#include "sys/sys.hpp"

namespace ccopy::copy {
namespace {

// Bytes of directory entries read at once: a few hundred names.
constexpr std::size_t kListingBuffer = 32 * 1024;
// Files queued before the walk pauses, and below which a thread with walk work to do walks
// before it copies.
constexpr std::size_t kHighWater = 8192;
constexpr std::size_t kLowWater = 32;

// The layout of what getdents64 returns (linux_dirent64).
struct Dirent64 {
  std::uint64_t ino;
  std::int64_t off;
  unsigned short reclen;
  unsigned char type;
  char name[1];
};

unsigned char type_of(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR: return DT_DIR;
    case S_IFREG: return DT_REG;
    case S_IFLNK: return DT_LNK;
    case S_IFIFO: return DT_FIFO;
    case S_IFSOCK: return DT_SOCK;
    case S_IFCHR: return DT_CHR;
    case S_IFBLK: return DT_BLK;
    default: return DT_UNKNOWN;
  }
}

bool dot_or_dotdot(const char* name) {
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

// "a/b/c" -> "a/b"; "c" -> ""; "/c" -> "/"; trailing slashes are ignored.
std::string parent_of(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_of(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

dev_t root_device(const DirNode& dir) {
  const DirNode* node = &dir;
  while (node->parent() != nullptr) node = node->parent();
  return node->source_stat().st_dev;
}

}  // namespace

struct Walk::Pending {
  DirRef parent;
  std::string name;
  bool follow = false;
  unsigned root = 0;
  const SharedDirectory* dealt = nullptr;  // a directory dealt to this walk, below root `parent`
};

struct Walk::Listing {
  DirRef dir;
  std::unique_ptr<char[]> buffer;
  bool done = false;
  unsigned root = 0;                       // the index of the root it is below
  std::uint64_t entries = 0;               // entries read so far
  const SharedDirectory* dealt = nullptr;  // dealt to this walk: its subdirectories are not
};

struct Walk::Found {
  std::vector<FileJob> jobs;
  std::vector<Pending> pending;
};

Walk::Walk(FileContext& context) : context_(context), options_(context.options()) {}

Walk::~Walk() {
  std::unique_lock lock(mutex_);
  drop_everything(lock);
  lock.unlock();
  release_roots();
}

std::size_t Walk::ready() const {
  std::lock_guard lock(mutex_);
  return jobs_.size();
}

bool Walk::has_walk_work() const { return !listings_.empty() || !pending_.empty(); }

FileSource::Pull Walk::next(FileJob& job, bool wait) {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (context_.stopping()) {
      drop_everything(lock);
      if (walking_ == 0) break;
      if (!wait) return Pull::none_yet;
      changed_.wait(lock);
      continue;
    }
    const bool walk_work = has_walk_work();
    if (!jobs_.empty() && (jobs_.size() >= kLowWater || !walk_work)) {
      job = std::move(jobs_.front());
      jobs_.pop_front();
      return Pull::job;
    }
    if (walk_work && jobs_.size() < kHighWater) {
      walk_step(lock);
      continue;
    }
    if (!jobs_.empty()) {
      job = std::move(jobs_.front());
      jobs_.pop_front();
      return Pull::job;
    }
    if (walking_ == 0) break;
    if (!wait) return Pull::none_yet;
    changed_.wait(lock);
  }
  if (!finished_) {
    finished_ = true;
    context_.walk_finished();
    changed_.notify_all();
  }
  return Pull::finished;
}

// One step of the walk, on the calling thread, with the lock released while it works: go on
// reading a directory already open (so that it finishes and closes sooner), or else create and
// open the subdirectory found last, and read its first buffer of entries.
void Walk::walk_step(std::unique_lock<std::mutex>& lock) {
  std::unique_ptr<Listing> listing;
  Pending pending;
  if (!listings_.empty()) {
    listing = std::move(listings_.back());
    listings_.pop_back();
  } else {
    pending = std::move(pending_.back());
    pending_.pop_back();
  }
  ++walking_;
  lock.unlock();
  Found found;
  if (!listing)
    listing = pending.dealt != nullptr ? open_dealt(pending) : open_directory(pending, found);
  pending = Pending{};  // the parent's unit of work: the subdirectory exists now, or failed
  if (listing) read_some(*listing, found);
  if (listing && listing->done) listing.reset();
  lock.lock();
  --walking_;
  for (FileJob& job : found.jobs) jobs_.push_back(std::move(job));
  for (Pending& p : found.pending) pending_.push_back(std::move(p));
  if (listing) listings_.push_back(std::move(listing));
  changed_.notify_all();
}

void Walk::drop_everything(std::unique_lock<std::mutex>& lock) {
  std::deque<FileJob> jobs;
  std::vector<Pending> pending;
  std::vector<std::unique_ptr<Listing>> listings;
  jobs.swap(jobs_);
  pending.swap(pending_);
  listings.swap(listings_);
  if (jobs.empty() && pending.empty() && listings.empty()) return;
  lock.unlock();
  jobs.clear();
  pending.clear();
  listings.clear();
  lock.lock();
  changed_.notify_all();
}

bool Walk::skipped(const DirNode& dir, const char* name) const {
  if (options_.skip.empty()) return false;
  const std::string path = dir.relative_path(name);
  return std::find(options_.skip.begin(), options_.skip.end(), path) != options_.skip.end();
}

bool Walk::followed_into_loop(const DirNode& parent, const struct ::stat& st) const {
  for (const DirNode* node = &parent; node != nullptr; node = node->parent())
    if (node->source_stat().st_dev == st.st_dev && node->source_stat().st_ino == st.st_ino)
      return true;
  return false;
}

// Opens a subdirectory of the source, creates (or finds, to merge into) its destination, and
// returns its listing; nullptr when it failed (the error is recorded) or is not to be read.
std::unique_ptr<Walk::Listing> Walk::open_directory(Pending& pending, Found&) {
  DirNode& parent = *pending.parent;
  const char* name = pending.name.c_str();
  int flags = pending.follow ? 0 : O_NOFOLLOW;
  FileJob probe;
  probe.follow = true;
  flags |= context_.source_flags(probe) & O_NOATIME;
  long src = sys::open_directory_at(parent.source_fd(), name, flags);
  if (src < 0 && context_.retry_without_noatime(flags, static_cast<int>(-src)))
    src = sys::open_directory_at(parent.source_fd(), name, flags & ~O_NOATIME);
  if (src < 0) {
    context_.entry_failed(parent, name, "open", static_cast<int>(-src), false);
    return nullptr;
  }
  sys::unique_fd source(static_cast<int>(src));
  struct ::stat st {};
  if (const long rc = sys::stat_fd(source.get(), st); rc < 0) {
    context_.entry_failed(parent, name, "stat", static_cast<int>(-rc), false);
    return nullptr;
  }
  if (pending.follow && followed_into_loop(parent, st)) {
    context_.entry_failed(parent, name, "open", ELOOP, false);
    return nullptr;
  }
  FileOutcome outcome;
  struct ::stat found {};
  const FileContext::Existing existing =
      context_.check_existing(parent, name, st, true, found, outcome);
  if (existing == FileContext::Existing::failed) {
    context_.entry_failed(parent, name, outcome.operation, outcome.code, true,
                          std::move(outcome.detail));
    return nullptr;
  }
  const unsigned wanted = context_.wanted_mode(st);
  unsigned actual = wanted;
  bool fresh = false;
  if (existing == FileContext::Existing::absent) {
    // The copy must be able to fill what it creates: without CAP_DAC_OVERRIDE a directory is
    // created writable and searchable by its owner and given its own mode once it is done.
    unsigned create = wanted & 0777;
    if (!context_.overrides_permissions()) create |= 0700;
    if (!options_.dry_run) {
      if (const long rc = sys::make_directory_at(parent.destination_fd(), name, create); rc < 0) {
        context_.entry_failed(parent, name, "mkdir", static_cast<int>(-rc), true);
        return nullptr;
      }
    }
    actual = create & ~context_.umask();
    fresh = true;
  } else if (options_.preserve.mode) {
    actual = found.st_mode & 07777;
  }
  long dst = -1;
  if (!(options_.dry_run && fresh)) {
    dst = sys::open_directory_at(parent.destination_fd(), name, O_NOFOLLOW);
    if (dst < 0) {
      context_.entry_failed(parent, name, "open", static_cast<int>(-dst), true);
      return nullptr;
    }
  }
  sys::unique_fd destination(static_cast<int>(dst));
  bool setgid = false;
  if (options_.preserve.ownership && destination.valid()) {
    struct ::stat mine {};
    setgid = sys::stat_fd(destination.get(), mine) == 0 && (mine.st_mode & S_ISGID) != 0;
  }
  if (options_.preserve.xattrs && destination.valid()) {
    const MetadataFailure m = copy_directory_xattrs(context_, source.get(), destination.get());
    if (!m.ok()) context_.entry_failed(parent, name, m.operation, m.code, true);
  }
  DirNode::Init init;
  init.parent = &parent;
  init.name = pending.name;
  init.source_fd = source.release();
  init.destination_fd = destination.release();
  init.source = st;
  init.created_mode = actual;
  init.fresh = fresh;
  init.hands_down_group = setgid;
  DirNode* node = DirNode::create(context_, std::move(init));
  if (fresh && options_.dry_run) context_.entry_kept(EntryType::directory, parent, name);
  else context_.entry_copied(EntryType::directory, parent, name);
  auto listing = std::make_unique<Listing>();
  listing->dir = DirRef::adopt(node);
  listing->root = pending.root;
  // cp -x: a directory on another file system is created, but what it holds is not copied.
  listing->done = options_.one_file_system && st.st_dev != root_device(parent);
  return listing;
}

// Reads one buffer of a directory's entries and hands each on; marks the listing done at its end
// (or on an error, recorded against the directory).
void Walk::read_some(Listing& listing, Found& found) {
  if (listing.done) return;
  if (listing.dealt != nullptr && !listing.dealt->names.empty()) return read_names(listing, found);
  if (!listing.buffer) listing.buffer = std::make_unique_for_overwrite<char[]>(kListingBuffer);
  DirNode& dir = *listing.dir;
  long n;
  do n = sys::read_directory(dir.source_fd(), listing.buffer.get(), kListingBuffer);
  while (n == -EINTR);
  if (n <= 0) {
    if (n < 0) context_.entry_failed(dir, "", "read directory", static_cast<int>(-n), false);
    listing.done = true;
    // A directory that failed part way is recorded too: the walk that is dealt it copies what
    // can be read, as one process does, and its error is the same error, told once.
    if (options_.share.log != nullptr && options_.share.directories == nullptr)
      options_.share.log->add(
          SharedDirectory{listing.root, dir.relative_path(), listing.entries, {}});
    return;
  }
  for (long at = 0; at < n;) {
    const auto* entry = reinterpret_cast<const Dirent64*>(listing.buffer.get() + at);
    at += entry->reclen;
    if (dot_or_dotdot(entry->name)) continue;
    ++listing.entries;
    found_entry(listing, entry->name, entry->type, entry->ino, found);
  }
}

// The names of a dealt directory that a later pass takes by inode: each is stat'ed (following a
// symlink with -L) and, when its inode falls to this walk, copied as the walk found it.
void Walk::read_names(Listing& listing, Found& found) {
  for (const std::string& name : listing.dealt->names) {
    if (context_.stopping()) break;
    found_entry(listing, name.c_str(), DT_UNKNOWN, 0, found);
  }
  listing.done = true;
}

// In a walk of whole dealt directories that records what it leaves: whether the entry is left
// (and recorded) for a later pass: the one that copies each hardlink group whole, or the steps
// that copy a large file in pieces.
bool Walk::left_for_later(const Listing& listing, const char* name, const struct ::stat& st) {
  if (listing.dealt == nullptr || !listing.dealt->names.empty()) return false;
  return context_.leaves_for_later(*listing.dealt, name, st);
}

// In a walk level by level (CopyShare::subdirectories): creates the subdirectory `name` of a
// dealt directory as the walk creates any directory, and records it for the next level, where
// some walk reads it. Its metadata waits for the level's metadata pass.
void Walk::make_subdirectory(const Listing& listing, const char* name) {
  SharedLog* next = options_.share.subdirectories;
  if (next == nullptr || !listing.dealt->names.empty()) return;
  Pending pending{DirRef(listing.dir.get()), name, false, listing.root, nullptr};
  Found unused;
  const std::unique_ptr<Listing> made = open_directory(pending, unused);
  // Not made (the failure is recorded), or not to be read (-x: another file system).
  if (!made || made->done) return;
  const auto weight = static_cast<std::uint64_t>(made->dir->source_stat().st_size);
  next->add(SharedDirectory{listing.root, made->dir->relative_path(), weight, {},
                            made->dir->fresh()});
}

// A step of a split copy: a job for each piece of the file `name` of the listing's directory.
void Walk::add_pieces(const Listing& listing, const char* name, bool follow, Found& found) {
  const std::vector<SharedPiece>& pieces = *options_.share.pieces;
  const auto key = [](const SharedPiece& p) { return std::tie(p.root, p.path, p.name); };
  const std::string path = listing.dealt->path, file = name;
  const auto wanted = std::make_tuple(listing.root, std::cref(path), std::cref(file));
  auto at = std::lower_bound(pieces.begin(), pieces.end(), wanted,
                             [&](const SharedPiece& p, const auto& w) { return key(p) < w; });
  for (; at != pieces.end() && key(*at) == wanted; ++at) {
    FileJob job;
    job.dir = DirRef(listing.dir.get());
    job.name = name;
    job.follow = follow;
    job.piece = &*at;
    // The file is found (for the progress line) once, by the step that finishes it.
    if (options_.share.split == SplitStep::commit) context_.file_found(0);
    found.jobs.push_back(std::move(job));
  }
}

void Walk::found_entry(Listing& listing, const char* name, unsigned char type, std::uint64_t inode,
                       Found& found) {
  DirNode& dir = *listing.dir;
  if (skipped(dir, name)) return;
  struct ::stat st {};
  bool known = false;
  // A name a later pass takes is stat'ed as the first walk saw it: through a symlink with -L.
  const bool named = listing.dealt != nullptr && !listing.dealt->names.empty();
  const bool follow = (type == DT_LNK || named) && options_.dereference;
  const bool special = type != DT_DIR && type != DT_REG && type != DT_LNK;
  // A subdirectory of a dealt directory exists already, and is some walk's to read; or, in a
  // walk level by level, is created here and read at the next level.
  if (listing.dealt != nullptr && type == DT_DIR) return make_subdirectory(listing, name);
  // A file of another process's share is not stat'ed for its size: that process counts it.
  const bool size_wanted = type == DT_REG && options_.stat_in_walk && options_.share.takes(inode);
  // A walk that leaves entries for later (those with several links, the files to split) needs
  // their count of links and size: a regular file's come from the engine's fstat after open
  // (FileJob::dealt_in), so that only the other kinds, which are stat'ed to be copied anyway,
  // are stat'ed here for it.
  const bool leaves = listing.dealt != nullptr && listing.dealt->names.empty() &&
                      options_.share.log != nullptr;
  const bool links_wanted = leaves && options_.preserve.links;
  if (type == DT_UNKNOWN || follow || special || size_wanted || (links_wanted && type != DT_REG)) {
    const long rc = sys::stat_at(dir.source_fd(), name, st, follow ? 0 : AT_SYMLINK_NOFOLLOW);
    if (rc < 0) {
      context_.entry_failed(dir, name, "stat", static_cast<int>(-rc), false);
      return;
    }
    type = type_of(st.st_mode);
    known = true;
    inode = st.st_ino;
    if (listing.dealt != nullptr && type == DT_DIR) return make_subdirectory(listing, name);
    if (type != DT_DIR && left_for_later(listing, name, st)) return;
  }
  if (type != DT_DIR && !options_.share.takes(inode)) return;  // another process's
  if (options_.share.pieces != nullptr) {
    if (type == DT_REG) add_pieces(listing, name, follow, found);
    else context_.entry_failed(dir, name, "open", 0, false, "it is no longer a regular file");
    return;
  }
  switch (type) {
    case DT_DIR:
      found.pending.push_back(Pending{DirRef(&dir), name, follow, listing.root, nullptr});
      return;
    case DT_REG: {
      FileJob job;
      job.dir = DirRef(&dir);
      job.name = name;
      job.follow = follow;
      job.walk_size = known ? static_cast<std::uint64_t>(st.st_size) : 0;
      if (leaves && !known) job.dealt_in = listing.dealt;
      context_.file_found(job.walk_size);
      found.jobs.push_back(std::move(job));
      return;
    }
    case DT_LNK:
      copy_symlink(dir, name, name, known ? &st : nullptr);
      return;
    default:
      copy_special(dir, name, name, st);
      return;
  }
}

void Walk::copy_symlink(DirNode& dir, const char* name, const char* destination_name,
                        const struct ::stat* known) {
  struct ::stat st {};
  if (known != nullptr) {
    st = *known;
  } else if (const long rc = sys::stat_at(dir.source_fd(), name, st, AT_SYMLINK_NOFOLLOW); rc < 0) {
    context_.entry_failed(dir, name, "stat", static_cast<int>(-rc), false);
    return;
  }
  std::string target;
  if (const long rc = sys::read_symlink_at(dir.source_fd(), name, target); rc < 0) {
    context_.entry_failed(dir, name, "readlink", static_cast<int>(-rc), false);
    return;
  }
  FileOutcome outcome;
  struct ::stat found {};
  const FileContext::Existing existing =
      context_.check_existing(dir, destination_name, st, false, found, outcome);
  if (existing == FileContext::Existing::failed) {
    context_.entry_failed(dir, name, outcome.operation, outcome.code, true, std::move(outcome.detail));
    return;
  }
  if (existing == FileContext::Existing::keep) {
    context_.entry_kept(EntryType::symlink, dir, name, destination_name);
    return;
  }
  const bool first = !(options_.preserve.links && st.st_nlink > 1) ||
                     context_.links().claim(st.st_dev, st.st_ino, dir, name, destination_name);
  if (!first) return;
  const bool grouped = options_.preserve.links && st.st_nlink > 1;
  if (options_.dry_run) {
    context_.entry_kept(EntryType::symlink, dir, name, destination_name);
    if (grouped) context_.links().copied(st.st_dev, st.st_ino);
    return;
  }
  const long rc = make_entry(dir, destination_name, existing, [&](const char* at) {
    return sys::make_symlink_at(target.c_str(), dir.destination_fd(), at);
  });
  if (rc < 0) {
    context_.entry_failed(dir, name, "symlink", static_cast<int>(-rc), true);
    if (grouped) context_.links().failed(st.st_dev, st.st_ino);
    return;
  }
  const MetadataFailure m = set_entry_metadata(context_, dir, name, destination_name, st, true);
  if (!m.ok()) context_.entry_failed(dir, name, m.operation, m.code, true);
  else context_.entry_copied(EntryType::symlink, dir, name, destination_name);
  if (grouped) context_.links().copied(st.st_dev, st.st_ino);
}

// Makes a symlink or a special file with `make(name)`: under its own name where nothing is
// there, else under a temporary name renamed over what is there, so that the old entry stays
// until the new one exists. Returns 0 or -errno.
long Walk::make_entry(DirNode& dir, const char* destination_name, FileContext::Existing existing,
                      const std::function<long(const char*)>& make) {
  if (existing == FileContext::Existing::absent) return make(destination_name);
  const std::string temp = context_.temporary_name();
  long rc = make(temp.c_str());
  if (rc == 0) {
    rc = sys::rename_at(dir.destination_fd(), temp.c_str(), dir.destination_fd(), destination_name,
                        0);
    if (rc < 0) (void)sys::remove_at(dir.destination_fd(), temp.c_str(), 0);
  }
  return rc;
}

// FIFOs and sockets are made anew (mknodat), never opened and read; devices too, where the
// process may (as root), and otherwise fail as they do for cp.
void Walk::copy_special(DirNode& dir, const char* name, const char* destination_name,
                        const struct ::stat& st) {
  FileOutcome outcome;
  struct ::stat found {};
  const FileContext::Existing existing =
      context_.check_existing(dir, destination_name, st, false, found, outcome);
  if (existing == FileContext::Existing::failed) {
    context_.entry_failed(dir, name, outcome.operation, outcome.code, true, std::move(outcome.detail));
    return;
  }
  if (existing == FileContext::Existing::keep || options_.dry_run) {
    context_.entry_kept(EntryType::special, dir, name, destination_name);
    return;
  }
  const bool grouped = options_.preserve.links && st.st_nlink > 1;
  if (grouped && !context_.links().claim(st.st_dev, st.st_ino, dir, name, destination_name)) return;
  const unsigned mode = (st.st_mode & S_IFMT) | (context_.wanted_mode(st) & 0777);
  const dev_t device = S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? st.st_rdev : 0;
  const long rc = make_entry(dir, destination_name, existing, [&](const char* at) {
    return sys::make_node_at(dir.destination_fd(), at, mode, device);
  });
  if (rc < 0) {
    context_.entry_failed(dir, name, "mknod", static_cast<int>(-rc), true);
    if (grouped) context_.links().failed(st.st_dev, st.st_ino);
    return;
  }
  const MetadataFailure m = set_entry_metadata(context_, dir, name, destination_name, st, false);
  if (!m.ok()) context_.entry_failed(dir, name, m.operation, m.code, true);
  else context_.entry_copied(EntryType::special, dir, name, destination_name);
  if (grouped) context_.links().copied(st.st_dev, st.st_ino);
}

void Walk::add_root(const CopyRoot& root) {
  ++next_root_;
  struct ::stat st {};
  const bool follow = options_.dereference || options_.dereference_roots;
  const int flags = follow ? 0 : AT_SYMLINK_NOFOLLOW;
  if (const long rc = sys::stat_at(AT_FDCWD, root.source.c_str(), st, flags); rc < 0) {
    context_.root_failed(root, "stat", static_cast<int>(-rc), false);
    return;
  }
  if (S_ISDIR(st.st_mode)) add_directory_root(root, st);
  else add_entry_root(root, st);
}

void Walk::add_directory_root(const CopyRoot& root, const struct ::stat& seen) {
  int flags = options_.dereference || options_.dereference_roots ? 0 : O_NOFOLLOW;
  FileJob probe;
  probe.follow = true;
  flags |= context_.source_flags(probe) & O_NOATIME;
  long src = sys::open_directory_at(AT_FDCWD, root.source.c_str(), flags);
  if (src < 0 && context_.retry_without_noatime(flags, static_cast<int>(-src)))
    src = sys::open_directory_at(AT_FDCWD, root.source.c_str(), flags & ~O_NOATIME);
  if (src < 0) return context_.root_failed(root, "open", static_cast<int>(-src), false);
  sys::unique_fd source(static_cast<int>(src));
  struct ::stat st = seen;
  if (const long rc = sys::stat_fd(source.get(), st); rc < 0)
    return context_.root_failed(root, "stat", static_cast<int>(-rc), false);
  std::string refusal;
  if (std::string why = context_.check_not_into_itself(root, refusal, st); !why.empty())
    return context_.root_failed(root, why.c_str(), 0, true, std::move(refusal));
  const unsigned wanted = context_.wanted_mode(st);
  unsigned create = wanted & 0777;
  if (!context_.overrides_permissions()) create |= 0700;
  unsigned actual = create & ~context_.umask();
  bool fresh = true;
  long rc = options_.dry_run ? -ENOENT : sys::make_directory_at(AT_FDCWD, root.destination.c_str(), create);
  if (options_.dry_run) {
    struct ::stat found {};
    fresh = sys::stat_at(AT_FDCWD, root.destination.c_str(), found, 0) < 0;
    rc = 0;
  } else if (rc == -EEXIST) {
    struct ::stat found {};
    if (sys::stat_at(AT_FDCWD, root.destination.c_str(), found, 0) == 0 && S_ISDIR(found.st_mode)) {
      fresh = false;
      actual = options_.preserve.mode ? found.st_mode & 07777 : wanted;
      rc = 0;
    } else {
      return context_.root_failed(root, "mkdir", 0, true,
                                  "cannot overwrite a non-directory with a directory");
    }
  }
  if (rc < 0) return context_.root_failed(root, "mkdir", static_cast<int>(-rc), true);
  long dst = -1;
  if (!(options_.dry_run && fresh)) {
    dst = sys::open_directory_at(AT_FDCWD, root.destination.c_str(), 0);
    if (dst < 0) return context_.root_failed(root, "open", static_cast<int>(-dst), true);
  }
  sys::unique_fd destination(static_cast<int>(dst));
  if (options_.preserve.xattrs && destination.valid()) {
    const MetadataFailure m = copy_directory_xattrs(context_, source.get(), destination.get());
    if (!m.ok()) context_.root_failed(root, m.operation, m.code, true);
  }
  DirNode::Init init;
  init.source_prefix = root.source;
  init.destination_prefix = root.destination;
  init.source_fd = source.release();
  init.destination_fd = destination.release();
  init.source = st;
  init.created_mode = actual;
  init.fresh = fresh;
  const std::vector<SharedDirectory>* dealt = options_.share.directories;
  const unsigned index = next_root_ - 1;
  // A walk of dealt directories leaves the root's own entry and metadata to the walk that
  // created it: in a walk level by level, the one it is dealt to, at the first level to count
  // it, at the last to set its metadata.
  const bool owns_root =
      dealt != nullptr && std::any_of(dealt->begin(), dealt->end(), [&](const SharedDirectory& d) {
        return d.root == index && d.path.empty();
      });
  init.apply_metadata = dealt == nullptr || (owns_root && options_.share.metadata_only);
  DirNode* node = DirNode::create(context_, std::move(init));
  if (dealt == nullptr || (owns_root && options_.share.subdirectories != nullptr)) {
    if (fresh && options_.dry_run) context_.entry_kept(EntryType::directory, *node, "");
    else context_.entry_copied(EntryType::directory, *node, "");
  }
  auto listing = std::make_unique<Listing>();
  listing->dir = DirRef::adopt(node);
  listing->root = index;
  std::lock_guard lock(mutex_);
  roots_.push_back(DirRef(node));
  if (dealt == nullptr) {
    listings_.push_back(std::move(listing));
    return;
  }
  // Only the directories dealt to this walk are read, each opened when the walk comes to it.
  for (const SharedDirectory& d : *dealt) {
    if (d.root != index) continue;
    if (d.path.empty() && options_.share.metadata_only) continue;  // the root's node sets it
    if (d.path.empty()) {
      auto own = std::make_unique<Listing>();
      own->dir = DirRef(node);
      own->root = index;
      own->dealt = &d;
      listings_.push_back(std::move(own));
    } else {
      pending_.push_back(Pending{DirRef(node), d.path, false, index, &d});
    }
  }
}

// Opens a directory dealt to this walk, below its root: it and its destination exist (the walk
// that created the directories made it), except in a dry run. nullptr when it cannot be opened
// (the error is recorded, by this walk only).
std::unique_ptr<Walk::Listing> Walk::open_dealt(Pending& pending) {
  DirNode& root = *pending.parent;
  const char* path = pending.dealt->path.c_str();
  int flags = options_.dereference ? 0 : O_NOFOLLOW;
  FileJob probe;
  probe.follow = true;
  flags |= context_.source_flags(probe) & O_NOATIME;
  long src = sys::open_directory_below(root.source_fd(), pending.dealt->path, flags);
  if (src < 0 && context_.retry_without_noatime(flags, static_cast<int>(-src)))
    src = sys::open_directory_below(root.source_fd(), pending.dealt->path, flags & ~O_NOATIME);
  if (src < 0) {
    context_.entry_failed(root, path, "open", static_cast<int>(-src), false);
    return nullptr;
  }
  sys::unique_fd source(static_cast<int>(src));
  struct ::stat st {};
  if (const long rc = sys::stat_fd(source.get(), st); rc < 0) {
    context_.entry_failed(root, path, "stat", static_cast<int>(-rc), false);
    return nullptr;
  }
  long dst = root.destination_fd() < 0
                 ? -ENOENT
                 : sys::open_directory_below(root.destination_fd(), pending.dealt->path,
                                        options_.dereference ? 0 : O_NOFOLLOW);
  bool fresh = false;
  if (dst < 0 && options_.dry_run) {
    fresh = true;  // only planned: nothing is there
  } else if (dst < 0) {
    context_.entry_failed(root, path, "open", static_cast<int>(-dst), true);
    return nullptr;
  }
  sys::unique_fd destination(static_cast<int>(dst));
  // Its mode as it is: whether it hands down its group, and whether its metadata needs a chmod.
  struct ::stat mine {};
  const bool known = destination.valid() &&
                     (options_.preserve.ownership || options_.share.metadata_only) &&
                     sys::stat_fd(destination.get(), mine) == 0;
  const bool setgid = known && options_.preserve.ownership && (mine.st_mode & S_ISGID) != 0;
  DirNode::Init init;
  init.parent = &root;
  init.name = pending.dealt->path;
  init.source_fd = source.release();
  init.destination_fd = destination.release();
  init.source = st;
  init.created_mode = mine.st_mode & 07777;
  // Made by the level before, and read by this walk alone: no entry is there yet to look for.
  init.fresh = fresh || (pending.dealt->fresh && options_.share.subdirectories != nullptr);
  // The walk that created it sets its metadata once every walk is done: a pass of
  // metadata_only, or the last pass of the walk that created every directory.
  init.apply_metadata = options_.share.metadata_only;
  init.hands_down_group = setgid;
  auto listing = std::make_unique<Listing>();
  listing->dir = DirRef::adopt(DirNode::create(context_, std::move(init)));
  listing->root = pending.root;
  listing->dealt = pending.dealt;
  listing->done = options_.share.metadata_only;
  return listing;
}

// A root that is not a directory: a file, symlink or special file copied under the name its
// destination gives, in the destination's directory.
void Walk::add_entry_root(const CopyRoot& root, const struct ::stat& st) {
  const std::string source_parent = parent_of(root.source);
  const std::string destination_parent = parent_of(root.destination);
  const long src = sys::open_directory_at(AT_FDCWD, source_parent.empty() ? "." : source_parent.c_str(), 0);
  if (src < 0) return context_.root_failed(root, "open", static_cast<int>(-src), false);
  sys::unique_fd source(static_cast<int>(src));
  const long dst = sys::open_directory_at(
      AT_FDCWD, destination_parent.empty() ? "." : destination_parent.c_str(), 0);
  if (dst < 0) return context_.root_failed(root, "open", static_cast<int>(-dst), true);
  DirNode::Init init;
  init.source_prefix = source_parent;
  init.destination_prefix = destination_parent;
  init.source_fd = source.release();
  init.destination_fd = static_cast<int>(dst);
  init.apply_metadata = false;
  init.hands_down_group = true;  // not known: chown whenever ownership is kept
  DirNode* node = DirNode::create(context_, std::move(init));
  const std::string name = base_of(root.source);
  const std::string destination_name = base_of(root.destination);
  if (!options_.share.entry_roots || !options_.share.takes(st.st_ino)) {
    // Another process's to copy.
  } else if (S_ISREG(st.st_mode)) {
    FileJob job;
    job.dir = DirRef(node);
    job.name = name;
    if (destination_name != name) job.rename = destination_name;
    job.follow = options_.dereference || options_.dereference_roots;
    context_.file_found(static_cast<std::uint64_t>(st.st_size));
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  } else if (S_ISLNK(st.st_mode)) {
    copy_symlink(*node, name.c_str(), destination_name.c_str(), &st);
  } else {
    copy_special(*node, name.c_str(), destination_name.c_str(), st);
  }
  std::lock_guard lock(mutex_);
  roots_.push_back(DirRef::adopt(node));
}

void Walk::release_roots() {
  std::vector<DirRef> roots;
  {
    std::lock_guard lock(mutex_);
    roots.swap(roots_);
  }
  roots.clear();
}

}  // namespace ccopy::copy
