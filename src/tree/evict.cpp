// evict_tree(): the cold-cache preparation of a run, for any tree.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "ccopy/tree.hpp"
#include "sys/sys.hpp"

namespace ccopy {
namespace {

struct Dirent64 {
  std::uint64_t ino;
  std::int64_t off;
  unsigned short reclen;
  unsigned char type;
  char name[1];
};

constexpr std::size_t kBuffer = 32 * 1024;

bool dot_or_dotdot(const char* name) {
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

// Evicts the files of the directory `dir` and of everything below it: depth first, with one
// descriptor open per level.
Error evict_directory(int dir, char* buffer) {
  std::vector<std::string> subdirectories;
  for (;;) {
    const long n = sys::read_directory(dir, buffer, kBuffer);
    if (n == -EINTR) continue;
    if (n < 0) return Error::from_errno(static_cast<int>(-n), "evict: read a directory");
    if (n == 0) break;
    for (long at = 0; at < n;) {
      const auto* entry = reinterpret_cast<const Dirent64*>(buffer + at);
      at += entry->reclen;
      if (dot_or_dotdot(entry->name)) continue;
      if (entry->type == DT_DIR) {
        subdirectories.emplace_back(entry->name);
      } else if (entry->type == DT_REG) {
        const long fd = sys::open_source_at(dir, entry->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) continue;  // unreadable entries are left out of the copies too
        (void)::posix_fadvise(static_cast<int>(fd), 0, 0, POSIX_FADV_DONTNEED);
        (void)::close(static_cast<int>(fd));
      }
    }
  }
  for (const std::string& name : subdirectories) {
    const long fd = sys::open_directory_at(dir, name.c_str(), O_NOFOLLOW);
    if (fd < 0) continue;
    const sys::unique_fd sub(static_cast<int>(fd));
    if (Error e = evict_directory(sub.get(), buffer)) return e;
  }
  return {};
}

}  // namespace

Error evict_tree(int root_fd) {
  const long fd = sys::open_directory_at(root_fd, ".", 0);
  if (fd < 0) return Error::from_errno(static_cast<int>(-fd), "evict: open the tree");
  const sys::unique_fd root(static_cast<int>(fd));
  const auto buffer = std::make_unique_for_overwrite<char[]>(kBuffer);
  return evict_directory(root.get(), buffer.get());
}

}  // namespace ccopy
