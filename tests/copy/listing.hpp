// A tree described entry by entry the way `cp -a` is judged: kind, bytes, mode, owner,
// nanosecond modification time, extended attributes, symlink target, device number, hardlink
// group and allocated blocks. Two listings are compared to say whether two copies are the same.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ccopy::testing {

struct ListedEntry {
  char kind = '?';         ///< 'd', 'f', 'l' (symlink), 'p' (FIFO), 's' (socket), 'c', 'b'
  std::uint64_t size = 0;  ///< regular files and symlinks; directories' sizes are the file system's
  std::uint64_t blocks = 0;  ///< st_blocks of a regular file: holes are kept or not
  unsigned mode = 0;         ///< permission and special bits
  uid_t uid = 0;
  gid_t gid = 0;
  std::int64_t mtime_ns = 0;
  dev_t rdev = 0;                                           ///< devices
  std::string target;                                       ///< symlinks
  std::vector<std::pair<std::string, std::string>> xattrs;  ///< sorted by name
  /// For a non-directory with more than one name in the tree: its first name in path order,
  /// which every name of that inode shares. Empty for an inode with one name.
  std::string link_group;
};

/// Entries by their path below the root ("" is the root itself, "a/b" below it).
using Listing = std::map<std::string, ListedEntry>;

/// Lists the tree at `root` without following symlinks, through descriptors, so that paths
/// longer than PATH_MAX are listed too. Returns an empty string, or what went wrong.
[[nodiscard]] std::string list_tree(const std::string& root, Listing& out);

/// What differs between two listings, one line per difference ("a/b: mode 0644 vs 0600"),
/// at most `limit` lines; empty when they are the same entry for entry.
[[nodiscard]] std::vector<std::string> compare_listings(const Listing& expected,
                                                        const Listing& actual,
                                                        std::size_t limit = 20);

/// The lines of compare_listings() joined, for a test's failure message.
[[nodiscard]] std::string describe_differences(const std::vector<std::string>& lines);

}  // namespace ccopy::testing
