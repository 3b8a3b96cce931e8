#include "tree/directory.hpp"

#include <fcntl.h>

namespace ccopy::tree {

long open_directory_for_reading(int dir, const char* name) {
  const long fd = sys::open_directory_at(dir, name, O_NOFOLLOW | O_NOATIME);
  if (fd != -EPERM) return fd;
  return sys::open_directory_at(dir, name, O_NOFOLLOW);
}

long open_file_for_reading(int dir, const char* name) {
  const long fd = sys::open_source_at(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOATIME);
  if (fd != -EPERM) return fd;
  return sys::open_source_at(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

std::string join_path(std::string_view directory, std::string_view name) {
  std::string path;
  path.reserve(directory.size() + 1 + name.size());
  path.append(directory);
  if (!directory.empty()) path += '/';
  path.append(name);
  return path;
}

}  // namespace ccopy::tree
