#include "menu_items.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "ccopy/size.hpp"
#include "ccopy/tree.hpp"
#include "scenarios.hpp"

namespace ccopy::cli::menu {
namespace {

FillConfig scenarios_filler(std::vector<Scenario> scenarios) {
  return [scenarios = std::move(scenarios)](const std::string&, BenchmarkConfig& config) {
    config.scenarios = scenarios;
    return Error{};
  };
}

FillConfig tree_filler(std::string tree) {
  return [tree = std::move(tree)](const std::string& source, BenchmarkConfig& config) {
    return fill_tree_config(tree, source, config);
  };
}

MenuItem scenario_item(const Scenario& s) {
  return {fmt::format("{} files x {}", s.files, size_label(s.size)), format_bytes(s.total_bytes()),
          false, false, scenarios_filler({s})};
}

MenuItem run_all_item() {
  std::uint64_t total = 0;
  for (const Scenario& s : original_scenarios()) total += s.total_bytes();
  return {"Run all", format_bytes(total), false, false, scenarios_filler(original_scenarios())};
}

}  // namespace

std::string size_label(std::uint64_t bytes) {
  std::string text = short_size(bytes);
  const char unit = text.empty() ? '\0' : text.back();
  if (unit != 'K' && unit != 'M' && unit != 'G' && unit != 'T') return text + " B";
  text.pop_back();
  return fmt::format("{} {}iB", text, unit);
}

// The table. A tree item's detail says what it writes, from the generator's own figures at
// scale 1 (docs/trees.md).
std::vector<MenuItem> all_menu_items() {
  std::vector<MenuItem> items;
  for (const Scenario& s : original_scenarios()) items.push_back(scenario_item(s));
  items.push_back(run_all_item());
  for (const char* name : {"linux", "node_modules", "photos"}) {
    const ShapeInfo* shape = find_shape(name);
    items.push_back({fmt::format("{} tree", name),
                     fmt::format("{} files, {}", shape->files, format_bytes(shape->bytes)), true,
                     false, tree_filler(name)});
  }
  items.push_back({"Your own tree…", "a directory you choose", true, true, tree_filler("")});
  return items;
}

std::vector<MenuItem> shown_items(std::vector<MenuItem> items, bool library_has_trees) {
  if (!library_has_trees)
    std::erase_if(items, [](const MenuItem& item) { return item.needs_trees; });
  return items;
}

std::vector<MenuItem> menu_items() { return shown_items(all_menu_items(), kLibraryHasTrees); }

// Sets what to copy: for a generated tree its shape (the -tree value, at scale 1), for the
// user's tree the source directory (the -src value). The engines, runs and directory are set
// already; the runner reports each under Scenario::name() and describes it before it copies.
Error fill_tree_config(std::string_view tree, const std::string& source, BenchmarkConfig& config) {
  Scenario s;
  if (tree.empty()) {
    s.kind = Scenario::Kind::source;
    s.source = source;
    // Completion leaves a slash after the directory's name; the tree is named without it.
    while (s.source.size() > 1 && s.source.back() == '/') s.source.pop_back();
  } else {
    const ShapeInfo* shape = find_shape(tree);
    if (shape == nullptr) return Error::failure(fmt::format("unknown tree '{}'", tree));
    s.kind = Scenario::Kind::shape;
    s.shape = shape->shape;
  }
  config.scenarios = {s};
  return {};
}

}  // namespace ccopy::cli::menu
