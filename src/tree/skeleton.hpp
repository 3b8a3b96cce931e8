// Directory skeletons: the shape of a tree's directories before anything has a name.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ccopy/tree.hpp"
#include "tree/random.hpp"

namespace ccopy::tree {

/// Directories as parent indices; directory 0 is the root and every parent comes before its
/// children, so the skeleton's order is an order a Manifest may use.
struct Skeleton {
  std::vector<std::uint32_t> parent;
  std::vector<std::uint8_t> depth;
  std::vector<std::uint32_t> child_begin;  ///< children of k: children[child_begin[k]..[k+1])
  std::vector<std::uint32_t> children;

  [[nodiscard]] std::size_t size() const { return parent.size(); }
  [[nodiscard]] std::uint32_t child_count(std::size_t k) const {
    return child_begin[k + 1] - child_begin[k];
  }
  /// Fills child_begin and children from parent.
  void index_children();
};

/// Grows `per_level[d]` directories at each depth d >= 1 (per_level[0], the root, is 1): each
/// picks its parent among the directories one level up with probability proportional to
/// (children it has so far + `affinity`). A small affinity concentrates the children on few
/// parents (most directories become leaves, a few hold many), as in source trees; this is the
/// Chinese-restaurant process, sampled in constant time per directory.
[[nodiscard]] Skeleton grow_by_level(std::span<const std::uint64_t> per_level, double affinity,
                                     Random& random);

/// Grows `count` directories (the root included) by the generative model of Agrawal et al.
/// (FAST 2007, used by Impressions, FAST 2009): each new directory picks its parent among all
/// directories so far with probability proportional to (its subdirectories + 2).
[[nodiscard]] Skeleton grow_by_preference(std::uint64_t count, Random& random);

/// The relative symlink target that leads from directory `from` to entry `to` of `manifest`
/// ("../../net/forwarding/lib.sh").
[[nodiscard]] std::string relative_target(const Manifest& manifest, std::uint32_t from,
                                          std::uint32_t to);

/// True when directory `ancestor` is `entry` or one of the directories above it.
[[nodiscard]] bool is_ancestor(const Manifest& manifest, std::uint32_t ancestor,
                               std::uint32_t entry);

}  // namespace ccopy::tree
