#include "unit/tree_support.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <string_view>
#include <utility>

namespace ccopy::testing {

std::uint64_t percentile(const std::vector<std::uint64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank =
      static_cast<std::size_t>(std::ceil(static_cast<double>(sorted.size()) * q / 100));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

PlanStats plan_stats(const Manifest& m) {
  PlanStats s;
  const std::size_t n = m.entries.size();
  std::vector<unsigned> depth(n, 0);
  std::vector<std::size_t> path_length(n, 0);
  std::vector<std::uint64_t> files_in(n, 0), subdirs_in(n, 0), entries_in(n, 0), sizes;
  std::uint64_t depth_sum = 0;
  for (std::size_t i = 1; i < n; ++i) {
    const ManifestEntry& e = m.entries[i];
    depth[i] = depth[e.parent] + 1;
    path_length[i] = path_length[e.parent] + (e.parent == 0 ? 0 : 1) + e.name_length;
    s.longest_path = std::max(s.longest_path, path_length[i]);
    s.max_depth = std::max(s.max_depth, depth[i]);
    ++entries_in[e.parent];
    switch (e.kind) {
      case EntryKind::directory:
        ++subdirs_in[e.parent];
        break;
      case EntryKind::regular:
        ++s.files;
        ++files_in[e.parent];
        sizes.push_back(e.size);
        s.bytes += e.size;
        s.sparse_files += e.data < e.size;
        s.empty_files += e.size == 0;
        s.executables += (e.mode & 0111) != 0;
        depth_sum += depth[i];
        s.file_depth_max = std::max(s.file_depth_max, depth[i]);
        break;
      case EntryKind::symlink:
        ++s.symlinks;
        break;
      case EntryKind::hardlink:
        ++s.hardlinks;
        break;
      case EntryKind::fifo:
        ++s.fifos;
        break;
    }
  }
  std::vector<std::uint64_t> per_dir;
  for (std::size_t i = 0; i < n; ++i) {
    if (m.entries[i].kind != EntryKind::directory) continue;
    ++s.directories;
    per_dir.push_back(files_in[i]);
    s.leaves += subdirs_in[i] == 0;
    s.empty_directories += entries_in[i] == 0;
  }
  for (std::size_t i = 1; i < n; ++i) {
    const ManifestEntry& e = m.entries[i];
    if (e.kind != EntryKind::symlink) continue;
    // A relative target that names a planned directory: resolve it from the link's directory.
    std::size_t at = e.parent;
    std::string_view rest = m.symlink_target(e);
    bool resolved = !rest.starts_with('/');
    while (resolved && !rest.empty()) {
      const std::size_t slash = rest.find('/');
      const std::string_view part = rest.substr(0, slash);
      rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
      if (part == "..") {
        at = m.entries[at].parent;
        continue;
      }
      resolved = false;
      for (std::size_t j = at + 1; j < n; ++j)
        if (m.entries[j].parent == at && m.name(m.entries[j]) == part &&
            m.entries[j].kind == EntryKind::directory) {
          at = j;
          resolved = true;
          break;
        }
    }
    s.directory_symlinks += resolved;
  }
  std::sort(sizes.begin(), sizes.end());
  std::sort(per_dir.begin(), per_dir.end());
  s.size_median = percentile(sizes, 50);
  s.size_p90 = percentile(sizes, 90);
  s.size_p99 = percentile(sizes, 99);
  s.size_max = sizes.empty() ? 0 : sizes.back();
  s.size_mean = s.files ? static_cast<double>(s.bytes) / static_cast<double>(s.files) : 0;
  s.files_per_directory_mean =
      s.directories ? static_cast<double>(s.files) / static_cast<double>(s.directories) : 0;
  s.files_per_directory_median = percentile(per_dir, 50);
  s.files_per_directory_max = per_dir.empty() ? 0 : per_dir.back();
  s.file_depth_mean = s.files ? static_cast<double>(depth_sum) / static_cast<double>(s.files) : 0;
  return s;
}

Manifest without(const Manifest& m, std::string_view name) {
  Manifest out;
  out.names = m.names;
  std::vector<std::uint32_t> index(m.entries.size(), 0);
  std::vector<bool> dropped(m.entries.size(), false);
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    const ManifestEntry& e = m.entries[i];
    dropped[i] = i != 0 && (dropped[e.parent] || (e.parent == 0 && m.name(e) == name));
    if (dropped[i]) continue;
    ManifestEntry copy = e;
    copy.parent = index[e.parent];
    if (e.kind == EntryKind::hardlink) copy.target = index[e.target];
    index[i] = static_cast<std::uint32_t>(out.entries.size());
    out.entries.push_back(copy);
  }
  return out;
}

std::string duplicate_name(const Manifest& m) {
  std::set<std::pair<std::uint32_t, std::string_view>> seen;
  for (std::size_t i = 1; i < m.entries.size(); ++i)
    if (!seen.emplace(m.entries[i].parent, m.name(m.entries[i])).second) return m.path(i);
  return {};
}

}  // namespace ccopy::testing
