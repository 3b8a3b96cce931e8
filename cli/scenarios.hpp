// Scenario lists as the command line spells them: -scenarios all, -scenarios 1000x4K,50x1M,
// and the cross product of -files and -size lists.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ccopy/benchmark.hpp"

namespace ccopy::cli {

/// The most files one scenario may have.
inline constexpr std::uint64_t kMaxFiles = 10'000'000;
/// The largest file: an off_t holds it.
inline constexpr std::uint64_t kMaxSize = std::uint64_t{1} << 62;

/// The Go original's seven scenarios, in its order: 1000x4K, 200x64K, 100x256K, 50x1M, 20x5M,
/// 10x10M, 5x50M.
[[nodiscard]] const std::vector<Scenario>& original_scenarios();

/// Parses a -scenarios value: "all" (the original's seven), or a comma-separated list of
/// names in Scenario::name()'s form, "NxSIZE" ("1000x4K", "3x10KiB", "2X4096"). Returns an
/// empty string and fills `out` on success; otherwise a one-line message naming the bad entry
/// and listing the valid names, and `out` is left unchanged.
[[nodiscard]] std::string parse_scenario_list(std::string_view spec, std::vector<Scenario>& out);

/// The cross product of -files and -size lists ("100,1000" and "4K,64K"), files varying
/// slowest. Returns an empty string on success, otherwise a one-line message naming the flag.
[[nodiscard]] std::string cross_product(std::string_view files, std::string_view sizes,
                                        std::vector<Scenario>& out);

}  // namespace ccopy::cli
