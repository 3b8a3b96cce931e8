#include "ccopy/size.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <limits>

namespace ccopy {
namespace {

struct Unit {
  std::string_view names[3];
  unsigned shift;
};

constexpr std::array<Unit, 5> kUnits{{
    {{"b", "", ""}, 0},
    {{"k", "kb", "kib"}, 10},
    {{"m", "mb", "mib"}, 20},
    {{"g", "gb", "gib"}, 30},
    {{"t", "tb", "tib"}, 40},
}};

void say(std::string* why, std::string text) {
  if (why != nullptr) *why = std::move(text);
}

// Parses the leading digits of `text` into `value`; returns how many characters it used.
std::size_t parse_digits(std::string_view text, std::uint64_t& value, bool& overflow) {
  std::size_t i = 0;
  value = 0;
  overflow = false;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) overflow = true;
    value = value * 10 + digit;
  }
  return i;
}

}  // namespace

std::optional<std::uint64_t> parse_count(std::string_view text, std::string* why) {
  if (text.empty()) return say(why, "empty value, expected a whole number"), std::nullopt;
  if (text.front() == '-') return say(why, fmt::format("'{}' is negative", text)), std::nullopt;
  std::uint64_t value = 0;
  bool overflow = false;
  const std::size_t used = parse_digits(text, value, overflow);
  if (used == 0 || used != text.size())
    return say(why, fmt::format("'{}' is not a whole number", text)), std::nullopt;
  if (overflow) return say(why, fmt::format("'{}' is too large", text)), std::nullopt;
  return value;
}

std::optional<std::uint64_t> parse_size(std::string_view text, std::string* why) {
  if (text.empty()) return say(why, "empty value, expected a size such as 4K or 1M"), std::nullopt;
  if (text.front() == '-') return say(why, fmt::format("'{}' is negative", text)), std::nullopt;
  std::uint64_t value = 0;
  bool overflow = false;
  const std::size_t used = parse_digits(text, value, overflow);
  if (used == 0)
    return say(why, fmt::format("'{}' is not a size (expected a number such as 4096, 4K or 1MiB)",
                                text)),
           std::nullopt;
  if (overflow) return say(why, fmt::format("'{}' is too large", text)), std::nullopt;
  std::string unit;
  for (char c : text.substr(used)) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const Unit& candidate : kUnits) {
    for (std::string_view name : candidate.names) {
      if (unit != name || (name.empty() && candidate.shift != 0)) continue;
      if (candidate.shift > 0 && value > (std::numeric_limits<std::uint64_t>::max() >> candidate.shift))
        return say(why, fmt::format("'{}' is too large", text)), std::nullopt;
      return value << candidate.shift;
    }
  }
  return say(why, fmt::format("unknown unit '{}' in '{}' (use K, M, G or T, binary: 1K = 1024)",
                              text.substr(used), text)),
         std::nullopt;
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  constexpr std::array<const char*, 5> names{"KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < names.size()) {
    value /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, names[unit]);
}

std::string short_size(std::uint64_t bytes) {
  constexpr std::array<std::pair<unsigned, const char*>, 4> units{
      {{40, "T"}, {30, "G"}, {20, "M"}, {10, "K"}}};
  for (const auto& [shift, name] : units) {
    const std::uint64_t unit = std::uint64_t{1} << shift;
    if (bytes >= unit && bytes % unit == 0) return fmt::format("{}{}", bytes / unit, name);
  }
  return fmt::format("{}", bytes);
}

std::string format_duration(double ns) {
  struct Scale {
    double factor;
    const char* name;
  };
  constexpr std::array<Scale, 4> scales{{{1e9, "s"}, {1e6, "ms"}, {1e3, "us"}, {1, "ns"}}};
  for (const Scale& scale : scales) {
    if (ns >= scale.factor || scale.factor == 1) {
      const double value = ns / scale.factor;
      const int decimals = value >= 100 ? 0 : value >= 10 ? 1 : 2;
      return fmt::format("{:.{}f} {}", value, decimals, scale.name);
    }
  }
  return "0 ns";
}

}  // namespace ccopy
