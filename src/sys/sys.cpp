#include "sys/sys.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

namespace ccopy::sys {
namespace {

// Tests install a hook before the engines start and remove it after they finish; the context
// is published before the hook, so a thread that sees the hook sees its context.
std::atomic<FaultHook> g_hook{nullptr};
std::atomic<void*> g_hook_context{nullptr};

long result_of(long rc) { return rc < 0 ? -errno : rc; }

bool is_open(Op op) {
  return op == Op::open_source || op == Op::create_destination || op == Op::open_directory;
}

}  // namespace

void unique_fd::reset(int fd) {
  if (fd_ >= 0) (void)::close(fd_);
  fd_ = fd;
}

const char* op_name(Op op) {
  switch (op) {
    case Op::open_source: return "open";
    case Op::create_destination: return "create";
    case Op::read: return "read";
    case Op::write: return "write";
    case Op::copy_range: return "copy_file_range";
    case Op::clone: return "clone";
    case Op::sync: return "fdatasync";
    case Op::close: return "close";
    case Op::splice_in: return "splice in";
    case Op::splice_out: return "splice out";
    case Op::stat: return "stat";
    case Op::open_directory: return "open directory";
    case Op::list_directory: return "read directory";
    case Op::make_directory: return "mkdir";
    case Op::make_symlink: return "symlink";
    case Op::read_symlink: return "readlink";
    case Op::make_link: return "link";
    case Op::make_node: return "mknod";
    case Op::rename: return "rename";
    case Op::remove: return "remove";
    case Op::set_metadata: return "set metadata";
    case Op::xattr: return "xattr";
    case Op::truncate: return "truncate";
    case Op::seek: return "seek";
    case Op::send_file: return "sendfile";
  }
  return "?";
}

void set_fault_hook(FaultHook hook, void* context) {
  g_hook.store(nullptr, std::memory_order_release);
  g_hook_context.store(context, std::memory_order_release);
  g_hook.store(hook, std::memory_order_release);
}

long filter_result(Op op, long result) {
  const FaultHook hook = g_hook.load(std::memory_order_acquire);
  if (hook == nullptr) return result;
  const long filtered = hook(op, result, g_hook_context.load(std::memory_order_acquire));
  if (is_open(op) && result >= 0 && filtered < 0) (void)::close(static_cast<int>(result));
  return filtered;
}

long open_source(const char* path) {
  return filter_result(Op::open_source, result_of(::open(path, O_RDONLY | O_CLOEXEC)));
}

long create_destination(const char* path) {
  return filter_result(Op::create_destination,
                       result_of(::open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)));
}

long pread(int fd, void* buffer, std::size_t length, std::uint64_t offset) {
  return filter_result(Op::read, result_of(::pread(fd, buffer, length, static_cast<off_t>(offset))));
}

long pwrite(int fd, const void* buffer, std::size_t length, std::uint64_t offset) {
  return filter_result(Op::write,
                       result_of(::pwrite(fd, buffer, length, static_cast<off_t>(offset))));
}

long copy_file_range(int in, std::uint64_t in_offset, int out, std::uint64_t out_offset,
                     std::size_t length) {
  auto in_off = static_cast<loff_t>(in_offset);
  auto out_off = static_cast<loff_t>(out_offset);
  return filter_result(Op::copy_range,
                       result_of(::copy_file_range(in, &in_off, out, &out_off, length, 0)));
}

long send_file(int out, std::uint64_t out_offset, int in, std::uint64_t in_offset,
               std::size_t length) {
  if (::lseek(out, static_cast<off_t>(out_offset), SEEK_SET) < 0)
    return filter_result(Op::send_file, -errno);
  auto in_off = static_cast<off_t>(in_offset);
  return filter_result(Op::send_file, result_of(::sendfile(out, in, &in_off, length)));
}

long clone_file(int dst, int src) {
  return filter_result(Op::clone, result_of(::ioctl(dst, FICLONE, src)));
}

long fdatasync(int fd) { return filter_result(Op::sync, result_of(::fdatasync(fd))); }

