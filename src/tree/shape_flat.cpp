// `flat`: the benchmark's original scenario, N files of one size in the root, named as the
// original named them (file_000000, file_000001, ...), so flat runs stay comparable.
#include <cstdio>

#include "tree/builder.hpp"
#include "tree/planners.hpp"

namespace ccopy::tree {

Error plan_flat(const TreeRecipe& recipe, Manifest& out) {
  if (recipe.files >= 0xffffffffULL)
    return Error::failure("plan a flat tree: too many files (" + std::to_string(recipe.files) +
                          ")");
  ManifestBuilder b(out);
  b.reserve(recipe.files + 1, recipe.files * 12);
  char name[32];
  for (std::uint64_t i = 0; i < recipe.files; ++i) {
    std::snprintf(name, sizeof name, "file_%06llu", static_cast<unsigned long long>(i));
    b.add_file(0, name, recipe.file_size, 0644);
  }
  return {};
}

}  // namespace ccopy::tree
