// The one place that calls raw syscalls. Every function returns its result as the kernel
// does (a count, a descriptor, or 0) or a negative errno value, like liburing: no function
// here sets or reads errno for its caller, and none retries EINTR: retrying is the engine's job.
//
// Every result passes through the fault seam, so tests can turn any call into a short
// transfer, EINTR, or an error without touching the engines.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
  splice_out,
  // The tree operations: the walk, the shared phases and the engines' per-file steps.
  stat,            ///< fstat, fstatat, statx
  open_directory,  ///< a directory of either tree, opened to work relative to it
  list_directory,  ///< getdents64
  make_directory,
  make_symlink,
  read_symlink,
  make_link,       ///< linkat: a hardlink, or an unnamed (O_TMPFILE) file given its name
  make_node,       ///< mknodat: a FIFO, a socket, a device
  rename,
  remove,          ///< unlinkat, of a file or a directory
  set_metadata,    ///< fchmod, fchown, futimens and their *at forms
  xattr,           ///< listing, reading and setting extended attributes
  truncate,        ///< ftruncate: a sparse file's size after its last extent
  seek,            ///< lseek SEEK_DATA / SEEK_HOLE: a sparse file's extents
  send_file,       ///< sendfile: an in-kernel copy that never shares extents
};

[[nodiscard]] const char* op_name(Op op);
/// Every operation, for tests that go through them all.
inline constexpr Op kAllOps[] = {
    Op::open_source,  Op::create_destination, Op::read,          Op::write,
    Op::copy_range,   Op::clone,              Op::sync,          Op::close,
    Op::splice_in,    Op::splice_out,         Op::stat,          Op::open_directory,
    Op::list_directory, Op::make_directory,   Op::make_symlink,  Op::read_symlink,
    Op::make_link,    Op::make_node,          Op::rename,        Op::remove,
    Op::set_metadata, Op::xattr,              Op::truncate,      Op::seek,
    Op::send_file};

/// A test's hook: sees every result before the engine does, and may replace it. It may turn a
/// positive count into a smaller one (a short transfer) or any result into -errno (for
/// list_directory only the latter: a listing cannot be shortened). Called from every engine
/// thread at once: it must be thread-safe.
using FaultHook = long (*)(Op op, long result, void* context);

/// Installs `hook` (nullptr removes it). Not for production use.
void set_fault_hook(FaultHook hook, void* context);

/// Passes an operation's result through the fault seam. Engines that do not go through the
/// functions below (io_uring, libuv completions) call this on each completion. When the hook
/// turns a successful open into an error, the descriptor is closed here (and read_directory
/// puts a directory back where it was), so that the call looks as if it had failed.
[[nodiscard]] long filter_result(Op op, long result);

// Blocking calls, for the thread engines and the set-up code.
[[nodiscard]] long open_source(const char* path);
/// Creates `path` for writing; fails with -EEXIST if it exists.
[[nodiscard]] long create_destination(const char* path);
[[nodiscard]] long pread(int fd, void* buffer, std::size_t length, std::uint64_t offset);
[[nodiscard]] long pwrite(int fd, const void* buffer, std::size_t length, std::uint64_t offset);
[[nodiscard]] long copy_file_range(int in, std::uint64_t in_offset, int out,
                                   std::uint64_t out_offset, std::size_t length);
/// Copies up to `length` bytes from `in` at `in_offset` to `out` at `out_offset` inside the
/// kernel with sendfile (a seek of `out`, then the call). Unlike copy_file_range, which tries a
/// clone first where the file system can (xfs, btrfs), it always copies the bytes.
[[nodiscard]] long send_file(int out, std::uint64_t out_offset, int in, std::uint64_t in_offset,
                             std::size_t length);
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
/// Whether the file system of the open `fd` can never share extents between files (tmpfs,
/// ramfs, ext2/3/4): there copy_file_range cannot clone. False when it can or cannot tell.
[[nodiscard]] bool never_shares_extents(int fd);
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
/// /proc/self/status held open, for a thread that reads the thread count often: it reads the
/// file again from its start and opens nothing (a thread that opened a file while others close
/// theirs would race with them for descriptor numbers in ThreadSanitizer's view).
class StatusFile {
 public:
  StatusFile();
  /// As thread_count(), from the file held open; -errno of the open where it failed.
  [[nodiscard]] long thread_count() const;

