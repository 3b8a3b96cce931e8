#include "tree/skeleton.hpp"

#include <algorithm>

namespace ccopy::tree {

void Skeleton::index_children() {
  const std::size_t n = parent.size();
  child_begin.assign(n + 1, 0);
  for (std::size_t k = 1; k < n; ++k) ++child_begin[parent[k] + 1];
  for (std::size_t k = 0; k < n; ++k) child_begin[k + 1] += child_begin[k];
  children.assign(n > 0 ? n - 1 : 0, 0);
  std::vector<std::uint32_t> next(child_begin.begin(), child_begin.end() - 1);
  for (std::size_t k = 1; k < n; ++k) children[next[parent[k]]++] = static_cast<std::uint32_t>(k);
}

Skeleton grow_by_level(std::span<const std::uint64_t> per_level, double affinity, Random& random) {
  Skeleton s;
  s.parent.push_back(0);
  s.depth.push_back(0);
  std::size_t previous_begin = 0;
  std::size_t previous_end = 1;
  for (std::size_t level = 1; level < per_level.size(); ++level) {
    const std::size_t begin = s.parent.size();
    const std::uint64_t parents = previous_end - previous_begin;
    const double fresh_weight = affinity * static_cast<double>(parents);
    for (std::uint64_t m = 0; m < per_level[level]; ++m) {
      // A parent is new with weight affinity * parents; otherwise it is the parent of a
      // uniformly chosen sibling-to-be already placed at this level (weight m).
      std::uint32_t parent;
      if (m == 0 || random.uniform() * (static_cast<double>(m) + fresh_weight) < fresh_weight)
        parent = static_cast<std::uint32_t>(previous_begin + random.below(parents));
      else
        parent = s.parent[begin + random.below(m)];
      s.parent.push_back(parent);
      s.depth.push_back(static_cast<std::uint8_t>(level));
    }
    previous_begin = begin;
    previous_end = s.parent.size();
  }
  s.index_children();
  return s;
}

Skeleton grow_by_preference(std::uint64_t count, Random& random) {
  Skeleton s;
  s.parent.push_back(0);
  s.depth.push_back(0);
  // The urn holds every directory twice, and once more for each subdirectory it has: a uniform
  // draw from it picks a directory with probability proportional to (subdirectories + 2).
  std::vector<std::uint32_t> urn{0, 0};
  urn.reserve(3 * count);
  for (std::uint64_t k = 1; k < count; ++k) {
    const std::uint32_t parent = urn[random.below(urn.size())];
    const auto self = static_cast<std::uint32_t>(k);
    s.parent.push_back(parent);
    s.depth.push_back(static_cast<std::uint8_t>(std::min(255, s.depth[parent] + 1)));
    urn.push_back(parent);
    urn.push_back(self);
    urn.push_back(self);
  }
  s.index_children();
  return s;
}

namespace {

std::vector<std::uint32_t> chain_to_root(const Manifest& m, std::uint32_t entry) {
  std::vector<std::uint32_t> chain{entry};
  while (entry != 0) chain.push_back(entry = m.entries[entry].parent);
  std::reverse(chain.begin(), chain.end());
  return chain;
}

}  // namespace

std::string relative_target(const Manifest& m, std::uint32_t from, std::uint32_t to) {
  const std::vector<std::uint32_t> a = chain_to_root(m, from);
  const std::vector<std::uint32_t> b = chain_to_root(m, to);
  std::size_t common = 0;
  while (common < a.size() && common < b.size() && a[common] == b[common]) ++common;
  std::string target;
  for (std::size_t i = common; i < a.size(); ++i) target += "../";
  for (std::size_t i = common; i < b.size(); ++i) {
    target += m.name(m.entries[b[i]]);
    if (i + 1 < b.size()) target += '/';
  }
  return target;
}

bool is_ancestor(const Manifest& m, std::uint32_t ancestor, std::uint32_t entry) {
  for (;;) {
    if (entry == ancestor) return true;
    if (entry == 0) return false;
    entry = m.entries[entry].parent;
  }
}

}  // namespace ccopy::tree
