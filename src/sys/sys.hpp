// The one place that calls raw syscalls. Every function returns its result as the kernel
// does (a count, a descriptor, or 0) or a negative errno value, like liburing: no function
// here sets or reads errno for its caller, and none retries EINTR: retrying is the engine's job.
//
// Every result passes through the fault seam, so tests can turn any call into a short
// transfer, EINTR, or an error without touching the engines.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace ccopy::sys {

/// Owns one file descriptor and closes it when destroyed.
class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }
  /// Closes the descriptor it holds (ignoring the result) and takes `fd`.
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

/// The operations the fault seam can intercept.
/// `splice_in` moves a file's bytes into a pipe, `splice_out` a pipe's bytes into a file.
enum class Op {
  open_source,
  create_destination,
  read,
  write,
  copy_range,
  clone,
  sync,
  close,
  splice_in,
  splice_out
};

[[nodiscard]] const char* op_name(Op op);

/// A test's hook: sees every result before the engine does, and may replace it. It may turn a
/// positive count into a smaller one (a short transfer) or any result into -errno. Called from
/// every engine thread at once: it must be thread-safe.
using FaultHook = long (*)(Op op, long result, void* context);

/// Installs `hook` (nullptr removes it). Not for production use.
void set_fault_hook(FaultHook hook, void* context);

/// Passes an operation's result through the fault seam. Engines that do not go through the
/// functions below (io_uring, libuv completions) call this on each completion. When the hook
/// turns a successful open into an error, the descriptor is closed here.
[[nodiscard]] long filter_result(Op op, long result);

// Blocking calls, for the thread engines and the set-up code.
[[nodiscard]] long open_source(const char* path);
/// Creates `path` for writing; fails with -EEXIST if it exists.
[[nodiscard]] long create_destination(const char* path);
[[nodiscard]] long pread(int fd, void* buffer, std::size_t length, std::uint64_t offset);
[[nodiscard]] long pwrite(int fd, const void* buffer, std::size_t length, std::uint64_t offset);
[[nodiscard]] long copy_file_range(int in, std::uint64_t in_offset, int out,
                                   std::uint64_t out_offset, std::size_t length);
/// Makes `dst` share `src`'s extents (FICLONE): a reflink.
[[nodiscard]] long clone_file(int dst, int src);
[[nodiscard]] long fdatasync(int fd);
[[nodiscard]] long close(int fd);
/// A pipe's two ends, for splicing a file into it and out to another file.
struct Pipe {
  unique_fd read;
  unique_fd write;
};
/// Creates a pipe (O_CLOEXEC) and asks for a buffer of at least `size` bytes (F_SETPIPE_SZ;
/// the kernel rounds up to a power of two pages). Returns the pipe's capacity in bytes, which
/// is smaller than `size` when the kernel refuses to grow it (EPERM above
/// /proc/sys/fs/pipe-max-size or past the user's pipe-user-pages-soft), or -errno when no
/// pipe could be made. Not fault-injected: set-up, not a transfer.
[[nodiscard]] long create_pipe(std::size_t size, Pipe& out);
/// Bytes waiting in the pipe whose read end is `fd` (FIONREAD), or -errno. Not
/// fault-injected: it is how an engine learns the truth when a splice's reported result may
/// have been shortened by the fault seam.
[[nodiscard]] long pipe_bytes(int fd);
/// Reads and discards the `bytes` bytes waiting in the pipe whose read end is `fd`, using
/// `scratch` as the landing place. Returns 0 or -errno; -EIO when the pipe held less. Never
/// blocks when the pipe holds at least `bytes`. Not fault-injected.
[[nodiscard]] long drain_pipe(int fd, std::size_t bytes, void* scratch, std::size_t scratch_size);
/// The largest pipe buffer an unprivileged process may ask for (/proc/sys/fs/pipe-max-size),
/// or -errno.
[[nodiscard]] long pipe_max_size();
/// Sets the file offset of `fd` (lseek SEEK_SET); 0 or -errno. Not fault-injected.
[[nodiscard]] long set_file_offset(int fd, std::uint64_t offset);
/// The size in bytes of the open file `fd` (fstat), or -errno. Not fault-injected: it only
/// checks what a whole-file operation such as FICLONE produced.
[[nodiscard]] long long file_size(int fd);

// Set-up and measurement helpers; not timed, not fault-injected.
/// Flushes the file system that holds `path` (syncfs).
[[nodiscard]] long sync_filesystem(const std::string& path);
/// Drops `path`'s pages from the page cache (POSIX_FADV_DONTNEED); the caller syncs first.
[[nodiscard]] long evict_from_cache(const std::string& path);
/// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit or -errno.
[[nodiscard]] long raise_open_file_limit();
/// The file system type of `path` ("ext4", "tmpfs"), or "unknown".
[[nodiscard]] std::string filesystem_type(const std::string& path);
/// Bytes available to an unprivileged user on the file system of `path`, or -errno.
[[nodiscard]] long long available_bytes(const std::string& path);

/// "No such file or directory": strerror for a positive errno value, thread-safe.
[[nodiscard]] std::string error_text(int err);

}  // namespace ccopy::sys

namespace ccopy::sys {

/// What getrusage(RUSAGE_SELF) says, in the units the report uses.
struct ProcessUsage {
  double user_seconds = 0;
  double system_seconds = 0;
  long voluntary_switches = 0;
  long involuntary_switches = 0;
};
[[nodiscard]] ProcessUsage process_usage();
/// The number of threads of this process now (io_uring's kernel workers included), or -errno.
[[nodiscard]] long thread_count();
/// Resets the peak resident set size (VmHWM) to the current one; -errno where not supported.
[[nodiscard]] long reset_peak_rss();
/// The peak resident set size in KiB (VmHWM), or -errno.
[[nodiscard]] long peak_rss_kib();

}  // namespace ccopy::sys

namespace ccopy::sys {
/// 0 when `path` is a directory this process can create files in, else -errno (-ENOTDIR,
/// -ENOENT, -EACCES, -EROFS).
[[nodiscard]] long check_writable_directory(const std::string& path);
}  // namespace ccopy::sys

namespace ccopy::sys {

/// What a file system can still hold, for the free-space check before a run.
struct FilesystemSpace {
  long long available_bytes = 0;   ///< bytes an unprivileged user may still write
  long long block_size = 4096;     ///< the allocation unit (f_frsize)
  long long available_inodes = -1; ///< files that can still be created; -1 when unlimited
};
/// statvfs on `path`; 0 or -errno.
[[nodiscard]] long filesystem_space(const std::string& path, FilesystemSpace& out);

/// The soft RLIMIT_NOFILE now, or -errno.
[[nodiscard]] long open_file_limit();
/// How many descriptors this process has open now (entries of /proc/self/fd), or -errno.
[[nodiscard]] long open_descriptor_count();

}  // namespace ccopy::sys