 private:
  unique_fd fd_;
  int open_error_;
};
/// Resets the peak resident set size (VmHWM) to the current one; -errno where not supported.
[[nodiscard]] long reset_peak_rss();
/// The peak resident set size in KiB (VmHWM), or -errno.
[[nodiscard]] long peak_rss_kib();
/// The resident set size now in KiB (VmRSS), or -errno.
[[nodiscard]] long resident_kib();
/// How long ago this process started, in nanoseconds (now on CLOCK_BOOTTIME less the start
/// time in /proc/self/stat, which counts clock ticks since boot: a resolution of 1/CLK_TCK,
/// 10 ms), or -errno.
[[nodiscard]] std::int64_t process_age_ns();

/// Runs `argv` (argv[0] looked up in PATH and /sbin, /usr/sbin) with stdin from /dev/null and
/// stdout and stderr collected into `output`, and waits for it. Returns its exit status (0 to
/// 255), 128 + the signal that ended it, or -errno when it could not be started (-ENOENT: no
/// such program).
[[nodiscard]] long run_program(const std::vector<std::string>& argv, std::string& output);

}  // namespace ccopy::sys

namespace ccopy::sys {
/// 0 when `path` is a directory this process can create files in, else -errno (-ENOTDIR,
/// -ENOENT, -EACCES, -EROFS).
[[nodiscard]] long check_writable_directory(const std::string& path);
}  // namespace ccopy::sys

