// verify_copy(): --verify of one copied entry, whatever its kind.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fmt/format.h>
#include <memory>

#include "ccopy/tree.hpp"
#include "sys/sys.hpp"

namespace ccopy {
namespace {

constexpr std::size_t kBlock = 1 << 20;

long read_fully(int fd, char* buffer, std::size_t length, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < length) {
    const long n = sys::pread(fd, buffer + done, length - done, offset + done);
    if (n == -EINTR || n == -EAGAIN) continue;
    if (n < 0) return n;
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<long>(done);
}

void differ(VerifyResult& out, const std::string& path, const std::string& what) {
  if (out.differences++ == 0) out.first = path + ": " + what;
}

Error compare_files(const std::string& source, const std::string& copy, VerifyResult& out) {
  const long a = sys::open_source_at(AT_FDCWD, source.c_str(), O_RDONLY | O_CLOEXEC);
  if (a < 0) return Error::from_errno(static_cast<int>(-a), "verify: open " + source);
  const sys::unique_fd src(static_cast<int>(a));
  const long b = sys::open_source_at(AT_FDCWD, copy.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (b < 0) return Error::from_errno(static_cast<int>(-b), "verify: open " + copy);
  const sys::unique_fd dst(static_cast<int>(b));
  const auto x = std::make_unique_for_overwrite<char[]>(kBlock);
  const auto y = std::make_unique_for_overwrite<char[]>(kBlock);
  for (std::uint64_t at = 0;;) {
    const long na = read_fully(src.get(), x.get(), kBlock, at);
    if (na < 0) return Error::from_errno(static_cast<int>(-na), "verify: read " + source);
    const long nb = read_fully(dst.get(), y.get(), kBlock, at);
    if (nb < 0) return Error::from_errno(static_cast<int>(-nb), "verify: read " + copy);
    const auto common = static_cast<std::size_t>(std::min(na, nb));
    if (std::memcmp(x.get(), y.get(), common) != 0) {
      std::size_t i = 0;
      while (x[i] == y[i]) ++i;
      differ(out, copy, fmt::format("byte {} differs", at + i));
      return {};
    }
    if (na != nb) {
      differ(out, copy, fmt::format("{} bytes in the copy, {} in the source",
                                    at + static_cast<std::uint64_t>(nb), at + static_cast<std::uint64_t>(na)));
      return {};
    }
    out.bytes += static_cast<std::uint64_t>(na);
    if (na == 0) return {};
    at += static_cast<std::uint64_t>(na);
  }
}

}  // namespace

Error verify_copy(const std::string& source, const std::string& copy, const VerifyOptions& options,
                  VerifyResult& out, const std::atomic<bool>* cancel) {
  struct ::stat s {}, c {};
  const int follow = options.follow_root ? 0 : AT_SYMLINK_NOFOLLOW;
  if (const long rc = sys::stat_at(AT_FDCWD, source.c_str(), s, follow); rc < 0)
    return Error::from_errno(static_cast<int>(-rc), "verify: stat " + source);
  if (const long rc = sys::stat_at(AT_FDCWD, copy.c_str(), c, AT_SYMLINK_NOFOLLOW); rc < 0) {
    if (rc == -ENOENT) {
      if (options.part == 0) differ(out, copy, "missing in the copy");
      return {};
    }
    return Error::from_errno(static_cast<int>(-rc), "verify: stat " + copy);
  }
  if (S_ISDIR(s.st_mode)) {
    const long a = sys::open_directory_at(AT_FDCWD, source.c_str(), options.follow_root ? 0 : O_NOFOLLOW);
    if (a < 0) return Error::from_errno(static_cast<int>(-a), "verify: open " + source);
    const sys::unique_fd src(static_cast<int>(a));
    const long b = sys::open_directory_at(AT_FDCWD, copy.c_str(), O_NOFOLLOW);
    if (b < 0) return Error::from_errno(static_cast<int>(-b), "verify: open " + copy);
    const sys::unique_fd dst(static_cast<int>(b));
    return verify_tree(src.get(), dst.get(), options, out, cancel);
  }
  if (options.part != 0) return {};  // one entry: part 0's to compare (VerifyOptions::parts)
  ++out.entries;
  if ((s.st_mode & S_IFMT) != (c.st_mode & S_IFMT)) {
    differ(out, copy, "not the same kind of entry as its source");
    return {};
  }
  if (S_ISLNK(s.st_mode)) {
    std::string a, b;
    if (const long rc = sys::read_symlink_at(AT_FDCWD, source.c_str(), a); rc < 0)
      return Error::from_errno(static_cast<int>(-rc), "verify: readlink " + source);
    if (const long rc = sys::read_symlink_at(AT_FDCWD, copy.c_str(), b); rc < 0)
      return Error::from_errno(static_cast<int>(-rc), "verify: readlink " + copy);
    if (a != b) differ(out, copy, fmt::format("links to '{}', the source to '{}'", b, a));
    return {};
  }
  if (options.mode && (s.st_mode & 07777) != (c.st_mode & 07777))
    differ(out, copy, fmt::format("mode {:04o} in the source, {:04o} in the copy", s.st_mode & 07777,
                                  c.st_mode & 07777));
  if (options.times && (s.st_mtim.tv_sec != c.st_mtim.tv_sec || s.st_mtim.tv_nsec != c.st_mtim.tv_nsec))
    differ(out, copy, "modification time differs");
  if (options.ownership && (s.st_uid != c.st_uid || s.st_gid != c.st_gid))
    differ(out, copy, "owner or group differs");
  if (S_ISREG(s.st_mode)) return compare_files(source, copy, out);
  return {};
}

}  // namespace ccopy
