#include "scenarios.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <numeric>
#include <optional>

#include "ccopy/size.hpp"

namespace ccopy::cli {
namespace {

std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> parts;
  for (;;) {
    const std::size_t comma = text.find(',');
    parts.push_back(text.substr(0, comma));
    if (comma == std::string_view::npos) return parts;
    text.remove_prefix(comma + 1);
  }
}

std::string valid_names() {
  std::string text = "all";
  for (const Scenario& s : original_scenarios()) text += ", " + s.name();
  return text;
}

// Checks the limits every scenario obeys, whatever flag it came from; returns the problem.
std::string check_limits(std::uint64_t files, std::uint64_t size) {
  if (files < 1 || files > kMaxFiles)
    return fmt::format("{} files is out of range (1 to {})", files, kMaxFiles);
  if (size > kMaxSize)
    return fmt::format("{} bytes is out of range (0 to {})", size, short_size(kMaxSize));
  if (size != 0 && files > std::numeric_limits<std::uint64_t>::max() / size)
    return fmt::format("{} files x {} bytes overflows", files, size);
  return {};
}

// Parses one "NxSIZE" name; on failure returns nullopt and says why in `why`.
std::optional<Scenario> parse_name(std::string_view name, std::string& why) {
  const std::size_t x = name.find_first_of("xX");
  if (x == std::string_view::npos || x == 0 || x + 1 == name.size()) {
    why = "not of the form NxSIZE";
    return std::nullopt;
  }
  const auto files = parse_count(name.substr(0, x), &why);
  if (!files) return std::nullopt;
  const auto size = parse_byte_size(name.substr(x + 1), why);
  if (!size) return std::nullopt;
  why = check_limits(*files, *size);
  if (!why.empty()) return std::nullopt;
  return Scenario{static_cast<std::size_t>(*files), *size};
}

}  // namespace

const std::vector<Scenario>& original_scenarios() {
  static const std::vector<Scenario> scenarios{
      {1000, 4 << 10}, {200, 64 << 10}, {100, 256 << 10}, {50, 1 << 20},
      {20, 5 << 20},   {10, 10 << 20},  {5, 50 << 20},
  };
  return scenarios;
}

std::string parse_scenario_list(std::string_view spec, std::vector<Scenario>& out) {
  if (spec == "all") {
    out = original_scenarios();
    return {};
  }
  std::vector<Scenario> scenarios;
  std::vector<std::string_view> names;  // as spelled, for the message about a duplicate
  for (std::string_view name : split_list(spec)) {
    if (name.empty())
      return fmt::format("-scenarios: empty name in '{}'; valid names: {}, or any NxSIZE", spec,
                         valid_names());
    if (name == "all") return "-scenarios: 'all' cannot be combined with other names";
    std::string why;
    const std::optional<Scenario> s = parse_name(name, why);
    if (!s)
      return fmt::format(
          "-scenarios: unknown scenario '{}' ({}); valid names: {}, or any NxSIZE "
          "such as 100x64K",
          name, why, valid_names());
    const auto same = [&](const Scenario& t) { return t.files == s->files && t.size == s->size; };
    if (const auto it = std::find_if(scenarios.begin(), scenarios.end(), same);
        it != scenarios.end())
      return duplicate_message("-scenarios",
                               names[static_cast<std::size_t>(it - scenarios.begin())], name,
                               "the scenario " + s->name());
    scenarios.push_back(*s);
    names.push_back(name);
  }
  out = std::move(scenarios);
  return {};
}

std::string cross_product(std::string_view files, std::string_view sizes,
                          std::vector<Scenario>& out) {
  std::vector<std::uint64_t> counts, bytes;
  std::vector<std::string_view> count_names, size_names;
  std::string why;
  for (std::string_view part : split_list(files)) {
    const auto value = parse_count(part, &why);
    if (!value) return "-files: " + why;
    if (*value < 1 || *value > kMaxFiles)
      return fmt::format("-files: {} is out of range (1 to {})", *value, kMaxFiles);
    if (const auto it = std::find(counts.begin(), counts.end(), *value); it != counts.end())
      return duplicate_message("-files", count_names[static_cast<std::size_t>(it - counts.begin())],
                               part, fmt::format("{} files", *value));
    counts.push_back(*value);
    count_names.push_back(part);
  }
  for (std::string_view part : split_list(sizes)) {
    const auto value = parse_byte_size(part, why);
    if (!value) return "-size: " + why;
    if (*value > kMaxSize)
      return fmt::format("-size: {} is out of range (0 to {})", part, short_size(kMaxSize));
    if (const auto it = std::find(bytes.begin(), bytes.end(), *value); it != bytes.end())
      return duplicate_message("-size", size_names[static_cast<std::size_t>(it - bytes.begin())],
                               part, fmt::format("{} bytes", *value));
    bytes.push_back(*value);
    size_names.push_back(part);
  }
  std::vector<Scenario> scenarios;
  for (std::uint64_t count : counts) {
    for (std::uint64_t size : bytes) {
      if (!check_limits(count, size).empty())
        return fmt::format("-files {} x -size {} overflows", count, size);
      scenarios.push_back({static_cast<std::size_t>(count), size});
    }
  }
  out = std::move(scenarios);
  return {};
}

std::string duplicate_message(std::string_view flag, std::string_view first,
                              std::string_view second, std::string_view what) {
  if (first == second) return fmt::format("{}: '{}' is listed twice", flag, first);
  return fmt::format("{}: '{}' and '{}' both name {}", flag, first, second, what);
}

std::optional<std::uint64_t> parse_byte_size(std::string_view text, std::string& why) {
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos || text.front() == '-') return parse_size(text, &why);
  std::size_t end = dot + 1;
  while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
  const std::string_view whole = text.substr(0, dot),
                         fraction = text.substr(dot + 1, end - dot - 1);
  const std::string_view unit = text.substr(end);
  std::string digits(whole);
  digits.append(fraction);
  const auto number = parse_count(digits.empty() ? std::string_view("x") : digits);
  if (!number || fraction.size() > 18) {
    why =
        fmt::format("'{}' is not a size (expected a number such as 4096, 4K, 1.5M or 1MiB)", text);
    return std::nullopt;
  }
  std::string one_unit("1");
  one_unit.append(unit);
  const auto multiplier = parse_size(one_unit);
  if (!multiplier) {
    why =
        fmt::format("unknown unit '{}' in '{}' (use K, M, G or T, binary: 1K = 1024)", unit, text);
    return std::nullopt;
  }
  // bytes = number * multiplier / 10^decimals, exactly: divided by their common factor first.
  std::uint64_t scale = 1;
  for (std::size_t i = 0; i < fraction.size(); ++i) scale *= 10;
  const std::uint64_t common = std::gcd(*multiplier, scale);
  const std::uint64_t divisor = scale / common, factor = *multiplier / common;
  if (*number % divisor != 0) {
    why = fmt::format("'{}' is {:.{}f} bytes: a size must be a whole number of bytes", text,
                      static_cast<double>(*number) * static_cast<double>(*multiplier) /
                          static_cast<double>(scale),
                      fraction.size());
    return std::nullopt;
  }
  const std::uint64_t quotient = *number / divisor;
  if (factor != 0 && quotient > std::numeric_limits<std::uint64_t>::max() / factor) {
    why = fmt::format("'{}' is too large", text);
    return std::nullopt;
  }
  return quotient * factor;
}

}  // namespace ccopy::cli