namespace ccopy::sys {

/// What a file system can still hold, for the free-space check before a run.
struct FilesystemSpace {
  /// Bytes an unprivileged user may still write; -1 when the file system has no size at all
  /// (statvfs reports 0 blocks in total: ramfs, which grows until memory runs out, and file
  /// systems such as /proc, which cannot hold files: probe_file_creation tells them apart).
  long long available_bytes = 0;
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

// Tree operations. Every name is relative to a directory descriptor (AT_FDCWD for a path), so
// trees deeper than PATH_MAX work; every result passes through the fault seam; none follows a
// symlink unless its flags say so.
namespace ccopy::sys {

/// openat of a source file: `flags` are the open flags (O_RDONLY | O_CLOEXEC | ...).
[[nodiscard]] long open_source_at(int dir, const char* name, int flags);
/// openat of a destination file with O_CREAT (or O_TMPFILE) in `flags`, and `mode`.
[[nodiscard]] long create_at(int dir, const char* name, int flags, unsigned mode);
/// openat of a directory (O_RDONLY | O_DIRECTORY | O_CLOEXEC added to `extra_flags`).
[[nodiscard]] long open_directory_at(int dir, const char* name, int extra_flags);
/// open_directory_at of the relative `path` below `dir`, a component run at a time where the
/// path is longer than the kernel takes at once (PATH_MAX), as the walk goes deeper than that.
[[nodiscard]] long open_directory_below(int dir, const std::string& path, int extra_flags);
[[nodiscard]] long stat_fd(int fd, struct ::stat& out);
/// fstatat; `flags` AT_SYMLINK_NOFOLLOW (or 0 to follow).
[[nodiscard]] long stat_at(int dir, const char* name, struct ::stat& out, int flags);
[[nodiscard]] long make_directory_at(int dir, const char* name, unsigned mode);
/// getdents64 into `buffer`: bytes read (0 at the end of the directory) or -errno.
[[nodiscard]] long read_directory(int fd, void* buffer, std::size_t size);
/// readlinkat into `target` (any length).
[[nodiscard]] long read_symlink_at(int dir, const char* name, std::string& target);
[[nodiscard]] long make_symlink_at(const char* target, int dir, const char* name);
[[nodiscard]] long make_link_at(int old_dir, const char* old_name, int new_dir,
                                const char* new_name, int flags);
/// Gives the unnamed file `fd` (O_TMPFILE) the name `name` in `dir`: linkat with AT_EMPTY_PATH
/// where the process may (CAP_DAC_READ_SEARCH), else through /proc/self/fd.
[[nodiscard]] long link_unnamed(int fd, int dir, const char* name);
[[nodiscard]] long make_node_at(int dir, const char* name, unsigned mode, dev_t device);
/// renameat2; `flags` RENAME_NOREPLACE or 0.
[[nodiscard]] long rename_at(int old_dir, const char* old_name, int new_dir,
                             const char* new_name, unsigned flags);
/// unlinkat; `flags` AT_REMOVEDIR for a directory.
[[nodiscard]] long remove_at(int dir, const char* name, int flags);
[[nodiscard]] long change_mode(int fd, unsigned mode);
/// fchmodat: the mode of an entry reached by name (a FIFO, a directory that cannot be opened).
/// With `flags` 0 it follows a symlink: callers use it on entries they know are not symlinks.
[[nodiscard]] long change_mode_at(int dir, const char* name, unsigned mode, int flags);
/// faccessat: 0 when this process may access `name` in `dir` as `mode` (R_OK, W_OK, X_OK)
/// says, else -errno; `flags` AT_EACCESS to check with the effective ids, as open would.
[[nodiscard]] long access_at(int dir, const char* name, int mode, int flags);
/// The effective user id (geteuid); cannot fail.
[[nodiscard]] unsigned effective_user();
[[nodiscard]] long change_owner(int fd, uid_t owner, gid_t group);
[[nodiscard]] long change_owner_at(int dir, const char* name, uid_t owner, gid_t group,
                                   int flags);
/// futimens: times[0] access, times[1] modification.
[[nodiscard]] long set_times(int fd, const struct ::timespec times[2]);
[[nodiscard]] long set_times_at(int dir, const char* name, const struct ::timespec times[2],
                                int flags);
/// The names of `fd`'s extended attributes, each NUL-terminated, back to back (flistxattr).
[[nodiscard]] long list_xattrs(int fd, std::string& names);
[[nodiscard]] long get_xattr(int fd, const char* name, std::string& value);
[[nodiscard]] long set_xattr(int fd, const char* name, const std::string& value);
/// The same for an entry reached by path without following it (llistxattr...): symlinks.
/// Deep paths go through "/proc/self/fd/DIR/NAME".
[[nodiscard]] long list_xattrs_at(int dir, const char* name, std::string& names);
[[nodiscard]] long get_xattr_at(int dir, const char* entry, const char* name, std::string& value);
[[nodiscard]] long set_xattr_at(int dir, const char* entry, const char* name,
                                const std::string& value);
[[nodiscard]] long truncate_fd(int fd, std::uint64_t size);
/// lseek with SEEK_DATA or SEEK_HOLE: the offset found, or -errno (-ENXIO: none after `offset`).
[[nodiscard]] long long seek_data(int fd, std::uint64_t offset, int whence);
/// The process's umask, read without changing it (/proc/self/status; 022 when unknown).
[[nodiscard]] unsigned current_umask();

}  // namespace ccopy::sys

namespace ccopy::sys {

/// Writes all of `text` to `fd`, resuming short writes and retrying EINTR; 0 or -errno
/// (-EPIPE for a closed pipe, -ENOSPC on /dev/full, -EBADF for a closed descriptor).
[[nodiscard]] long write_all(int fd, std::string_view text);
/// Creates or truncates `path` (mode 0666 less the umask), writes `text` and closes it; 0 or
/// -errno of the first step that failed, the close included (where NFS reports a lost write).
[[nodiscard]] long write_file(const std::string& path, std::string_view text);
/// Whether `fd` is an open descriptor: 0, or -EBADF.
[[nodiscard]] long check_open(int fd);
/// Opens /dev/null on every one of the descriptors 0, 1 and 2 that is closed, so that no file
/// opened later lands on a standard stream. Returns a bit per stream that was closed (1 for
/// stdin, 2 for stdout, 4 for stderr).
[[nodiscard]] int occupy_closed_standard_streams();
/// Creates a file in `directory` and removes it again: 0 when the directory can hold files,
/// else -errno of the create (-EACCES in /proc, -EROFS, -ENOSPC) or of the removal.
[[nodiscard]] long probe_file_creation(const std::string& directory);

/// The CPUs this process may run on (sched_getaffinity), or -errno.
[[nodiscard]] long usable_cpu_count();

}  // namespace ccopy::sys
