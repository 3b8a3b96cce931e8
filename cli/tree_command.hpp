// `concurrent_copy tree SHAPE DIR`: writes one of the benchmark's generated trees into a new
// directory and keeps it, so that other tools (bench/compare, cp, rsync) can copy exactly what
// the benchmark copies. The tree is what `-tree SHAPE` with the same -tree-scale and -seed
// generates, name for name and byte for byte.
#pragma once

#include <atomic>
#include <string>
#include <vector>

namespace ccopy::cli {

/// The help text of the tree command.
[[nodiscard]] std::string tree_help();

/// Parses `args` (what follows `tree`), writes the tree, and returns the exit code: 0, 1 (the
/// tree could not be written; what was written is removed), 2 (usage). Messages are written to
/// stderr through `say`, the description of the tree to stdout.
[[nodiscard]] int run_tree_command(const std::vector<std::string>& args,
                                   const std::atomic<bool>& cancel,
                                   void (*say)(const std::string& line));

}  // namespace ccopy::cli
