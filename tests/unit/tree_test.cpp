// Planning trees: every shape is deterministic, holds the statistics of what it imitates
// (computed from the Manifest alone, so a drifting generator fails here), keeps every kind of
// entry at any scale, and is what shapes() says it is.
#include "ccopy/tree.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

#include "unit/tree_support.hpp"

namespace ccopy {
namespace {

using testing::plan_stats;
using testing::PlanStats;

Manifest plan(Shape shape, double scale = 1.0, std::uint64_t seed = 24301) {
  TreeRecipe recipe;
  recipe.shape = shape;
  recipe.scale = scale;
  recipe.seed = seed;
  Manifest m;
  const Error e = plan_tree(recipe, m);
  EXPECT_FALSE(e) << e.message();
  return m;
}

// Within `tolerance` (a fraction) of `target`.
::testing::AssertionResult near(double value, double target, double tolerance) {
  if (std::fabs(value - target) <= tolerance * target) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << value << " is not within " << tolerance * 100 << "% of " << target;
}

constexpr Shape kScaledShapes[] = {Shape::linux, Shape::node_modules, Shape::impressions,
                                   Shape::photos};
constexpr Shape kAllShapes[] = {Shape::flat,        Shape::linux,  Shape::node_modules,
                                Shape::impressions, Shape::photos, Shape::mixed};

TEST(PlanTree, TheSameRecipeGivesTheSameTree) {
  for (Shape shape : kAllShapes) {
    SCOPED_TRACE("shape " + std::to_string(static_cast<int>(shape)));
    const Manifest a = plan(shape, 0.2, 99);
    const Manifest b = plan(shape, 0.2, 99);
    ASSERT_EQ(a.entries.size(), b.entries.size());
    EXPECT_EQ(a.names, b.names);
    for (std::size_t i = 0; i < a.entries.size(); ++i) {
      const ManifestEntry& x = a.entries[i];
      const ManifestEntry& y = b.entries[i];
      ASSERT_TRUE(x.parent == y.parent && x.kind == y.kind && x.mode == y.mode &&
                  x.size == y.size && x.data == y.data && x.holes == y.holes &&
                  x.target == y.target && x.name_offset == y.name_offset)
          << "entry " << i;
    }
  }
}

TEST(PlanTree, AnotherSeedGivesAnotherRandomTree) {
  for (Shape shape : kScaledShapes) EXPECT_NE(plan(shape, 0.2, 1).names, plan(shape, 0.2, 2).names);
}

TEST(PlanTree, NamesAreUniqueInEveryDirectory) {
  for (Shape shape : kAllShapes)
    for (double scale : {0.01, 1.0, 3.0}) {
      const Manifest m = plan(shape, scale);
      EXPECT_EQ(testing::duplicate_name(m), "") << "scale " << scale;
    }
}

TEST(PlanTree, RefusesAScaleOutsideItsRange) {
  TreeRecipe recipe;
  recipe.shape = Shape::linux;
  Manifest m;
  for (double scale : {0.0, 0.0001, -1.0, 101.0, std::nan("")}) {
    recipe.scale = scale;
    EXPECT_TRUE(plan_tree(recipe, m)) << scale;
  }
  recipe.shape = Shape::flat;  // flat ignores the scale
  recipe.scale = 0;
  EXPECT_FALSE(plan_tree(recipe, m));
}

TEST(PlanTree, FlatIsTheOriginalScenario) {
  TreeRecipe recipe;
  recipe.files = 1200;
  recipe.file_size = 4096;
  Manifest m;
  ASSERT_FALSE(plan_tree(recipe, m));
  ASSERT_EQ(m.entries.size(), 1201u);
  EXPECT_EQ(m.path(1), "file_000000");
  EXPECT_EQ(m.path(1200), "file_001199");
  for (std::size_t i = 1; i < m.entries.size(); ++i) {
    EXPECT_EQ(m.entries[i].size, 4096u);
    EXPECT_EQ(m.entries[i].mode, 0644);
    EXPECT_EQ(m.entries[i].parent, 0u);
  }
  recipe.files = 0;
  ASSERT_FALSE(plan_tree(recipe, m));
  EXPECT_EQ(m.entries.size(), 1u);
}

// The figures of Debian's linux-source-6.1, measured with bench/tree_stats.py (docs/trees.md).
TEST(PlanTree, LinuxHasTheStatisticsOfTheRealTree) {
  const PlanStats s = plan_stats(plan(Shape::linux));
  EXPECT_EQ(s.files, 78579u);
  EXPECT_EQ(s.directories, 5096u);
  EXPECT_EQ(s.symlinks, 56u);
  EXPECT_EQ(s.directory_symlinks, 11u);
  EXPECT_EQ(s.empty_directories, 0u);
  EXPECT_TRUE(near(static_cast<double>(s.leaves), 4023, 0.03));
  EXPECT_TRUE(near(static_cast<double>(s.bytes), 1298682509, 0.02));
  EXPECT_TRUE(near(static_cast<double>(s.size_median), 3874, 0.02));
  EXPECT_TRUE(near(s.size_mean, 16527, 0.02));
  EXPECT_TRUE(near(static_cast<double>(s.size_p90), 28759, 0.02));
  EXPECT_TRUE(near(static_cast<double>(s.size_p99), 124858, 0.02));
  EXPECT_GE(s.size_max, 11000000u);  // the real tree's 10 largest are 7.6 to 24 MB
  EXPECT_LE(s.size_max, 23944620u);
  EXPECT_TRUE(near(s.files_per_directory_mean, 15.42, 0.01));
  EXPECT_EQ(s.files_per_directory_median, 6u);
  EXPECT_GE(s.files_per_directory_max, 1402u);
  EXPECT_LE(s.files_per_directory_max, 2541u);
  EXPECT_TRUE(near(s.file_depth_mean, 4.65, 0.02));
  EXPECT_EQ(s.file_depth_max, 10u);
  EXPECT_TRUE(near(static_cast<double>(s.executables), 814, 0.15));
  EXPECT_TRUE(near(static_cast<double>(s.empty_files), 30, 0.3));
}

// The issue's measurement of a real npm tree.
TEST(PlanTree, NodeModulesHasTheStatisticsOfARealNpmTree) {
  const Manifest m = plan(Shape::node_modules);
  const PlanStats s = plan_stats(m);
  EXPECT_EQ(s.files, 10161u);
  EXPECT_EQ(s.directories, 1530u);
  EXPECT_EQ(s.symlinks, 29u);
  EXPECT_TRUE(near(static_cast<double>(s.bytes), 100 << 20, 0.03));
  EXPECT_TRUE(near(static_cast<double>(s.size_median), 1100, 0.03));
  EXPECT_TRUE(near(s.size_mean, 10300, 0.03));
  EXPECT_TRUE(near(static_cast<double>(s.size_p99), 119000, 0.03));
  EXPECT_TRUE(near(s.file_depth_mean, 4.5, 0.05));
  EXPECT_EQ(s.file_depth_max, 9u);
  // Every symlink is a .bin entry naming a package's executable.
  for (const ManifestEntry& e : m.entries)
    if (e.kind == EntryKind::symlink) {
      EXPECT_EQ(m.path(e.parent), "node_modules/.bin");
      EXPECT_TRUE(m.symlink_target(e).starts_with("../")) << m.symlink_target(e);
      EXPECT_TRUE(m.symlink_target(e).ends_with(".js")) << m.symlink_target(e);
    }
}

// Agrawal et al., FAST 2009, with Impressions' default parameters (docs/trees.md).
TEST(PlanTree, ImpressionsFollowsItsModel) {
  const Manifest m = plan(Shape::impressions);
  const PlanStats s = plan_stats(m);
  EXPECT_EQ(s.files, 10000u);
  EXPECT_EQ(s.directories, 980u);  // 10,000 / 10.2
  EXPECT_EQ(s.symlinks, 0u);
  EXPECT_TRUE(near(static_cast<double>(s.size_median), std::exp(9.48), 0.03));
  EXPECT_LE(s.size_max, 1u << 30);
  // The body: ln(size) of the files below the tail's 512 MiB has mean 9.48 and sigma 2.46.
  double sum = 0, squares = 0, tail = 0, body = 0;
  for (const ManifestEntry& e : m.entries) {
    if (e.kind != EntryKind::regular) continue;
    if (e.size >= (512u << 20)) {
      ++tail;
      continue;
    }
    const double x = std::log(static_cast<double>(std::max<std::uint64_t>(e.size, 1)));
    sum += x;
    squares += x * x;
    ++body;
  }
  const double mean = sum / body;
  EXPECT_NEAR(mean, 9.48, 0.05);
  EXPECT_NEAR(std::sqrt(squares / body - mean * mean), 2.46, 0.05);
  EXPECT_EQ(tail, 1);  // round(10,000 x 0.00006)
  // Files per directory: 22.5% of the directories hold none; of the others, the share with one
  // file is that of the inverse polynomial's first term.
  std::vector<std::uint64_t> files_in(m.entries.size(), 0);
  for (const ManifestEntry& e : m.entries)
    if (e.kind == EntryKind::regular) ++files_in[e.parent];
  double empty = 0, one = 0, directories = 0;
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    if (m.entries[i].kind != EntryKind::directory) continue;
    ++directories;
    empty += files_in[i] == 0;
    one += files_in[i] == 1;
  }
  EXPECT_NEAR(empty / directories, 0.225, 0.01);
  double weights = 0;
  for (int k = 1; k <= 600; ++k) weights += 1 / ((k + 2.36) * (k + 2.36));
  EXPECT_NEAR(one / (directories - empty), 1 / (3.36 * 3.36) / weights, 0.03);
  // Parents drawn with probability proportional to (subdirectories + 2) leave three in five
  // directories without subdirectories.
  EXPECT_NEAR(static_cast<double>(s.leaves) / directories, 0.6, 0.04);
}

TEST(PlanTree, PhotosAreADozenDaysOfJpegs) {
  const Manifest m = plan(Shape::photos);
  const PlanStats s = plan_stats(m);
  EXPECT_EQ(s.files, 500u);
  EXPECT_EQ(s.directories, 15u);  // the root, two years, twelve days
  EXPECT_EQ(s.leaves, 12u);
  EXPECT_EQ(s.file_depth_max, 3u);
  for (std::size_t i = 1; i < m.entries.size(); ++i) {
    const ManifestEntry& e = m.entries[i];
    const std::string path = m.path(i);
    if (e.kind == EntryKind::regular) {
      EXPECT_GE(e.size, 2u << 20);
      EXPECT_LE(e.size, 6u << 20);
      EXPECT_EQ(path.size(), 4 + 1 + 10 + 1 + 12u) << path;  // 2024/2024-06-14/IMG_1234.JPG
      EXPECT_TRUE(path.starts_with(path.substr(0, 4) + "/" + path.substr(0, 4) + "-")) << path;
      EXPECT_TRUE(path.ends_with(".JPG")) << path;
    }
  }
  EXPECT_TRUE(near(static_cast<double>(s.bytes), 500.0 * (4 << 20), 0.02));
}

TEST(PlanTree, MixedHoldsEveryKindOfEntryACopierMustHandle) {
  const Manifest m = plan(Shape::mixed);
  const PlanStats s = plan_stats(m);
  auto find = [&](std::string_view path) -> const ManifestEntry* {
    for (std::size_t i = 0; i < m.entries.size(); ++i)
      if (m.path(i) == path) return &m.entries[i];
    ADD_FAILURE() << "no " << path;
    return nullptr;
  };
  for (const char* size : {"zero", "one", "page", "64k-1", "64k", "64k+1", "3m+17"})
    EXPECT_NE(find(std::string("sizes/") + size), nullptr);
  EXPECT_EQ(find("sizes/64k+1")->size, 65537u);
  for (const char* name : {"hole-at-start", "hole-in-middle", "hole-at-end", "all-hole"}) {
    const ManifestEntry* e = find(std::string("sparse/") + name);
    ASSERT_NE(e, nullptr);
    EXPECT_LT(e->data, e->size) << name;
  }
  EXPECT_EQ(m.symlink_target(*find("links/absolute")), "/nonexistent/absolute/target");
  EXPECT_EQ(m.symlink_target(*find("links/to-root")), "/");
  EXPECT_EQ(m.symlink_target(*find("links/dangling")), "does-not-exist");
  EXPECT_EQ(s.directory_symlinks, 1u);
  EXPECT_EQ(find("hardlinks/b/two")->kind, EntryKind::hardlink);
  EXPECT_EQ(find("hardlinks/c/three")->kind, EntryKind::hardlink);
  EXPECT_EQ(find("hardlinks/pair/second")->kind, EntryKind::hardlink);
  EXPECT_EQ(find("special/fifo")->kind, EntryKind::fifo);
  for (const char* name : {"with space", "new\nline", "\xff\xfe", "-leading-dash", "glob*?[x]"})
    EXPECT_NE(find(std::string("names/") + name), nullptr);
  EXPECT_NE(find("names/long-" + std::string(250, 'n')), nullptr);
  EXPECT_EQ(find("modes/mode-0444")->mode, 0444);
  EXPECT_EQ(find("modes/read-only-dir")->mode, 0500);
  EXPECT_NE(find("modes/read-only-dir/inside-1"), nullptr);
  EXPECT_EQ(s.empty_directories, 1u);  // empty/inner-empty (and empty/ holds it)
  EXPECT_GT(s.longest_path, 4096u);
  EXPECT_EQ(s.max_depth, 26u);
  EXPECT_EQ(s.empty_files, 1u);
  EXPECT_LT(s.bytes, 8u << 20);
}

// What a tree has at scale 1, it has at any scale: a scaled linux still has a symlink and a
// deep directory.
TEST(PlanTree, ScaledShapesKeepEveryKindOfEntry) {
  for (double scale : {0.001, 0.01, 0.1, 3.0}) {
    SCOPED_TRACE("scale " + std::to_string(scale));
    const PlanStats linux = plan_stats(plan(Shape::linux, scale));
    EXPECT_EQ(linux.file_depth_max, 10u);
    EXPECT_GE(linux.symlinks - linux.directory_symlinks, 2u);  // to a sibling, to a file elsewhere
    EXPECT_GE(linux.directory_symlinks, 1u);
    EXPECT_GE(linux.executables, 1u);
    EXPECT_GE(linux.empty_files, 1u);
    EXPECT_EQ(linux.files, static_cast<std::uint64_t>(std::max(1.0, std::round(78579 * scale))));

    const Manifest nm = plan(Shape::node_modules, scale);
    const PlanStats node = plan_stats(nm);
    EXPECT_EQ(node.symlinks, static_cast<std::uint64_t>(std::max(1.0, std::round(29 * scale))));
    EXPECT_EQ(node.files, static_cast<std::uint64_t>(std::max(1.0, std::round(10161 * scale))));
    bool nested = false, scoped = false;
    for (std::size_t i = 0; i < nm.entries.size(); ++i) {
      const std::string path = nm.path(i);
      nested |= path.find("/node_modules/") != std::string::npos;
      scoped |= path.starts_with("node_modules/@");
    }
    EXPECT_TRUE(nested);
    EXPECT_TRUE(scoped);

    const PlanStats impressions = plan_stats(plan(Shape::impressions, scale));
    EXPECT_GE(impressions.directories, 2u);
    EXPECT_GE(impressions.empty_directories, 1u);
    EXPECT_GE(impressions.files, 10u);

    const PlanStats photos = plan_stats(plan(Shape::photos, scale));
    EXPECT_GE(photos.files, 1u);
    EXPECT_EQ(photos.file_depth_max, 3u);
  }
}

// Scale 10 of linux is about 786,000 files: the plan must stay compact.
TEST(PlanTree, ALargeTreeIsPlannedCompactly) {
  const Manifest m = plan(Shape::linux, 10);
  const auto files = std::count_if(m.entries.begin(), m.entries.end(), [](const ManifestEntry& e) {
    return e.kind == EntryKind::regular;
  });
  EXPECT_EQ(files, 785790);
  const std::size_t bytes = m.entries.capacity() * sizeof(ManifestEntry) + m.names.capacity();
  EXPECT_LT(bytes, 48u << 20) << bytes;
  EXPECT_LE(sizeof(ManifestEntry), 40u);
}

TEST(Shapes, TheirFiguresAreThoseOfPlanTreeAtScaleOne) {
  ASSERT_EQ(shapes().size(), std::size(kAllShapes));
  for (const ShapeInfo& info : shapes()) {
    SCOPED_TRACE(std::string(info.name));
    EXPECT_EQ(find_shape(info.name), &info);
    const PlanStats s = plan_stats(plan(info.shape));
    EXPECT_EQ(info.files, s.files);
    EXPECT_EQ(info.directories, s.directories);
    EXPECT_EQ(info.symlinks, s.symlinks);
    EXPECT_EQ(info.bytes, s.bytes);  // exact for the default seed...
    // ...and approximate for any other.
    const PlanStats other = plan_stats(plan(info.shape, 1.0, 7));
    EXPECT_EQ(info.files, other.files);
    if (info.shape != Shape::impressions) {  // its sizes hang on a heavy tail
      EXPECT_TRUE(near(static_cast<double>(other.bytes), static_cast<double>(info.bytes), 0.05));
    }
  }
  EXPECT_EQ(find_shape("nonexistent"), nullptr);
}

TEST(Manifest, PathsAndExtents) {
  const Manifest m = plan(Shape::mixed);
  ManifestEntry e;
  e.size = 1000;
  e.data = 300;
  e.holes = Holes::middle;
  DataExtents x = data_extents(e);
  ASSERT_EQ(x.count, 2u);
  EXPECT_EQ(x.extent[0].offset, 0u);
  EXPECT_EQ(x.extent[0].length, 150u);
  EXPECT_EQ(x.extent[1].offset, 850u);
  EXPECT_EQ(x.extent[1].length, 150u);
  e.holes = Holes::start;
  x = data_extents(e);
  ASSERT_EQ(x.count, 1u);
  EXPECT_EQ(x.extent[0].offset, 700u);
  e.holes = Holes::end;
  EXPECT_EQ(data_extents(e).extent[0].offset, 0u);
  e.holes = Holes::all;
  e.data = 0;
  EXPECT_EQ(data_extents(e).count, 0u);
  e.holes = Holes::none;
  e.data = e.size;
  EXPECT_EQ(data_extents(e).extent[0].length, 1000u);
  EXPECT_EQ(m.path(0), "");
}

TEST(Manifest, FootprintCountsBlocksAndInodes) {
  const Manifest m = plan(Shape::mixed);
  const Footprint f = footprint(m, 4096);
  std::uint64_t bytes = 0, inodes = 0;
  for (const ManifestEntry& e : m.entries) {
    if (e.kind == EntryKind::hardlink) continue;
    ++inodes;
    if (e.kind == EntryKind::directory || e.kind == EntryKind::symlink) bytes += 4096;
    const DataExtents x = data_extents(e);
    for (unsigned i = 0; i < x.count; ++i) bytes += (x.extent[i].length + 4095) / 4096 * 4096;
  }
  EXPECT_EQ(f.inodes, inodes);
  EXPECT_EQ(f.bytes, bytes);
  TreeRecipe recipe;
  recipe.files = 3;
  recipe.file_size = 1;
  Manifest flat;
  ASSERT_FALSE(plan_tree(recipe, flat));
  EXPECT_EQ(footprint(flat, 4096).bytes, 4u * 4096);  // three blocks of data, one directory
  EXPECT_EQ(footprint(flat, 4096).inodes, 4u);
}

}  // namespace
}  // namespace ccopy
