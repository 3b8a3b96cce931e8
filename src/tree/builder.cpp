#include "tree/builder.hpp"

#include <algorithm>
#include <limits>

namespace ccopy::tree {

ManifestBuilder::ManifestBuilder(Manifest& out) : out_(out) {
  out_.entries.clear();
  out_.names.clear();
  ManifestEntry root;
  root.kind = EntryKind::directory;
  root.mode = 0755;
  out_.entries.push_back(root);
}

void ManifestBuilder::reserve(std::size_t entries, std::size_t name_bytes) {
  out_.entries.reserve(entries);
  out_.names.reserve(name_bytes);
}

std::uint32_t ManifestBuilder::append(const ManifestEntry& e, std::string_view name,
                                      std::string_view target) {
  ManifestEntry entry = e;
  entry.name_offset = static_cast<std::uint32_t>(out_.names.size());
  entry.name_length = static_cast<std::uint16_t>(name.size());
  entry.target_length = static_cast<std::uint16_t>(target.size());
  out_.names.append(name);
  out_.names.append(target);
  out_.entries.push_back(entry);
  return static_cast<std::uint32_t>(out_.entries.size() - 1);
}

std::uint32_t ManifestBuilder::add_directory(std::uint32_t parent, std::string_view name,
                                             std::uint16_t mode) {
  ManifestEntry e;
  e.parent = parent;
  e.kind = EntryKind::directory;
  e.mode = mode;
  return append(e, name, {});
}

std::uint32_t ManifestBuilder::add_file(std::uint32_t parent, std::string_view name,
                                        std::uint64_t size, std::uint16_t mode) {
  return add_sparse_file(parent, name, size, size, Holes::none, mode);
}

std::uint32_t ManifestBuilder::add_sparse_file(std::uint32_t parent, std::string_view name,
                                               std::uint64_t size, std::uint64_t data, Holes holes,
                                               std::uint16_t mode) {
  ManifestEntry e;
  e.parent = parent;
  e.kind = EntryKind::regular;
  e.mode = mode;
  e.size = size;
  e.data = data;
  e.holes = holes;
  return append(e, name, {});
}

std::uint32_t ManifestBuilder::add_symlink(std::uint32_t parent, std::string_view name,
                                           std::string_view target) {
  ManifestEntry e;
  e.parent = parent;
  e.kind = EntryKind::symlink;
  e.mode = 0777;
  return append(e, name, target);
}

std::uint32_t ManifestBuilder::add_hardlink(std::uint32_t parent, std::string_view name,
                                            std::uint32_t target) {
  ManifestEntry e;
  e.parent = parent;
  e.kind = EntryKind::hardlink;
  e.target = target;
  e.mode = out_.entries[target].mode;
  return append(e, name, {});
}

std::uint32_t ManifestBuilder::add_fifo(std::uint32_t parent, std::string_view name,
                                        std::uint16_t mode) {
  ManifestEntry e;
  e.parent = parent;
  e.kind = EntryKind::fifo;
  e.mode = mode;
  return append(e, name, {});
}

void ManifestBuilder::set_name(std::uint32_t index, std::string_view name) {
  ManifestEntry& e = out_.entries[index];
  e.name_offset = static_cast<std::uint32_t>(out_.names.size());
  e.name_length = static_cast<std::uint16_t>(name.size());
  out_.names.append(name);
}

namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  return name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

std::string problem(const Manifest& m, std::size_t i, const char* what) {
  return "planned entry " + std::to_string(i) + " (" + m.path(i) + "): " + what;
}

}  // namespace

Error check_manifest(const Manifest& m) {
  if (m.entries.empty() || m.entries[0].kind != EntryKind::directory)
    return Error::failure("planned tree: entry 0 is not a directory");
  if (m.entries.size() > std::numeric_limits<std::uint32_t>::max())
    return Error::failure("planned tree: too many entries");
  for (std::size_t i = 1; i < m.entries.size(); ++i) {
    const ManifestEntry& e = m.entries[i];
    if (e.parent >= i || m.entries[e.parent].kind != EntryKind::directory)
      return Error::failure(problem(m, i, "its parent is not an earlier directory"));
    if (static_cast<std::size_t>(e.name_offset) + e.name_length + e.target_length > m.names.size())
      return Error::failure(problem(m, i, "its name lies outside the name pool"));
    if (!valid_name(m.name(e))) return Error::failure(problem(m, i, "not a valid file name"));
    if (e.kind == EntryKind::hardlink &&
        (e.target >= i || m.entries[e.target].kind != EntryKind::regular))
      return Error::failure(problem(m, i, "a hardlink to something that is not an earlier file"));
    if (e.kind == EntryKind::regular && e.data > e.size)
      return Error::failure(problem(m, i, "more data than its size"));
    if (e.kind == EntryKind::regular && e.holes == Holes::all && e.data != 0)
      return Error::failure(problem(m, i, "an all-hole file with data"));
    if (e.kind == EntryKind::symlink && e.target_length == 0)
      return Error::failure(problem(m, i, "a symlink without a target"));
  }
  return {};
}

}  // namespace ccopy::tree
