// Reading directories and opening entries for reading, relative to descriptors: what describe,
// verify and remove share.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sys/sys.hpp"

namespace ccopy::tree {

/// A directory held open for the jobs below it; shared, it closes when the last job is done.
using SharedFd = std::shared_ptr<const sys::unique_fd>;

/// Opens the directory `name` in `dir` for reading, never through a symlink (O_NOFOLLOW), with
/// O_NOATIME where the system allows it: it refuses it (EPERM) for a directory this process does
/// not own, and then the directory is opened without it. A descriptor or -errno.
[[nodiscard]] long open_directory_for_reading(int dir, const char* name);

/// Opens the regular file `name` in `dir` for reading, the same way (O_NOFOLLOW, O_NOATIME where
/// allowed). A descriptor or -errno.
[[nodiscard]] long open_file_for_reading(int dir, const char* name);

/// One entry of a directory listing, valid until the next call into the listing.
struct ListedEntry {
  std::string_view name;  ///< NUL-terminated in the buffer: name.data() may be passed to *at
  unsigned char type;     ///< d_type: DT_DIR, DT_REG, DT_LNK, ... or DT_UNKNOWN
};

/// Reads the directory `fd` to its end with getdents64 (through sys::read_directory), calling
/// `each(const ListedEntry&)` for every entry but "." and "..", in the order the file system
/// gives them. `each` returns false to stop early. Returns 0 or -errno; EINTR is retried.
template <class Each>
long for_each_entry(int fd, std::vector<char>& buffer, Each&& each);

/// A name made NUL-terminated for the *at calls (names are at most 255 bytes), on the stack.
class CName {
 public:
  explicit CName(std::string_view name) {
    const std::size_t n = std::min(name.size(), sizeof text_ - 1);
    std::memcpy(text_, name.data(), n);
    text_[n] = '\0';
  }
  [[nodiscard]] const char* get() const { return text_; }

 private:
  char text_[256];
};

/// "a/b" + "c" = "a/b/c"; "" + "c" = "c".
[[nodiscard]] std::string join_path(std::string_view directory, std::string_view name);

// ---------------------------------------------------------------------------------------------

namespace detail {
/// Parses one linux_dirent64 record at `record`: its length, type and name.
inline std::uint16_t record_length(const char* record) {
  std::uint16_t length;
  std::memcpy(&length, record + 16, sizeof length);
  return length;
}
}  // namespace detail

template <class Each>
long for_each_entry(int fd, std::vector<char>& buffer, Each&& each) {
  if (buffer.size() < 32768) buffer.resize(65536);
  for (;;) {
    const long n = sys::read_directory(fd, buffer.data(), buffer.size());
    if (n == -EINTR) continue;
    if (n <= 0) return n;
    // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name.
    for (long at = 0; at < n;) {
      const char* record = buffer.data() + at;
      const std::uint16_t length = detail::record_length(record);
      if (length == 0) return -EIO;
      at += length;
      const std::string_view name(record + 19);
      if (name == "." || name == "..") continue;
      if (!each(ListedEntry{name, static_cast<unsigned char>(record[18])})) return 0;
    }
  }
}

}  // namespace ccopy::tree
