// --engine auto: which engine copies a tree fastest into a file system of this kind, from the
// benchmark's measurements of trees on this kind of machine (docs/results.md, docs/copy.md).
#include <sys/stat.h>

#include <fmt/format.h>

#include "ccopy/copy.hpp"
#include "sys/sys.hpp"

namespace ccopy {
namespace {

// The nearest existing directory at or above `path`.
std::string existing_parent(std::string path) {
  struct ::stat st {};
  while (!path.empty() && ::stat(path.c_str(), &st) != 0) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    const std::size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
  return path.empty() ? "." : path;
}

}  // namespace

AutoChoice choose_engine(const std::string& destination, Reflink reflink) {
  const std::string where = existing_parent(destination);
  const std::string fs = sys::filesystem_type(where);
  // btrfs copying bytes (--reflink=never): many threads at once lost to cp -a (0.59x on
  // the Linux tree, kernel and threads alike), while the event loop's few files in flight
  // kept up with it (uring 0.96x) and beat threads in the benchmark (1.45x).
  if (fs == "btrfs" && reflink == Reflink::never)
    return {"uring",
            "btrfs without reflinks: one io_uring loop, few files at once (many threads contend "
            "for btrfs's locks)"};
  // File systems that clone: every engine clones through the copy path (--reflink=auto), and
  // the kernel engine's threads do nothing else per file.
  if (fs == "xfs" || fs == "btrfs")
    return {"kernel", fmt::format("{} clones files (FICLONE): kernel threads", fs)};
  return {"kernel", fmt::format("{}: copy_file_range on a pool of threads", fs)};
}

}  // namespace ccopy