long close(int fd) { return filter_result(Op::close, result_of(::close(fd))); }

long create_pipe(std::size_t size, Pipe& out) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) < 0) return -errno;
  out.read.reset(ends[0]);
  out.write.reset(ends[1]);
  const int wanted = static_cast<int>(std::min<std::size_t>(size, INT_MAX));
  const int grown = ::fcntl(ends[0], F_SETPIPE_SZ, wanted);
  if (grown >= 0) return grown;
  // Refused (EPERM, EBUSY): the pipe keeps the capacity it was made with.
  const int capacity = ::fcntl(ends[0], F_GETPIPE_SZ);
  return capacity < 0 ? -errno : capacity;
}

long pipe_bytes(int fd) {
  int bytes = 0;
  if (::ioctl(fd, FIONREAD, &bytes) < 0) return -errno;
  return bytes;
}

long drain_pipe(int fd, std::size_t bytes, void* scratch, std::size_t scratch_size) {
  while (bytes > 0) {
    const ::ssize_t n = ::read(fd, scratch, std::min(bytes, scratch_size));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) return -EIO;
    bytes -= static_cast<std::size_t>(n);
  }
  return 0;
}

long pipe_max_size() {
  std::FILE* file = std::fopen("/proc/sys/fs/pipe-max-size", "re");
  if (file == nullptr) return -errno;
  long size = 0;
  const int matched = std::fscanf(file, "%ld", &size);
  std::fclose(file);
  return matched == 1 && size > 0 ? size : -EINVAL;
}

long set_file_offset(int fd, std::uint64_t offset) {
  if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) return -errno;
  return 0;
}

long long file_size(int fd) {
  struct stat info {};
  if (::fstat(fd, &info) < 0) return -errno;
  return static_cast<long long>(info.st_size);
}

long sync_filesystem(const std::string& path) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY));
  if (!fd.valid()) return -errno;
  return result_of(::syncfs(fd.get()));
}

long evict_from_cache(const std::string& path) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return -errno;
  if (::fdatasync(fd.get()) < 0) return -errno;
  return -::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
}

long raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) < 0) return -errno;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) < 0) return -errno;
  }
  return static_cast<long>(limit.rlim_cur);
}

std::string filesystem_type(const std::string& path) {
  struct statfs info {};
  if (::statfs(path.c_str(), &info) < 0) return "unknown";
  switch (static_cast<unsigned long>(info.f_type)) {
    case EXT4_SUPER_MAGIC: return "ext4";
    case TMPFS_MAGIC: return "tmpfs";
    case BTRFS_SUPER_MAGIC: return "btrfs";
    case XFS_SUPER_MAGIC: return "xfs";
    case OVERLAYFS_SUPER_MAGIC: return "overlay";
    case NFS_SUPER_MAGIC: return "nfs";
    case 0x65735546UL: return "fuse";
    case 0x2fc12fc1UL: return "zfs";
    case 0xf2f52010UL: return "f2fs";
    default: break;
  }
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%lx", static_cast<unsigned long>(info.f_type));
  return hex;
}

bool never_shares_extents(int fd) {
  struct statfs info {};
  if (::fstatfs(fd, &info) < 0) return false;
  switch (static_cast<unsigned long>(info.f_type)) {
    case EXT4_SUPER_MAGIC:  // ext2 and ext3 too: one magic number
    case TMPFS_MAGIC:
    case RAMFS_MAGIC: return true;
    default: return false;
  }
}

long long available_bytes(const std::string& path) {
  struct statvfs info {};
  if (::statvfs(path.c_str(), &info) < 0) return -errno;
  return static_cast<long long>(info.f_bavail) * static_cast<long long>(info.f_frsize);
}

std::string error_text(int err) {
  char buffer[256];
  // The GNU strerror_r returns a pointer that may or may not be `buffer`.
  const char* text = ::strerror_r(err, buffer, sizeof buffer);
  return text;
}

}  // namespace ccopy::sys

