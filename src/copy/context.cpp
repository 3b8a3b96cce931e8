#include "copy/context.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fmt/format.h>

#include "copy/metadata.hpp"
#include "sys/sys.hpp"

namespace ccopy::copy {
namespace {

// Errors that say the file system cannot clone (or copy_file_range) rather than that this file
// failed: the copy stops asking for the rest of the run, as libuv does.
bool means_unsupported(long rc) {
  return rc == -EXDEV || rc == -ENOSYS || rc == -EOPNOTSUPP || rc == -EINVAL || rc == -ENOTTY ||
         rc == -EPERM;
}

bool same_time(const struct ::timespec& a, const struct ::timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

bool newer(const struct ::timespec& a, const struct ::timespec& b) {
  return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

// Whether this process has CAP_DAC_OVERRIDE, read from /proc/self/status (CapEff, bit 1), so
// that no library beyond libc is needed.
bool has_dac_override() {
  std::FILE* file = std::fopen("/proc/self/status", "re");
  if (file == nullptr) return ::geteuid() == 0;
  char line[256];
  bool found = false;
  unsigned long long caps = 0;
  while (std::fgets(line, sizeof line, file) != nullptr) {
    if (std::strncmp(line, "CapEff:", 7) == 0) {
      caps = std::strtoull(line + 7, nullptr, 16);
      found = true;
      break;
    }
  }
  std::fclose(file);
  if (!found) return ::geteuid() == 0;
  return (caps & (1ULL << 1)) != 0;
}

std::string parent_path(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

FileContext::FileContext(const CopyOptions& options, CopyObserver& observer,
                         CopyProgress* progress)
    : options_(options),
      observer_(observer),
      progress_(progress),
      links_(*this),
      umask_(sys::current_umask()),
      euid_(::geteuid()),
      egid_(::getegid()),
      overrides_permissions_(has_dac_override()),
      temp_seed_(static_cast<std::uint64_t>(now_ns()) ^ (static_cast<std::uint64_t>(::getpid()) << 32)) {}

bool FileContext::stopping() const {
  if (stop_.load(std::memory_order_relaxed)) return true;
  return options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed);
}

int FileContext::source_flags(const FileJob& job) const {
  int flags = O_RDONLY | O_CLOEXEC;
  if (!job.follow) flags |= O_NOFOLLOW;
  if (!noatime_refused_.load(std::memory_order_relaxed)) flags |= O_NOATIME;
  return flags;
}

bool FileContext::retry_without_noatime(int flags, int err) {
  if (err != EPERM || (flags & O_NOATIME) == 0) return false;
  noatime_refused_.store(true, std::memory_order_relaxed);
  return true;
}

unsigned FileContext::wanted_mode(const struct ::stat& source) const {
  if (options_.preserve.mode) return source.st_mode & 07777;
  return source.st_mode & 0777 & ~umask_;
}

bool FileContext::needs_chown(const struct ::stat& source, const DirNode* container) const {
  if (source.st_uid != euid_ || source.st_gid != egid_) return true;
  return container == nullptr || container->hands_down_group();
}

void FileContext::ownership_refused() { ownership_refusals_.fetch_add(1, std::memory_order_relaxed); }

std::string FileContext::temporary_name() {
  std::uint64_t x = temp_seed_ + 0x9e3779b97f4a7c15ULL * (temp_counter_.fetch_add(1) + 1);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return fmt::format(".ccopy-{:016x}", x ^ (x >> 31));
}

FileContext::Existing FileContext::check_existing(const DirNode& dir, const char* name,
                                                  const struct ::stat& source,
                                                  bool source_is_directory, struct ::stat& found,
                                                  FileOutcome& outcome) {
  if (dir.fresh()) return Existing::absent;
  const long rc = sys::stat_at(dir.destination_fd(), name, found, AT_SYMLINK_NOFOLLOW);
  if (rc == -ENOENT) return Existing::absent;
  if (rc < 0) {
    outcome.fail("stat", static_cast<int>(-rc), true);
    return Existing::failed;
  }
  if (found.st_dev == source.st_dev && found.st_ino == source.st_ino) {
    outcome.fail("same file", "it is the same file as the source", true);
    return Existing::failed;
  }
  if (S_ISDIR(found.st_mode) && !source_is_directory) {
    outcome.fail("create", "cannot overwrite a directory with a non-directory", true);
    return Existing::failed;
  }
  if (source_is_directory) {
    if (S_ISDIR(found.st_mode)) return Existing::replace;  // merged into
    outcome.fail("mkdir", "cannot overwrite a non-directory with a directory", true);
    return Existing::failed;
  }
  switch (options_.overwrite) {
    case Overwrite::refuse:
      outcome.fail("create", EEXIST, true);
      return Existing::failed;
    case Overwrite::never:
      return Existing::keep;
    case Overwrite::older:
      return newer(source.st_mtim, found.st_mtim) ? Existing::replace : Existing::keep;
    case Overwrite::replace:
      break;
  }
  return Existing::replace;
}

void FileContext::plan(FileJob& job, int source_fd, const struct ::stat& st, FilePlan& plan,
                       FileOutcome& outcome) {
  plan.source = st;
  plan.action = FilePlan::Action::done;
  if (!S_ISREG(st.st_mode)) {
    outcome.fail("open", "it is no longer a regular file", false);
    return;
  }
  if (stopping()) {
    outcome.cancelled = true;
    return;
  }
  if (job.dealt_in != nullptr && leaves_for_later(*job.dealt_in, job.name, st)) {
    plan.left = true;
    if (progress_ != nullptr) progress_->files_found.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  if (job.piece != nullptr) return plan_piece(job, source_fd, st, plan, outcome);
  Existing existing = Existing::absent;
  if (!file_wanted(job, st, existing, outcome)) return;
  if (options_.preserve.links && st.st_nlink > 1) {
    plan.link_target = links_.claim(st.st_dev, st.st_ino, *job.dir, job.name,
                                    job.destination_name());
    if (!plan.link_target) return;  // a later name: linked by the registry
  }
  plan.size = static_cast<std::uint64_t>(st.st_size);
  if (options_.dry_run) {
    entry_kept(EntryType::file, *job.dir, job.name, job.destination_name());
    if (plan.link_target) links_.copied(st.st_dev, st.st_ino);
    plan.link_target = false;
    return;
  }
  plan_extents(source_fd, plan);
  plan.zero_blocks_to_holes = options_.sparse == Sparse::always;
  plan.sparse = plan.zero_blocks_to_holes || plan.data_bytes < plan.size;
  plan.try_reflink = (options_.reflink == Reflink::automatic ||
                      options_.reflink == Reflink::always) &&
                     plan.size > 0 &&
                     (options_.reflink == Reflink::always ||
                      !reflink_refused_.load(std::memory_order_relaxed));
  plan_creation(job, st, existing == Existing::replace, plan);
  plan.may_share_extents = options_.reflink == Reflink::automatic ||
                           options_.reflink == Reflink::always ||
                           destination_never_shares(plan.create_dir);
  plan.action = FilePlan::Action::copy;
}

// What is at a file job's destination: false when the file is not to be written (kept as it
// is, told here; or the check failed, in `outcome`).
bool FileContext::file_wanted(FileJob& job, const struct ::stat& st, Existing& existing,
                              FileOutcome& outcome) {
  struct ::stat found {};
  existing = check_existing(*job.dir, job.destination_name(), st, false, found, outcome);
  if (existing == Existing::failed) return false;
  if (existing == Existing::keep) {
    entry_kept(EntryType::file, *job.dir, job.name, job.destination_name());
    return false;
  }
  return true;
}

bool FileContext::leaves_for_later(const SharedDirectory& dealt, const std::string& name,
                                   const struct ::stat& st) {
  const CopyShare& share = options_.share;
  if (share.log == nullptr || S_ISDIR(st.st_mode)) return false;
  if (options_.preserve.links && st.st_nlink > 1) {
    // A name of a hardlink group: the pass that copies each group by one process takes it.
    share.log->add(SharedDirectory{dealt.root, dealt.path, 0, {name}});
    return true;
  }
  if (S_ISREG(st.st_mode) && share.large != nullptr && share.split_size > 0 &&
      !options_.dry_run && static_cast<std::uint64_t>(st.st_size) > share.split_size) {
    share.large->add(
        SharedDirectory{dealt.root, dealt.path, static_cast<std::uint64_t>(st.st_size), {name}});
    return true;
  }
  return false;
}

// A step of a split file (SplitStep): the create step plans the destination as a whole file's,
// with no data; the piece step only the piece's data, into the destination as it was created;
// the commit step no data, and the metadata and the name as a whole file's.
void FileContext::plan_piece(FileJob& job, int source_fd, const struct ::stat& st,
                             FilePlan& plan, FileOutcome& outcome) {
  const SharedPiece& piece = *job.piece;
  const SplitStep step = options_.share.split;
  plan.piece = true;
  if (static_cast<std::uint64_t>(st.st_size) != piece.size) {
    outcome.fail("read", "the source changed while it was copied", false);
    return;
  }
  if (step == SplitStep::commit && piece.failed) {
    // A piece failed, and said so: the file is not finished (and what was created goes).
    plan.left = true;
    return;
  }
  plan.size = piece.size;
  bool exists = false;
  if (step == SplitStep::create) {
    Existing existing = Existing::absent;
    if (!file_wanted(job, st, existing, outcome)) return;
    exists = existing == Existing::replace;
  } else {
    exists = static_cast<Commit>(piece.commit) != Commit::direct;
  }
  plan_creation(job, st, exists, plan);
  // Every process opens the destination for writing, its owner included: it stays writable by
  // its owner until the commit step gives it its mode.
  const bool writable = (plan.create_mode & 0600) == 0600 || plan.commit == Commit::inplace;
  if (step == SplitStep::create) {
    plan.sparse = true;  // sized when created, and no data: every piece writes inside the size
    plan.create_mode |= 0600;
  } else {
    // The destination exists under the name its owner created it under, with its size.
    plan.create_name = piece.into;
    if (plan.commit == Commit::rename) plan.temp_name = piece.into;
    // As the create step opened it: an in-place destination through a symlink too.
    plan.create_flags = plan.commit == Commit::inplace ? O_WRONLY | O_CLOEXEC
                                                       : O_WRONLY | O_CLOEXEC | O_NOFOLLOW;
    plan.sized = true;
    if (!writable) plan.fix_mode = true;
    if (step == SplitStep::piece) {
      plan.commit = Commit::inplace;  // a piece never removes the file: its owner does
      plan.fix_mode = false;
      plan_extents(source_fd, plan);
      std::vector<Extent> mine;
      plan.data_bytes = 0;
      const std::uint64_t from = piece.offset, to = piece.offset + piece.length;
      for (const Extent& e : plan.extents) {
        const std::uint64_t a = std::max(e.offset, from), b = std::min(e.offset + e.length, to);
        if (a < b) {
          mine.push_back({a, b - a});
          plan.data_bytes += b - a;
        }
      }
      plan.extents = std::move(mine);
      plan.zero_blocks_to_holes = options_.sparse == Sparse::always;
    }
  }
  plan.may_share_extents = options_.reflink == Reflink::automatic ||
                           options_.reflink == Reflink::always ||
                           destination_never_shares(plan.create_dir);
  plan.action = FilePlan::Action::copy;
}

// The data extents of a sparse source (SEEK_DATA/SEEK_HOLE); one extent for a dense one, or
// when the file system cannot say (the copy then writes the holes as zeros).
void FileContext::plan_extents(int source_fd, FilePlan& plan) {
  plan.extents.clear();
  const std::uint64_t size = plan.size;
  const bool sparse = options_.sparse != Sparse::never && size > 0 &&
                      static_cast<std::uint64_t>(plan.source.st_blocks) * 512 < size;
  if (sparse) {
    std::uint64_t at = 0;
    bool known = true;
    while (at < size) {
      const long long data = sys::seek_data(source_fd, at, SEEK_DATA);
      if (data == -ENXIO) break;  // only a hole is left
      if (data < 0) {
        known = false;
        break;
      }
      const long long hole = sys::seek_data(source_fd, static_cast<std::uint64_t>(data), SEEK_HOLE);
      if (hole < 0) {
        known = false;
        break;
      }
      const auto end = std::min<std::uint64_t>(static_cast<std::uint64_t>(hole), size);
      if (end > static_cast<std::uint64_t>(data))
        plan.extents.push_back({static_cast<std::uint64_t>(data), end - static_cast<std::uint64_t>(data)});
      at = end;
    }
    if (known) {
      plan.data_bytes = 0;
      for (const Extent& e : plan.extents) plan.data_bytes += e.length;
      return;
    }
    plan.extents.clear();
  }
  if (size > 0) plan.extents.push_back({0, size});
  plan.data_bytes = size;
}

void FileContext::plan_creation(FileJob& job, const struct ::stat& st, bool exists,
                                FilePlan& plan) {
  const unsigned mode = wanted_mode(st);
  plan.create_dir = job.destination_dir();
  plan.create_mode = mode & 0777;
  // The kernel takes the umask off the mode; special bits need a chmod of their own.
  plan.fix_mode = (mode & ~(0777u & ~umask_)) != 0;
  if (!exists) {
    plan.commit = Commit::direct;
    plan.create_name = job.destination_name();
    plan.create_flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
  } else if (options_.inplace) {
    plan.commit = Commit::inplace;
    plan.create_name = job.destination_name();
    // As cp: a symlink at the destination is written through to the file it names, and one
    // that names nothing is not (no O_CREAT: cp refuses to write through a dangling symlink).
    plan.create_flags = O_WRONLY | O_TRUNC | O_CLOEXEC;
    plan.fix_mode = options_.preserve.mode;  // an existing file keeps its mode otherwise
  } else {
    plan.commit = Commit::rename;
    plan.temp_name = temporary_name();
    plan.create_name = plan.temp_name;
    plan.create_flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
  }
}

// A destination that will have holes gets its size before any byte is written: writes inside
// the file's size then allocate only what they write, where writes that extend a file may
// allocate beyond it (xfs's speculative preallocation), blocks that a later truncate to the full
// size would leave inside the file.
bool FileContext::created(FilePlan& plan, long fd, FileOutcome& outcome) {
  if (fd < 0) {
    outcome.fail("create", static_cast<int>(-fd), true);
    return false;
  }
  plan.created = true;
  if (plan.sparse && plan.size > 0) {
    if (const long rc = sys::truncate_fd(static_cast<int>(fd), plan.size); rc < 0) {
      outcome.fail("truncate", static_cast<int>(-rc), true);
      return true;  // created: the caller closes it, and done() removes it
    }
    plan.sized = true;
  }
  return true;
}

bool FileContext::destination_never_shares(int dir_fd) {
  int known = never_shares_.load(std::memory_order_relaxed);
  if (known < 0) {
    known = sys::never_shares_extents(dir_fd) ? 1 : 0;
    never_shares_.store(known, std::memory_order_relaxed);
  }
  return known == 1;
}

bool FileContext::reflink(int source_fd, int destination_fd, FilePlan& plan,
                          FileOutcome& outcome) {
  if (!plan.try_reflink) return false;
  long rc;
  do rc = sys::clone_file(destination_fd, source_fd);
  while (rc == -EINTR);
  if (rc == 0) {
    plan.reflinked = true;
    outcome.bytes = plan.size;
    bytes_moved(plan.size);
    return true;
  }
  if (options_.reflink == Reflink::always) {
    outcome.fail("clone", static_cast<int>(-rc), true);
    return false;
  }
  if (means_unsupported(rc) && !reflink_refused_.exchange(true))
    note(fmt::format("FICLONE refused ({}): no reflinks, the bytes were copied",
                     sys::error_text(static_cast<int>(-rc))));
  return false;
}

bool FileContext::all_zero(std::span<const char> data) {
  // Word at a time where aligned; the tail byte by byte.
  std::size_t i = 0;
  for (; i + sizeof(std::uint64_t) <= data.size(); i += sizeof(std::uint64_t)) {
    std::uint64_t word;
    std::memcpy(&word, data.data() + i, sizeof word);
    if (word != 0) return false;
  }
  for (; i < data.size(); ++i)
    if (data[i] != 0) return false;
  return true;
}

void FileContext::finish(FileJob& job, FilePlan& plan, int source_fd, int destination_fd,
                         FileOutcome& outcome) {
  if (!outcome.ok()) return;
  if (plan.piece && options_.share.split != SplitStep::commit) {
    plan.committed = true;  // created and sized, or a piece written: the commit step finishes it
    return;
  }
  if (plan.sparse && !plan.sized && !plan.reflinked && plan.size > 0) {
    if (const long rc = sys::truncate_fd(destination_fd, plan.size); rc < 0)
      return outcome.fail("truncate", static_cast<int>(-rc), true);
  }
  const MetadataFailure m =
      set_file_metadata(*this, *job.dir, source_fd, destination_fd, plan.source, plan.fix_mode);
  if (!m.ok()) return outcome.fail(m.operation, m.code, true);
  if (options_.detect_changes) {
    struct ::stat now {};
    if (const long rc = sys::stat_fd(source_fd, now); rc < 0)
      return outcome.fail("stat", static_cast<int>(-rc), false);
    if (now.st_size != plan.source.st_size || !same_time(now.st_mtim, plan.source.st_mtim))
      return outcome.fail("read", "the source changed while it was copied", false);
  }
  if (plan.commit == Commit::rename) {
    const long rc = sys::rename_at(plan.create_dir, plan.temp_name.c_str(), job.destination_dir(),
                                   job.destination_name(), 0);
    if (rc < 0) return outcome.fail("rename", static_cast<int>(-rc), true);
  }
  plan.committed = true;
}

void FileContext::remove_partial(FilePlan& plan) {
  if (!plan.created || plan.committed || plan.commit == Commit::inplace) return;
  (void)sys::remove_at(plan.create_dir, plan.create_name.c_str(), 0);
}

void FileContext::done(FileJob& job, FilePlan& plan, FileOutcome& outcome) {
  if (plan.left && outcome.ok()) {
    job.dir.reset();
    return;
  }
  if (plan.piece && options_.share.split != SplitStep::commit) return piece_done(job, plan, outcome);
  if (options_.record_latencies && plan.started_ns != 0) {
    const std::int64_t latency = now_ns() - plan.started_ns;
    std::lock_guard lock(mutex_);
    latencies_.push_back(latency);
  }
  if (!outcome.ok()) {
    remove_partial(plan);
    if (plan.link_target) links_.failed(plan.source.st_dev, plan.source.st_ino);
    if (!outcome.cancelled) {
      entry_failed(*job.dir, job.name, outcome.operation, outcome.code, outcome.on_destination,
                   std::move(outcome.detail));
      if (outcome.on_destination && (outcome.code == ENOSPC || outcome.code == EDQUOT))
        fatal(Error::from_errno(outcome.code, "the destination is full"));
    }
    job.dir.reset();
    return;
  }
  if (plan.action == FilePlan::Action::copy) {
    count(EntryType::file, outcome.bytes, plan.reflinked);
    if (progress_ != nullptr) progress_->files_done.fetch_add(1, std::memory_order_relaxed);
    if (options_.report_entries)
      tell_copied(EntryType::file, job.dir->source_path(job.name),
                  job.dir->destination_path(job.destination_name()), plan.reflinked, false);
    if (plan.link_target) links_.copied(plan.source.st_dev, plan.source.st_ino);
    if (progress_ != nullptr) progress_->entries_done.fetch_add(1, std::memory_order_relaxed);
    if (plan.piece && options_.share.log != nullptr)  // SplitStep::commit: the file is done
      options_.share.log->add(
          SharedDirectory{job.piece->root, job.piece->path, 0, {job.piece->name}});
  }
  job.dir.reset();
}

// The create or piece step of a split file is over: its bytes are counted (the file is, once, by
// the commit step), and the next step is told what it needs (CopyShare::split).
void FileContext::piece_done(FileJob& job, FilePlan& plan, FileOutcome& outcome) {
  const SharedPiece& piece = *job.piece;
  SharedLog* log = options_.share.log;
  const bool create = options_.share.split == SplitStep::create;
  if (outcome.ok()) {
    if (plan.action == FilePlan::Action::copy && create) {
      if (log != nullptr)
        log->add(SharedDirectory{piece.root, piece.path, static_cast<std::uint64_t>(plan.commit),
                                 {piece.name, plan.create_name}});
    } else if (plan.action == FilePlan::Action::copy) {
      bytes_.fetch_add(outcome.bytes, std::memory_order_relaxed);
    }
    job.dir.reset();
    return;
  }
  if (create) remove_partial(plan);
  if (!create && log != nullptr) log->add(SharedDirectory{piece.root, piece.path, 0, {piece.name}});
  if (!outcome.cancelled) {
    entry_failed(*job.dir, job.name, outcome.operation, outcome.code, outcome.on_destination,
                 std::move(outcome.detail));
    if (outcome.on_destination && (outcome.code == ENOSPC || outcome.code == EDQUOT))
      fatal(Error::from_errno(outcome.code, "the destination is full"));
  }
  job.dir.reset();
}

void FileContext::failed_before_plan(FileJob& job, FileOutcome& outcome) {
  FilePlan none;
  done(job, none, outcome);
}

void FileContext::bytes_moved(std::uint64_t bytes) {
  if (progress_ != nullptr) progress_->bytes_done.fetch_add(bytes, std::memory_order_relaxed);
}

void FileContext::note(std::string text) {
  {
    std::lock_guard lock(mutex_);
    if (std::find(notes_.begin(), notes_.end(), text) != notes_.end()) return;
    notes_.push_back(text);
  }
  observer_.note(text);
}

void FileContext::fatal(Error error) {
  {
    std::lock_guard lock(mutex_);
    if (!fatal_) fatal_ = std::move(error);
  }
  stop_.store(true, std::memory_order_relaxed);
}

void FileContext::record(CopyError error) {
  failed_.fetch_add(1, std::memory_order_relaxed);
  if (progress_ != nullptr) {
    progress_->failures.fetch_add(1, std::memory_order_relaxed);
    progress_->entries_done.fetch_add(1, std::memory_order_relaxed);
  }
  observer_.failed(error);
  std::lock_guard lock(mutex_);
  if (errors_.size() < CopyResult::kMaxKeptErrors) errors_.push_back(std::move(error));
}

void FileContext::entry_failed(const DirNode& dir, std::string_view name, const char* operation,
                               int code, bool on_destination, std::string detail) {
  CopyError error;
  error.path = dir.source_path(name);
  if (on_destination) error.destination = dir.destination_path(name);
  error.operation = operation != nullptr ? operation : "copy";
  error.code = code;
  error.detail = std::move(detail);
  record(std::move(error));
}

void FileContext::root_failed(const CopyRoot& root, const char* operation, int code,
                              bool on_destination, std::string detail) {
  CopyError error;
  error.path = root.source;
  if (on_destination) error.destination = root.destination;
  error.operation = operation;
  error.code = code;
  error.detail = std::move(detail);
  record(std::move(error));
}

std::string FileContext::check_not_into_itself(const CopyRoot& root, std::string& detail,
                                               const struct ::stat& source) const {
  struct ::stat seen {};
  std::string start = root.destination;
  if (sys::stat_at(AT_FDCWD, start.c_str(), seen, 0) < 0) {
    start = parent_path(start);
  } else if (seen.st_dev == source.st_dev && seen.st_ino == source.st_ino) {
    detail = "it is the same file as the source";
    return "same file";
  }
  long fd = sys::open_directory_at(AT_FDCWD, start.c_str(), 0);
  // Up through "..", until the root of the namespace (its ".." is itself).
  for (unsigned depth = 0; fd >= 0 && depth < 4096; ++depth) {
    sys::unique_fd here(static_cast<int>(fd));
    struct ::stat st {};
    if (sys::stat_fd(here.get(), st) < 0) break;
    if (st.st_dev == source.st_dev && st.st_ino == source.st_ino)
    {
      detail = fmt::format("cannot copy a directory, '{}', into itself, '{}'", root.source,
                           root.destination);
      return "into itself";
    }
    fd = sys::open_directory_at(here.get(), "..", 0);
    struct ::stat up {};
    if (fd >= 0 && sys::stat_fd(static_cast<int>(fd), up) == 0 && up.st_dev == st.st_dev &&
        up.st_ino == st.st_ino) {
      (void)::close(static_cast<int>(fd));
      break;
    }
  }
  return {};
}

void FileContext::count(EntryType type, std::uint64_t bytes, bool reflinked) {
  switch (type) {
    case EntryType::directory: directories_.fetch_add(1, std::memory_order_relaxed); break;
    case EntryType::file: files_.fetch_add(1, std::memory_order_relaxed); break;
    case EntryType::symlink: symlinks_.fetch_add(1, std::memory_order_relaxed); break;
    case EntryType::hardlink: hardlinks_.fetch_add(1, std::memory_order_relaxed); break;
    case EntryType::special: specials_.fetch_add(1, std::memory_order_relaxed); break;
  }
  if (bytes != 0) bytes_.fetch_add(bytes, std::memory_order_relaxed);
  if (reflinked) reflinked_.fetch_add(1, std::memory_order_relaxed);
}

void FileContext::tell_copied(EntryType type, std::string source, std::string destination,
                              bool reflinked, bool skipped) {
  CopiedEntry entry;
  entry.type = type;
  entry.source = std::move(source);
  entry.destination = std::move(destination);
  entry.reflinked = reflinked;
  entry.skipped = skipped;
  observer_.copied(entry);
}

void FileContext::entry_copied(EntryType type, const DirNode& dir, std::string_view name,
                               std::string_view destination_name) {
  count(type, 0, false);
  if (progress_ != nullptr && type != EntryType::directory)
    progress_->entries_done.fetch_add(1, std::memory_order_relaxed);
  if (options_.report_entries)
    tell_copied(type, dir.source_path(name),
                dir.destination_path(destination_name.empty() ? name : destination_name), false,
                false);
}

void FileContext::entry_kept(EntryType type, const DirNode& dir, std::string_view name,
                             std::string_view destination_name) {
  skipped_.fetch_add(1, std::memory_order_relaxed);
  if (progress_ != nullptr) progress_->entries_done.fetch_add(1, std::memory_order_relaxed);
  if (options_.report_entries)
    tell_copied(type, dir.source_path(name),
                dir.destination_path(destination_name.empty() ? name : destination_name), false,
                true);
}

void FileContext::directory_done(DirNode& dir) {
  if (progress_ != nullptr && dir.applies_metadata())
    progress_->entries_done.fetch_add(1, std::memory_order_relaxed);
  if (!dir.applies_metadata() || options_.dry_run || dir.destination_fd() < 0) return;
  if (!options_.share.directory_metadata) return;
  const MetadataFailure m = set_directory_metadata(*this, dir);
  if (!m.ok()) {
    CopyError error;
    error.path = dir.source_path();
    error.destination = dir.destination_path();
    error.operation = m.operation;
    error.code = m.code;
    record(std::move(error));
  }
}

void FileContext::file_found(std::uint64_t bytes) {
  if (progress_ == nullptr) return;
  progress_->files_found.fetch_add(1, std::memory_order_relaxed);
  if (bytes != 0) progress_->bytes_found.fetch_add(bytes, std::memory_order_relaxed);
}

void FileContext::walk_finished() {
  if (progress_ != nullptr) progress_->walk_done.store(true, std::memory_order_relaxed);
}

CopyResult FileContext::take_result() {
  links_.clear();
  CopyResult result;
  result.copied.files = files_.load();
  result.copied.directories = directories_.load();
  result.copied.symlinks = symlinks_.load();
  result.copied.hardlinks = hardlinks_.load();
  result.copied.specials = specials_.load();
  result.copied.bytes = bytes_.load();
  result.copied.reflinked = reflinked_.load();
  result.copied.skipped = skipped_.load();
  result.failed = failed_.load();
  if (const std::uint64_t refused = ownership_refusals_.load(); refused > 0)
    note(fmt::format("the owner of {} entr{} could not be kept (not permitted): they belong to "
                     "the user who copied them",
                     refused, refused == 1 ? "y" : "ies"));
  std::lock_guard lock(mutex_);
  result.errors = std::move(errors_);
  result.notes = std::move(notes_);
  result.latencies_ns = std::move(latencies_);
  result.fatal = std::move(fatal_);
  result.cancelled = options_.cancel != nullptr && options_.cancel->load() && !result.fatal;
  return result;
}

}  // namespace ccopy::copy
