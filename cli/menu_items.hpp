// The menu's list of benchmarks: one table of items, each knowing how to fill the part of a
// BenchmarkConfig that says what to copy.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ccopy/benchmark.hpp"
#include "ccopy/error.hpp"

namespace ccopy::cli::menu {

/// Whether run_benchmark() can copy a generated tree (-tree) or the user's own (-src): it can,
/// so the tree items of the table are shown. (A build of a library without trees would set it
/// false, and shown_items() would hide them.)
inline constexpr bool kLibraryHasTrees = true;

/// Fills in `config` what an item copies: its scenarios, or a tree. `source` is the directory the user typed for an item that asks for one, else empty.
/// Returns an error when the item cannot run with this library.
using FillConfig = std::function<Error(const std::string& source, BenchmarkConfig& config)>;

/// One line of the menu's list.
struct MenuItem {
  std::string label;           ///< "1000 files x 4 KiB", "linux tree", "Your own tree…"
  std::string detail;          ///< what it writes: "3.9 MiB", "shaped like Linux 6.1"
  bool needs_trees = false;    ///< shown only when the library can benchmark trees
  bool asks_for_path = false;  ///< asks for a directory (with completion) before it runs
  FillConfig fill;
};

/// The whole table, in the menu's order: the Go original's seven scenarios, "Run all", the
/// generated trees (linux, node_modules, photos) and "Your own tree…".
[[nodiscard]] std::vector<MenuItem> all_menu_items();

/// The items of `items` a library with or without trees can run.
[[nodiscard]] std::vector<MenuItem> shown_items(std::vector<MenuItem> items,
                                                bool library_has_trees);

/// The items the menu shows with this build's library.
[[nodiscard]] std::vector<MenuItem> menu_items();

/// Fills `config` to copy a tree: the generated tree `tree` ("linux", "node_modules",
/// "photos"), or, when `tree` is empty, the user's directory `source`. The one function to
/// write when the library gains trees; until then it refuses.
[[nodiscard]] Error fill_tree_config(std::string_view tree, const std::string& source,
                                     BenchmarkConfig& config);

/// "4 KiB", "50 MiB": an exact binary size as the menu's labels spell it.
[[nodiscard]] std::string size_label(std::uint64_t bytes);

}  // namespace ccopy::cli::menu
