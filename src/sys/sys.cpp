#include "sys/sys.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

namespace ccopy::sys {
namespace {

// Tests install a hook before the engines start and remove it after they finish; the context
// is published before the hook, so a thread that sees the hook sees its context.
std::atomic<FaultHook> g_hook{nullptr};
std::atomic<void*> g_hook_context{nullptr};

long result_of(long rc) { return rc < 0 ? -errno : rc; }

bool is_open(Op op) { return op == Op::open_source || op == Op::create_destination; }

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
  out.available_bytes = static_cast<long long>(info.f_bavail) * out.block_size;
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
