// Scenario lists as the command line spells them: -scenarios all, -scenarios 1000x4K,50x1M,
// and the cross product of -files and -size lists.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ccopy/benchmark.hpp"

namespace ccopy::cli {

/// The most files one scenario may have.
inline constexpr std::uint64_t kMaxFiles = 10'000'000;
/// The largest file: an off_t holds it.
inline constexpr std::uint64_t kMaxSize = std::uint64_t{1} << 62;

/// Parses a byte count as the command line takes it: what parse_size() takes ("4K", "4096"),
/// and also a decimal number before the unit ("1.5M", "0.5K") when it names a whole number of
/// bytes. Otherwise nullopt, and `why` says what is wrong ("'1.3K' is 1331.2 bytes: a size must
/// be a whole number of bytes").
[[nodiscard]] std::optional<std::uint64_t> parse_byte_size(std::string_view text, std::string& why);

/// The one rule for a list that names one thing twice, whatever the flag: it is refused, and the
/// message names both spellings: "-size: '4K' and '4096' both name 4096 bytes", or "-files: '10'
/// is listed twice" when they are spelled alike. `what` is what both name ("4096 bytes").
[[nodiscard]] std::string duplicate_message(std::string_view flag, std::string_view first,
                                            std::string_view second, std::string_view what);

/// The Go original's seven scenarios, in its order: 1000x4K, 200x64K, 100x256K, 50x1M, 20x5M,
/// 10x10M, 5x50M.
[[nodiscard]] const std::vector<Scenario>& original_scenarios();

/// Parses a -scenarios value: "all" (the original's seven), or a comma-separated list of
/// names in Scenario::name()'s form, "NxSIZE" ("1000x4K", "3x10KiB", "2X4096"). Returns an
/// empty string and fills `out` on success; otherwise a one-line message naming the bad entry
/// and listing the valid names, or naming both spellings of a scenario listed twice, and `out`
/// is left unchanged.
[[nodiscard]] std::string parse_scenario_list(std::string_view spec, std::vector<Scenario>& out);

/// The cross product of -files and -size lists ("100,1000" and "4K,64K"), files varying
/// slowest. Returns an empty string on success, otherwise a one-line message naming the flag
/// (a value listed twice, in any spelling, is refused by duplicate_message()).
[[nodiscard]] std::string cross_product(std::string_view files, std::string_view sizes,
                                        std::vector<Scenario>& out);

}  // namespace ccopy::cli
