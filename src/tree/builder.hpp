// Building a Manifest: the one place that appends entries and names, so that every planner
// produces entries of the same form (parents before children, names in the pool, symlink
// targets right after their names).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

#include "ccopy/tree.hpp"

namespace ccopy::tree {

class ManifestBuilder {
 public:
  /// Empties `out` and gives it its root directory (entry 0, mode 0755).
  explicit ManifestBuilder(Manifest& out);

  /// Reserves room for `entries` entries and `name_bytes` bytes of names: planning a large tree
  /// then costs no reallocation and no slack.
  void reserve(std::size_t entries, std::size_t name_bytes);

  std::uint32_t add_directory(std::uint32_t parent, std::string_view name, std::uint16_t mode);
  std::uint32_t add_file(std::uint32_t parent, std::string_view name, std::uint64_t size,
                         std::uint16_t mode);
  /// A sparse file: `data` bytes laid out as `holes` says, within `size`.
  std::uint32_t add_sparse_file(std::uint32_t parent, std::string_view name, std::uint64_t size,
                                std::uint64_t data, Holes holes, std::uint16_t mode);
  std::uint32_t add_symlink(std::uint32_t parent, std::string_view name, std::string_view target);
  /// Another name of the regular entry `target`.
  std::uint32_t add_hardlink(std::uint32_t parent, std::string_view name, std::uint32_t target);
  std::uint32_t add_fifo(std::uint32_t parent, std::string_view name, std::uint16_t mode);

  /// Gives the entry `index` (planned without one) its name.
  void set_name(std::uint32_t index, std::string_view name);

  [[nodiscard]] Manifest& manifest() { return out_; }
  [[nodiscard]] std::size_t size() const { return out_.entries.size(); }

 private:
  std::uint32_t append(const ManifestEntry& e, std::string_view name, std::string_view target);
  Manifest& out_;
};

/// The names already used in one directory, so that a planner can draw names until one is new.
/// Exact (it keeps the names, not hashes), so what it decides does not depend on a hash function.
class NameSet {
 public:
  /// True, and remembers `name`, when it was not used yet.
  bool insert(std::string_view name) { return names_.emplace(name).second; }
  [[nodiscard]] bool contains(std::string_view name) const {
    return names_.find(std::string(name)) != names_.end();
  }
  void clear() { names_.clear(); }

 private:
  std::unordered_set<std::string> names_;
};

/// Checks what every Manifest must satisfy: entry 0 a directory, parents directories that come
/// earlier, names valid file names (1 to 255 bytes, no '/' or NUL, not "." or ".."), hardlinks
/// naming earlier regular entries, data within size. An Error names the first offending entry.
[[nodiscard]] Error check_manifest(const Manifest& manifest);

}  // namespace ccopy::tree
