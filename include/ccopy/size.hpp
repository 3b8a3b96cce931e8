// Byte sizes as people write them ("4K", "64KiB", "1M") and as the output shows them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ccopy {

/// Parses a byte count: a whole number, optionally followed by a binary unit
/// (K, KB, KiB, M, MB, MiB, G, GB, GiB, T, TB, TiB; any case; K = 1024). On failure returns
/// nullopt and, when `why` is given, says what is wrong ("unknown unit 'Q'").
[[nodiscard]] std::optional<std::uint64_t> parse_size(std::string_view text,
                                                      std::string* why = nullptr);

/// A whole number with no unit: "16", not "-1", "1.5" or "2K".
[[nodiscard]] std::optional<std::uint64_t> parse_count(std::string_view text,
                                                       std::string* why = nullptr);

/// "1.0 MiB", "512 B", "3.5 GiB": one decimal for every unit above bytes.
[[nodiscard]] std::string format_bytes(std::uint64_t bytes);

/// The shortest exact spelling of a size with a binary unit: 4096 -> "4K", 1048576 -> "1M",
/// 1000 -> "1000". Used to name scenarios ("50x1M").
[[nodiscard]] std::string short_size(std::uint64_t bytes);

/// "14.2 ms", "850 us", "2.31 s": a duration in nanoseconds, three significant digits.
[[nodiscard]] std::string format_duration(double nanoseconds);

}  // namespace ccopy
