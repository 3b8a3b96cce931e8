// What the tree tests need beyond the library: a plan's statistics computed from its Manifest
// alone (the shapes' targets are checked against these), and small helpers for trees on disk.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ccopy/tree.hpp"

namespace ccopy::testing {

/// A planned tree measured the way bench/tree_stats.py measures a real one.
struct PlanStats {
  std::uint64_t files = 0, directories = 0, leaves = 0, empty_directories = 0;
  std::uint64_t symlinks = 0, directory_symlinks = 0, hardlinks = 0, fifos = 0;
  std::uint64_t sparse_files = 0, empty_files = 0, executables = 0;
  std::uint64_t bytes = 0;  ///< apparent sizes of the regular files
  std::uint64_t size_median = 0, size_p90 = 0, size_p99 = 0, size_max = 0;
  double size_mean = 0;
  double files_per_directory_mean = 0;
  std::uint64_t files_per_directory_median = 0, files_per_directory_max = 0;
  double file_depth_mean = 0;  ///< a file in the root is at depth 1
  unsigned file_depth_max = 0;
  unsigned max_depth = 0;  ///< deepest entry of any kind
  std::size_t longest_path = 0;
};

[[nodiscard]] PlanStats plan_stats(const Manifest& m);

/// The nearest-rank percentile `q` (0 to 100) of `sorted`.
[[nodiscard]] std::uint64_t percentile(const std::vector<std::uint64_t>& sorted, double q);

/// `m` without its top-level entry `name` and everything below it: for the copies made with
/// cp -a, which (like tar and rsync) cannot copy paths deeper than PATH_MAX.
[[nodiscard]] Manifest without(const Manifest& m, std::string_view name);

/// True when no directory of `m` holds two entries of one name; else names the first clash.
[[nodiscard]] std::string duplicate_name(const Manifest& m);

}  // namespace ccopy::testing
