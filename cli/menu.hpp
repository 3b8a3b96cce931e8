// `concurrent_copy menu`: the interactive menu in the terminal.
#pragma once

#include <string>
#include <vector>

namespace ccopy::cli::menu {

/// Runs the menu with the arguments after `menu` and returns the exit code: 0 when the user
/// quits, 2 for bad flags or without a terminal on stdin and stdout, 1 when the -mode asked for
/// cannot run here, 128 + the signal for SIGINT, SIGTERM or SIGHUP sent from outside (a run
/// that goes is cancelled and its files removed first). Must be called before any other
/// thread exists: it blocks those signals in every thread and takes them from a signalfd.
[[nodiscard]] int run_menu(const std::vector<std::string>& args);

}  // namespace ccopy::cli::menu
