// The flags of `concurrent_copy menu`: -runs, -warmup, -dir and -mode set the menu's defaults,
// in both spellings, parsed and checked by the benchmark's own parser.
#pragma once

#include <string>
#include <vector>

#include "ccopy/benchmark.hpp"
#include "options.hpp"

namespace ccopy::cli::menu {

/// Parses the arguments after `menu` into `out`, which then holds the benchmark's defaults for
/// everything the flags do not set (no scenarios: the menu chooses them). Help (-h, -help,
/// --help) gives its text to print; a flag the benchmark has but the menu does not take, or an
/// argument that is not a flag, is a usage error naming it. Never throws, never prints.
[[nodiscard]] ParseResult parse_menu_command_line(const std::vector<std::string>& args,
                                                  BenchmarkConfig& out);

}  // namespace ccopy::cli::menu
