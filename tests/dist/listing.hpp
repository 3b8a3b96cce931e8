// A tree as one text, line per entry sorted by path, for comparing two copies of one source:
// type, size, mode, owner, modification time to the nanosecond, symlink target, hardlink group
// (the first path of the inode) and a hash of the bytes. Two copies made the same way list the
// same.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ccopy::testing {

inline std::string content_hash(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return "unreadable";
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i)
      h = (h ^ static_cast<unsigned char>(buffer[i])) * 1099511628211ULL;
  }
  ::close(fd);
  return std::to_string(h);
}

/// The listing of `root`; `times` includes modification times (a copy that keeps them).
inline std::string tree_listing(const std::string& root, bool times = true) {
  namespace fs = std::filesystem;
  std::vector<std::string> paths;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    paths.push_back(
        it->path().string().substr(root.size() + 1));  // not fs::relative: it follows symlinks
  paths.push_back(".");
  std::sort(paths.begin(), paths.end());
  std::map<std::pair<dev_t, ino_t>, std::string> first_name;
  std::string out;
  for (const std::string& rel : paths) {
    const std::string path = root + "/" + rel;
    struct ::stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      out += rel + " vanished\n";
      continue;
    }
    std::string line = rel + " ";
    line += S_ISDIR(st.st_mode)   ? "dir"
            : S_ISREG(st.st_mode) ? "file"
            : S_ISLNK(st.st_mode) ? "link"
                                  : "special";
    line += " mode " + std::to_string(st.st_mode & 07777) + " owner " + std::to_string(st.st_uid) +
            ":" + std::to_string(st.st_gid);
    if (!S_ISDIR(st.st_mode)) line += " size " + std::to_string(st.st_size);
    if (times && !S_ISLNK(st.st_mode))
      line +=
          " mtime " + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    if (S_ISLNK(st.st_mode)) {
      char target[4096];
      const ssize_t n = ::readlink(path.c_str(), target, sizeof target);
      line += " -> " + std::string(target, n > 0 ? static_cast<std::size_t>(n) : 0);
    }
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto [at, inserted] = first_name.emplace(std::make_pair(st.st_dev, st.st_ino), rel);
      line += " group " + at->second;
    }
    if (S_ISREG(st.st_mode)) line += " bytes " + content_hash(path);
    out += line + "\n";
  }
  return out;
}

}  // namespace ccopy::testing
