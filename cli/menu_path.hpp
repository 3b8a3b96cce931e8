// Paths the menu asks for: Tab completion as a shell does it, and the checks a directory must
// pass before a run uses it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ccopy::cli::menu {

/// What Tab completes: directories only (a tree, the benchmark's directory), or any entry
/// (an export file).
enum class PathKind : std::uint8_t { directories, any };

/// The outcome of completing a path.
struct Completion {
  std::string text;                     ///< the input, completed as far as it is unambiguous
  std::size_t matches = 0;              ///< how many entries matched
  std::vector<std::string> candidates;  ///< when several matched: their names, sorted,
                                        ///< directories ending in '/'
};

/// Completes the last component of `input` among the entries of its directory (the current
/// one when `input` has no '/'; "~/" is the home directory). One match is completed whole, with
/// a '/' after a directory; several are completed to their longest common prefix and listed.
/// Entries starting with '.' match only when the typed component does. Never throws.
[[nodiscard]] Completion complete_path(std::string_view input, PathKind kind);

/// `path` with a leading "~" or "~/" replaced by $HOME.
[[nodiscard]] std::string expand_home(std::string_view path);

/// Empty when `path` is a directory whose entries can be listed and entered (what copying a
/// tree from it needs); otherwise "PATH: why".
[[nodiscard]] std::string check_readable_directory(const std::string& path);

/// Empty when `path` is a directory where files can be created (what the benchmark's
/// workspace needs); otherwise "PATH: why".
[[nodiscard]] std::string check_writable_directory(const std::string& path);

/// Whether `path` is `tree` or lies below it, after resolving both (symlinks, "..").
[[nodiscard]] bool lies_inside(const std::string& path, const std::string& tree);

}  // namespace ccopy::cli::menu
