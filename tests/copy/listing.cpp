#include "copy/listing.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <tuple>

namespace ccopy::testing {
namespace {

char kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return 'd';
  if (S_ISREG(mode)) return 'f';
  if (S_ISLNK(mode)) return 'l';
  if (S_ISFIFO(mode)) return 'p';
  if (S_ISSOCK(mode)) return 's';
  if (S_ISCHR(mode)) return 'c';
  if (S_ISBLK(mode)) return 'b';
  return '?';
}

// An entry's extended attributes, reached as /proc/self/fd/DIR/NAME so that a deep path, a
// FIFO (which must not be opened) and a symlink (l*xattr) are all read the same way.
std::string read_xattrs(int dir_fd, const std::string& name,
                        std::vector<std::pair<std::string, std::string>>& out) {
  const std::string path = fmt::format("/proc/self/fd/{}/{}", dir_fd, name);
  std::vector<char> names(65536);
  const ssize_t n = ::llistxattr(path.c_str(), names.data(), names.size());
  if (n < 0) {
    if (errno == ENOTSUP) return {};
    return fmt::format("llistxattr {}: {}", name, std::strerror(errno));
  }
  for (ssize_t at = 0; at < n;) {
    const std::string key(names.data() + at);
    at += static_cast<ssize_t>(key.size()) + 1;
    std::vector<char> value(65536);
    const ssize_t v = ::lgetxattr(path.c_str(), key.c_str(), value.data(), value.size());
    if (v < 0) return fmt::format("lgetxattr {} {}: {}", name, key, std::strerror(errno));
    out.emplace_back(key, std::string(value.data(), static_cast<std::size_t>(v)));
  }
  std::sort(out.begin(), out.end());
  return {};
}

struct Walk {
  Listing& out;
  // (device, inode) of every non-directory with several names, and the paths found for it.
  std::map<std::pair<dev_t, ino_t>, std::vector<std::string>> inodes;

  std::string entry(int dir_fd, const std::string& name, const std::string& path,
                    const struct ::stat& st) {
    ListedEntry e;
    e.kind = kind_of(st.st_mode);
    e.mode = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (e.kind == 'f' || e.kind == 'l') e.size = static_cast<std::uint64_t>(st.st_size);
    if (e.kind == 'f') e.blocks = static_cast<std::uint64_t>(st.st_blocks);
    if (e.kind == 'c' || e.kind == 'b') e.rdev = st.st_rdev;
    if (e.kind == 'l') {
      std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
      const ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
      if (n < 0) return fmt::format("readlink {}: {}", path, std::strerror(errno));
      target.resize(static_cast<std::size_t>(n));
      e.target = target;
    }
    if (std::string why = read_xattrs(dir_fd, name, e.xattrs); !why.empty()) return why;
    if (e.kind != 'd' && st.st_nlink > 1) inodes[{st.st_dev, st.st_ino}].push_back(path);
    out[path] = std::move(e);
    return {};
  }

  // Lists what the directory open as `fd` holds; takes `fd` over.
  std::string directory(int fd, const std::string& prefix) {
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      ::close(fd);
      return fmt::format("fdopendir {}: {}", prefix, std::strerror(errno));
    }
    std::unique_ptr<DIR, int (*)(DIR*)> owner(dir, ::closedir);
    std::vector<std::string> names;
    while (const dirent* d = ::readdir(dir)) {
      const std::string name = d->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    for (const std::string& name : names) {
      const std::string path = prefix.empty() ? name : prefix + "/" + name;
      struct ::stat st {};
      if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return fmt::format("stat {}: {}", path, std::strerror(errno));
      if (std::string why = entry(fd, name, path, st); !why.empty()) return why;
      if (!S_ISDIR(st.st_mode)) continue;
      const int child = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) return fmt::format("open {}: {}", path, std::strerror(errno));
      if (std::string why = directory(child, path); !why.empty()) return why;
    }
    return {};
  }
};

std::string octal(unsigned mode) { return fmt::format("{:04o}", mode); }

// Bytes as C escapes, so that a failure message shows a name or an attribute value exactly.
std::string printable(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\')
      out += c;
    else
      out += fmt::format("\\x{:02x}", u);
  }
  return out;
}

