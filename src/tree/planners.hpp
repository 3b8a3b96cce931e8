// One planner per shape. Each fills `out` (through a ManifestBuilder) with the tree its recipe
// describes; plan_tree() checks the recipe before and the manifest after.
#pragma once

#include "ccopy/tree.hpp"

namespace ccopy::tree {

[[nodiscard]] Error plan_flat(const TreeRecipe& recipe, Manifest& out);
[[nodiscard]] Error plan_linux(const TreeRecipe& recipe, Manifest& out);
[[nodiscard]] Error plan_node_modules(const TreeRecipe& recipe, Manifest& out);
[[nodiscard]] Error plan_impressions(const TreeRecipe& recipe, Manifest& out);
[[nodiscard]] Error plan_photos(const TreeRecipe& recipe, Manifest& out);
[[nodiscard]] Error plan_mixed(const TreeRecipe& recipe, Manifest& out);

}  // namespace ccopy::tree
