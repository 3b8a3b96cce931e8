// The shapes' table. The figures are those plan_tree() gives at scale 1 with the default seed
// (a unit test holds them to it); docs/trees.md explains each shape and where its numbers
// come from.
#include <algorithm>

#include "ccopy/tree.hpp"

namespace ccopy {
namespace {

constexpr ShapeInfo kShapes[] = {
    {Shape::flat, "flat", "N files of one size in one directory (-files, -size)", 50, 1, 0,
     50ULL << 20},
    {Shape::linux, "linux", "shaped like the Linux 6.1 source tree", 78579, 5096, 56, 1297940409},
    {Shape::node_modules, "node_modules", "an npm dependency tree", 10161, 1530, 29, 104245951},
    {Shape::impressions, "impressions",
     "drawn from the Impressions model (Agrawal et al., FAST 2009)", 10000, 980, 0, 3403559766},
    {Shape::photos, "photos", "a photo library: a dozen dated directories of 2 to 6 MiB JPEGs", 500,
     15, 0, 2097131844},
    {Shape::mixed, "mixed", "every kind of entry a copier must handle, small", 27, 40, 7, 7555608},
};

}  // namespace

std::span<const ShapeInfo> shapes() { return kShapes; }

const ShapeInfo* find_shape(std::string_view name) {
  const auto it = std::find_if(std::begin(kShapes), std::end(kShapes),
                               [name](const ShapeInfo& s) { return s.name == name; });
  return it == std::end(kShapes) ? nullptr : &*it;
}

}  // namespace ccopy