void compare_entry(const std::string& path, const ListedEntry& a, const ListedEntry& b,
                   std::vector<std::string>& lines) {
  const std::string p = printable(path.empty() ? "." : path);
  auto differ = [&](const std::string& what, const std::string& x, const std::string& y) {
    lines.push_back(fmt::format("{}: {} {} vs {}", p, what, x, y));
  };
  if (a.kind != b.kind) return differ("kind", std::string(1, a.kind), std::string(1, b.kind));
  if (a.size != b.size) differ("size", std::to_string(a.size), std::to_string(b.size));
  if (a.blocks != b.blocks) differ("blocks", std::to_string(a.blocks), std::to_string(b.blocks));
  if (a.mode != b.mode) differ("mode", octal(a.mode), octal(b.mode));
  if (a.uid != b.uid || a.gid != b.gid)
    differ("owner", fmt::format("{}:{}", a.uid, a.gid), fmt::format("{}:{}", b.uid, b.gid));
  if (a.mtime_ns != b.mtime_ns)
    differ("mtime", std::to_string(a.mtime_ns), std::to_string(b.mtime_ns));
  if (a.rdev != b.rdev)
    differ("device", fmt::format("{}:{}", major(a.rdev), minor(a.rdev)),
           fmt::format("{}:{}", major(b.rdev), minor(b.rdev)));
  if (a.target != b.target) differ("target", printable(a.target), printable(b.target));
  if (a.xattrs != b.xattrs) {
    std::string x, y;
    for (const auto& [k, v] : a.xattrs) x += fmt::format("{}={} ", k, printable(v));
    for (const auto& [k, v] : b.xattrs) y += fmt::format("{}={} ", k, printable(v));
    differ("xattrs", fmt::format("[{}]", x), fmt::format("[{}]", y));
  }
  if (a.link_group != b.link_group)
    differ("hardlink group", fmt::format("'{}'", printable(a.link_group)),
           fmt::format("'{}'", printable(b.link_group)));
}

}  // namespace

std::string list_tree(const std::string& root, Listing& out) {
  out.clear();
  Walk walk{out, {}};
  struct ::stat st {};
  if (::lstat(root.c_str(), &st) != 0)
    return fmt::format("stat {}: {}", root, std::strerror(errno));
  const std::string parent =
      root.find('/') == std::string::npos ? "." : root.substr(0, root.rfind('/') + 1);
  const std::string base = root.substr(root.rfind('/') + 1);
  const int parent_fd =
      ::open(parent.empty() ? "/" : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent_fd < 0) return fmt::format("open {}: {}", parent, std::strerror(errno));
  std::string why = walk.entry(parent_fd, base, "", st);
  ::close(parent_fd);
  if (!why.empty()) return why;
  if (S_ISDIR(st.st_mode)) {
    const int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return fmt::format("open {}: {}", root, std::strerror(errno));
    if (why = walk.directory(fd, ""); !why.empty()) return why;
  }
  for (auto& [inode, paths] : walk.inodes) {
    if (paths.size() < 2) continue;
    const std::string first = *std::min_element(paths.begin(), paths.end());
    for (const std::string& path : paths) out[path].link_group = first;
  }
  return {};
}

std::vector<std::string> compare_listings(const Listing& expected, const Listing& actual,
                                          std::size_t limit) {
  std::vector<std::string> lines;
  for (const auto& [path, entry] : expected) {
    const auto it = actual.find(path);
    if (it == actual.end())
      lines.push_back(printable(path) + ": missing from the copy");
    else
      compare_entry(path, entry, it->second, lines);
  }
  for (const auto& [path, entry] : actual)
    if (expected.find(path) == expected.end()) lines.push_back(printable(path) + ": not expected");
  if (lines.size() > limit) {
    const std::size_t more = lines.size() - limit;
    lines.resize(limit);
    lines.push_back(fmt::format("... and {} more", more));
  }
  return lines;
}

std::string describe_differences(const std::vector<std::string>& lines) {
  std::string text = fmt::format("{} difference(s):\n", lines.size());
  for (const std::string& line : lines) text += "  " + line + "\n";
  return text;
}

}  // namespace ccopy::testing