namespace ccopy::sys {
long check_writable_directory(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) < 0) return -errno;
  if (!S_ISDIR(info.st_mode)) return -ENOTDIR;
  if (::access(path.c_str(), W_OK | X_OK) < 0) return -errno;
  return 0;
}
}  // namespace ccopy::sys

namespace ccopy::sys {

long filesystem_space(const std::string& path, FilesystemSpace& out) {
  struct statvfs info {};
  if (::statvfs(path.c_str(), &info) < 0) return -errno;
  out.block_size = static_cast<long long>(info.f_frsize > 0 ? info.f_frsize : 4096);
  out.available_bytes =
      info.f_blocks == 0 ? -1 : static_cast<long long>(info.f_bavail) * out.block_size;
  // File systems without an inode limit (btrfs, some FUSE) report zero files in total.
  out.available_inodes = info.f_files == 0 ? -1 : static_cast<long long>(info.f_favail);
  return 0;
}

long open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) < 0) return -errno;
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > static_cast<rlim_t>(LONG_MAX))
    return LONG_MAX;
  return static_cast<long>(limit.rlim_cur);
}

long open_descriptor_count() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -errno;
  long count = 0;
  while (const dirent* entry = ::readdir(dir))
    if (entry->d_name[0] != '.') ++count;
  ::closedir(dir);
  return count - 1;  // the directory stream's own descriptor
}

}  // namespace ccopy::sys

