// What the menu lets the user choose besides the benchmark: the engines to run and the
// directory to run them in.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "ccopy/benchmark.hpp"
#include "ccopy/error.hpp"

namespace ccopy::cli::menu {

/// One engine the menu offers: under the original's name for its two designs ("xev" is the
/// uring engine, "goroutine" the threads engine), under its registry name otherwise.
struct EngineRow {
  EngineChoice choice;
  std::string summary;        ///< the registry's one line
  Availability availability;  ///< an unavailable engine cannot be chosen; the reason is shown
  bool selected = false;
};

/// The rows for every engine of the registry, the original's two first, each probed.
[[nodiscard]] std::vector<EngineRow> engine_rows();

/// Selects the rows a -mode value chooses, as the benchmark resolves it (resolve_modes), and
/// adds its notes; "both" selects xev and goroutine. Returns resolve_modes' error, if any.
[[nodiscard]] Error select_engines(std::string_view mode, std::vector<EngineRow>& rows,
                                   std::vector<std::string>& notes);

/// The chosen rows' engines, in the rows' order.
[[nodiscard]] std::vector<EngineChoice> chosen_engines(const std::vector<EngineRow>& rows);

/// One directory the menu offers for the benchmark's workspace.
struct DirectoryRow {
  std::string label;    ///< "/dev/shm", "$TMPDIR", "typed"
  std::string path;     ///< empty for the typed row until a directory was typed
  std::string problem;  ///< why it cannot be used now ("/dev/shm: No such file or directory")
  bool typed = false;   ///< choosing this row asks for a path
};

/// /dev/shm, $TMPDIR (/tmp when it is unset, as -dir's default) and a typed one.
[[nodiscard]] std::vector<DirectoryRow> directory_rows();

/// The row for `directory`: the one with the same path, else the typed row, which then holds
/// `directory`.
[[nodiscard]] std::size_t select_directory(const std::string& directory,
                                           std::vector<DirectoryRow>& rows);

}  // namespace ccopy::cli::menu
