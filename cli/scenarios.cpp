#include "scenarios.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
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
  const auto size = parse_size(name.substr(x + 1), &why);
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
    if (std::any_of(scenarios.begin(), scenarios.end(), same))
      return fmt::format("-scenarios: '{}' is listed twice", name);
    scenarios.push_back(*s);
  }
  out = std::move(scenarios);
  return {};
}

std::string cross_product(std::string_view files, std::string_view sizes,
                          std::vector<Scenario>& out) {
  std::vector<std::uint64_t> counts, bytes;
  std::string why;
  for (std::string_view part : split_list(files)) {
    const auto value = parse_count(part, &why);
    if (!value) return "-files: " + why;
    if (*value < 1 || *value > kMaxFiles)
      return fmt::format("-files: {} is out of range (1 to {})", *value, kMaxFiles);
    counts.push_back(*value);
  }
  for (std::string_view part : split_list(sizes)) {
    const auto value = parse_size(part, &why);
    if (!value) return "-size: " + why;
    if (*value > kMaxSize)
      return fmt::format("-size: {} is out of range (0 to {})", part, short_size(kMaxSize));
    bytes.push_back(*value);
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

}  // namespace ccopy::cli
