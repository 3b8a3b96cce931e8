// plan_tree() and what a Manifest knows about itself: names, paths, data extents, footprint.
#include <algorithm>
#include <cerrno>
#include <new>

#include "ccopy/tree.hpp"
#include "tree/builder.hpp"
#include "tree/planners.hpp"

namespace ccopy {

std::string_view Manifest::name(const ManifestEntry& e) const {
  return std::string_view(names).substr(e.name_offset, e.name_length);
}

std::string_view Manifest::symlink_target(const ManifestEntry& e) const {
  return std::string_view(names).substr(std::size_t{e.name_offset} + e.name_length,
                                        e.target_length);
}

std::string Manifest::path(std::size_t index) const {
  std::vector<std::size_t> chain;
  // A valid manifest's parents come first; the bound keeps a broken one (a cycle) from looping.
  for (std::size_t i = index; i != 0 && i < entries.size() && chain.size() < entries.size();
       i = entries[i].parent)
    chain.push_back(i);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (!out.empty()) out += '/';
    out += name(entries[*it]);
  }
  return out;
}

DataExtents data_extents(const ManifestEntry& e) {
  DataExtents out;
  const std::uint64_t data = std::min(e.data, e.size);
  if (e.kind != EntryKind::regular || data == 0) return out;
  auto add = [&out](std::uint64_t offset, std::uint64_t length) {
    if (length > 0) out.extent[out.count++] = Extent{offset, length};
  };
  switch (e.holes) {
    case Holes::none:
      add(0, e.size);
      break;
    case Holes::start:
      add(e.size - data, data);
      break;
    case Holes::end:
      add(0, data);
      break;
    case Holes::middle:
      add(0, data / 2);
      add(e.size - (data - data / 2), data - data / 2);
      break;
    case Holes::all:
      break;
  }
  return out;
}

Footprint footprint(const Manifest& manifest, std::uint64_t block_size) {
  Footprint f;
  const std::uint64_t block = block_size == 0 ? 4096 : block_size;
  for (const ManifestEntry& e : manifest.entries) {
    switch (e.kind) {
      case EntryKind::regular: {
        const DataExtents extents = data_extents(e);
        for (unsigned i = 0; i < extents.count; ++i)
          f.bytes += (extents.extent[i].length + block - 1) / block * block;
        ++f.inodes;
        break;
      }
      case EntryKind::directory:
      case EntryKind::symlink:
        f.bytes += block;
        ++f.inodes;
        break;
      case EntryKind::fifo:
        ++f.inodes;
        break;
      case EntryKind::hardlink:
        break;
    }
  }
  return f;
}

Error plan_tree(const TreeRecipe& recipe, Manifest& out) {
  const bool scaled = recipe.shape != Shape::flat && recipe.shape != Shape::mixed;
  if (scaled && !(recipe.scale >= 0.001 && recipe.scale <= 100))
    return Error::failure("plan a tree: the scale must be between 0.001 and 100");
  try {
    Error e;
    switch (recipe.shape) {
      case Shape::flat:
        e = tree::plan_flat(recipe, out);
        break;
      case Shape::linux:
        e = tree::plan_linux(recipe, out);
        break;
      case Shape::node_modules:
        e = tree::plan_node_modules(recipe, out);
        break;
      case Shape::impressions:
        e = tree::plan_impressions(recipe, out);
        break;
      case Shape::photos:
        e = tree::plan_photos(recipe, out);
        break;
      case Shape::mixed:
        e = tree::plan_mixed(recipe, out);
        break;
    }
    if (e) return e;
    return tree::check_manifest(out);
  } catch (const std::bad_alloc&) {
    out = Manifest{};
    return Error::from_errno(ENOMEM, "plan a tree");
  }
}

}  // namespace ccopy