// Tree operations.
namespace ccopy::sys {
namespace {

long filtered(Op op, long rc) { return filter_result(op, result_of(rc)); }

// "/proc/self/fd/DIR/NAME": a path to an entry that works however deep the directory is.
std::string proc_path(int dir, const char* name) {
  if (dir == AT_FDCWD) return name;
  return "/proc/self/fd/" + std::to_string(dir) + "/" + name;
}

long xattr_value(std::string& value, const std::function<long(char*, std::size_t)>& get) {
  // Ask for the size, then read; a value that grew in between is asked again.
  for (int attempt = 0; attempt < 8; ++attempt) {
    const long size = get(nullptr, 0);
    if (size < 0) return size;
    value.resize(static_cast<std::size_t>(size));
    const long got = get(value.data(), value.size());
    if (got == -ERANGE) continue;
    if (got < 0) return got;
    value.resize(static_cast<std::size_t>(got));
    return got;
  }
  return -ERANGE;
}

}  // namespace

long open_source_at(int dir, const char* name, int flags) {
  return filter_result(Op::open_source, result_of(::openat(dir, name, flags)));
}

long create_at(int dir, const char* name, int flags, unsigned mode) {
  return filter_result(Op::create_destination,
                       result_of(::openat(dir, name, flags, static_cast<mode_t>(mode))));
}

long open_directory_at(int dir, const char* name, int extra_flags) {
  return filter_result(Op::open_directory,
                       result_of(::openat(dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | extra_flags)));
}

long open_directory_below(int dir, const std::string& path, int flags) {
  constexpr std::size_t kRun = 3072;
  if (path.size() < kRun) return open_directory_at(dir, path.c_str(), flags);
  unique_fd at;
  std::size_t from = 0;
  while (from < path.size()) {
    std::size_t to = path.size();
    if (to - from >= kRun) {
      to = path.rfind('/', from + kRun);
      if (to == std::string::npos || to <= from) return -ENAMETOOLONG;  // one name too long
    }
    const std::string run = path.substr(from, to - from);
    const long fd = open_directory_at(at.valid() ? at.get() : dir, run.c_str(), flags);
    if (fd < 0) return fd;
    at.reset(static_cast<int>(fd));
    from = to + 1;
  }
  return at.release();
}

long stat_fd(int fd, struct ::stat& out) { return filtered(Op::stat, ::fstat(fd, &out)); }

long stat_at(int dir, const char* name, struct ::stat& out, int flags) {
  return filtered(Op::stat, ::fstatat(dir, name, &out, flags));
}

long make_directory_at(int dir, const char* name, unsigned mode) {
  return filtered(Op::make_directory, ::mkdirat(dir, name, static_cast<mode_t>(mode)));
}

long read_directory(int fd, void* buffer, std::size_t size) {
  if (g_hook.load(std::memory_order_acquire) == nullptr)
    return result_of(::syscall(SYS_getdents64, fd, buffer, size));
  // A listing the hook turns into an error must leave the directory where it was, as a real
  // failure does (nothing is consumed): otherwise the caller's retry of an injected EINTR would
  // silently skip the entries the call had read. The position is only saved under a hook.
  const off_t at = ::lseek(fd, 0, SEEK_CUR);
  const long listed = result_of(::syscall(SYS_getdents64, fd, buffer, size));
  const long result = filter_result(Op::list_directory, listed);
  if (listed > 0 && result < 0 && at >= 0) (void)::lseek(fd, at, SEEK_SET);
  return result;
}

long read_symlink_at(int dir, const char* name, std::string& target) {
  std::size_t size = 256;
  for (;;) {
    target.resize(size);
    const long n = result_of(::readlinkat(dir, name, target.data(), size));
    if (n < 0) return filter_result(Op::read_symlink, n);
    if (static_cast<std::size_t>(n) < size) {
      target.resize(static_cast<std::size_t>(n));
      return filter_result(Op::read_symlink, n);
    }
    if (size >= (std::size_t{1} << 20)) return filter_result(Op::read_symlink, -ENAMETOOLONG);
    size *= 2;
  }
}

long make_symlink_at(const char* target, int dir, const char* name) {
  return filtered(Op::make_symlink, ::symlinkat(target, dir, name));
}

long make_link_at(int old_dir, const char* old_name, int new_dir, const char* new_name, int flags) {
  return filtered(Op::make_link, ::linkat(old_dir, old_name, new_dir, new_name, flags));
}

long link_unnamed(int fd, int dir, const char* name) {
  // Set once AT_EMPTY_PATH was refused (it needs CAP_DAC_READ_SEARCH): /proc from then on.
  static std::atomic<bool> empty_path_refused{false};
  if (!empty_path_refused.load(std::memory_order_relaxed)) {
    const long rc = result_of(::linkat(fd, "", dir, name, AT_EMPTY_PATH));
    if (rc != -ENOENT && rc != -EPERM) return filter_result(Op::make_link, rc);
    empty_path_refused.store(true, std::memory_order_relaxed);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  return filtered(Op::make_link, ::linkat(AT_FDCWD, path.c_str(), dir, name, AT_SYMLINK_FOLLOW));
}

long make_node_at(int dir, const char* name, unsigned mode, dev_t device) {
  return filtered(Op::make_node, ::mknodat(dir, name, static_cast<mode_t>(mode), device));
}

long rename_at(int old_dir, const char* old_name, int new_dir, const char* new_name,
               unsigned flags) {
  return filtered(Op::rename, ::renameat2(old_dir, old_name, new_dir, new_name, flags));
}

long remove_at(int dir, const char* name, int flags) {
  return filtered(Op::remove, ::unlinkat(dir, name, flags));
}

long change_mode(int fd, unsigned mode) {
  return filtered(Op::set_metadata, ::fchmod(fd, static_cast<mode_t>(mode)));
}

long change_mode_at(int dir, const char* name, unsigned mode, int flags) {
  return filtered(Op::set_metadata, ::fchmodat(dir, name, static_cast<mode_t>(mode), flags));
}

long access_at(int dir, const char* name, int mode, int flags) {
  return filtered(Op::stat, ::faccessat(dir, name, mode, flags));
}

unsigned effective_user() { return static_cast<unsigned>(::geteuid()); }

long change_owner(int fd, uid_t owner, gid_t group) {
  return filtered(Op::set_metadata, ::fchown(fd, owner, group));
}

long change_owner_at(int dir, const char* name, uid_t owner, gid_t group, int flags) {
  return filtered(Op::set_metadata, ::fchownat(dir, name, owner, group, flags));
}

long set_times(int fd, const struct ::timespec times[2]) {
  return filtered(Op::set_metadata, ::futimens(fd, times));
}

long set_times_at(int dir, const char* name, const struct ::timespec times[2], int flags) {
  return filtered(Op::set_metadata, ::utimensat(dir, name, times, flags));
}

long list_xattrs(int fd, std::string& names) {
  return filter_result(Op::xattr, xattr_value(names, [fd](char* b, std::size_t n) {
                         return result_of(::flistxattr(fd, b, n));
                       }));
}

long get_xattr(int fd, const char* name, std::string& value) {
  return filter_result(Op::xattr, xattr_value(value, [fd, name](char* b, std::size_t n) {
                         return result_of(::fgetxattr(fd, name, b, n));
                       }));
}

long set_xattr(int fd, const char* name, const std::string& value) {
  return filtered(Op::xattr, ::fsetxattr(fd, name, value.data(), value.size(), 0));
}

long list_xattrs_at(int dir, const char* name, std::string& names) {
  const std::string path = proc_path(dir, name);
  return filter_result(Op::xattr, xattr_value(names, [&path](char* b, std::size_t n) {
                         return result_of(::llistxattr(path.c_str(), b, n));
                       }));
}

long get_xattr_at(int dir, const char* entry, const char* name, std::string& value) {
  const std::string path = proc_path(dir, entry);
  return filter_result(Op::xattr, xattr_value(value, [&path, name](char* b, std::size_t n) {
                         return result_of(::lgetxattr(path.c_str(), name, b, n));
                       }));
}

long set_xattr_at(int dir, const char* entry, const char* name, const std::string& value) {
  const std::string path = proc_path(dir, entry);
  return filtered(Op::xattr, ::lsetxattr(path.c_str(), name, value.data(), value.size(), 0));
}

long truncate_fd(int fd, std::uint64_t size) {
  return filtered(Op::truncate, ::ftruncate(fd, static_cast<off_t>(size)));
}

long long seek_data(int fd, std::uint64_t offset, int whence) {
  const off_t at = ::lseek(fd, static_cast<off_t>(offset), whence);
  return filter_result(Op::seek, at < 0 ? -errno : static_cast<long>(at));
}

unsigned current_umask() {
  std::FILE* file = std::fopen("/proc/self/status", "re");
  if (file == nullptr) return 022;
  char line[256];
  unsigned mask = 022;
  while (std::fgets(line, sizeof line, file) != nullptr) {
    if (std::strncmp(line, "Umask:", 6) == 0) {
      mask = static_cast<unsigned>(std::strtoul(line + 6, nullptr, 8));
      break;
    }
  }
  std::fclose(file);
  return mask & 0777;
}

}  // namespace ccopy::sys

namespace ccopy::sys {

long write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ::ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) return -EIO;  // write(2) of a non-empty buffer never returns 0 for files
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

long write_file(const std::string& path, std::string_view text) {
  unique_fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
  if (!fd.valid()) return -errno;
  if (const long rc = write_all(fd.get(), text); rc < 0) return rc;
  return ::close(fd.release()) < 0 ? -errno : 0;
}

long check_open(int fd) { return ::fcntl(fd, F_GETFD) < 0 ? -errno : 0; }

int occupy_closed_standard_streams() {
  int closed = 0;
  for (int fd = 0; fd <= 2; ++fd) {
    if (check_open(fd) == 0) continue;
    closed |= 1 << fd;
    // open() returns the lowest free number, which is `fd` since the lower ones are open.
    const int opened = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (opened >= 0 && opened != fd) {
      ::dup2(opened, fd);
      ::close(opened);
    }
  }
  return closed;
}

long probe_file_creation(const std::string& directory) {
  std::string path = directory + "/.concurrent_copy-probe-XXXXXX";
  const int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) return -errno;
  ::close(fd);
  return ::unlink(path.c_str()) < 0 ? -errno : 0;
}

long usable_cpu_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) < 0) return -errno;
  return CPU_COUNT(&set);
}

}  // namespace ccopy::sys
