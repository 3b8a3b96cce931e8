// -mode: from what the user typed to the engines that run.
#include <fmt/format.h>

#include <algorithm>

#include "ccopy/benchmark.hpp"

namespace ccopy {
namespace {

// The original's names for its two designs, and the engines that implement them here.
struct Alias {
  std::string_view name;
  std::string_view engine;
};
constexpr Alias kAliases[] = {{"xev", "uring"}, {"goroutine", "threads"}};

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma - start));
    if (comma == std::string_view::npos) return parts;
    start = comma + 1;
  }
}

std::string known_modes() {
  std::string names = "xev, goroutine, both, all";
  for (const EngineInfo& info : engine_registry()) names += fmt::format(", {}", info.name);
  return names;
}

std::string_view engine_of(std::string_view name) {
  for (const Alias& alias : kAliases)
    if (alias.name == name) return alias.engine;
  return name;
}

bool runs_engine(const std::vector<EngineChoice>& engines, std::string_view engine) {
  return std::any_of(engines.begin(), engines.end(),
                     [&](const EngineChoice& c) { return c.engine == engine; });
}

// The registry engines a name in a -mode list stands for, before probing: "both" two, an
// engine or an alias one; "all" none, since it takes whatever the others leave.
std::vector<std::string_view> named_engines(std::string_view name) {
  if (name == "both") return {engine_of("xev"), engine_of("goroutine")};
  if (name == "all") return {};
  return {engine_of(name)};
}

// Whether a name of `spec` other than "all" stands for `engine`: "all" leaves it to that name,
// wherever in the list it is ("all,xev" runs io_uring once, as xev).
bool named_elsewhere(std::string_view spec, std::string_view engine) {
  for (std::string_view part : split(spec))
    for (std::string_view named : named_engines(part))
      if (named == engine) return true;
  return false;
}

// Adds one name (not a list) to `engines`.
Error add_mode(std::string_view spec, std::string_view name, std::vector<EngineChoice>& engines,
               std::vector<std::string>& notes) {
  if (name == "both") {
    if (Error e = add_mode(spec, "xev", engines, notes)) return e;
    return add_mode(spec, "goroutine", engines, notes);
  }
  if (name == "all") {
    for (const EngineInfo& info : engine_registry()) {
      if (runs_engine(engines, info.name) || named_elsewhere(spec, info.name)) continue;
      const Availability a = info.probe();
      if (!a.available) {
        notes.push_back(fmt::format("skipping {}: {}", info.name, a.reason));
        continue;
      }
      engines.push_back({std::string(info.name), std::string(info.name)});
    }
    return {};
  }
  const EngineInfo* info = find_engine(engine_of(name));
  if (info == nullptr) return Error::failure(fmt::format("unknown mode '{}'", name));
  const Availability a = info->probe();
  if (!a.available) {
    if (name == "xev" && find_engine("uv") != nullptr) {
      if (runs_engine(engines, "uv") || named_elsewhere(spec, "uv")) {
        notes.push_back(
            fmt::format("skipping xev: io_uring is not available here ({}), and uv, "
                        "which would stand in for it, runs under its own name",
                        a.reason));
        return {};
      }
      notes.push_back(fmt::format("io_uring is not available here ({}): xev runs on the uv engine", a.reason));
      engines.push_back({std::string(name), "uv"});
      return {};
    }
    return Error::failure(fmt::format("mode '{}' cannot run here: {}", name, a.reason));
  }
  engines.push_back({std::string(name), std::string(info->name)});
  return {};
}

// The one rule for a list that names one thing twice: refused, naming both spellings.
Error duplicate(std::string_view first, std::string_view second, std::string_view engine) {
  if (first == second) return Error::failure(fmt::format("'{}' is listed twice", first));
  return Error::failure(
      fmt::format("'{}' and '{}' both name the {} engine", first, second, engine));
}

}  // namespace

Error check_mode_names(std::string_view spec) {
  std::vector<std::pair<std::string_view, std::string_view>> seen;  // engine, the name for it
  bool all_seen = false;
  for (std::string_view part : split(spec)) {
    if (part.empty()) return Error::failure(fmt::format("empty name in mode list '{}'", spec));
    if (part != "both" && part != "all" && find_engine(engine_of(part)) == nullptr)
      return Error::failure(fmt::format(
          "unknown mode '{}' (expected {}, or a comma-separated list)", part, known_modes()));
    if (part == "all" && all_seen) return duplicate(part, part, "");
    all_seen = all_seen || part == "all";
    for (std::string_view engine : named_engines(part)) {
      for (const auto& [other_engine, other_name] : seen)
        if (other_engine == engine) return duplicate(other_name, part, engine);
      seen.emplace_back(engine, part);
    }
  }
  return {};
}

Error resolve_modes(std::string_view spec, std::vector<EngineChoice>& engines,
                    std::vector<std::string>& notes) {
  engines.clear();
  if (Error e = check_mode_names(spec)) return e;
  for (std::string_view part : split(spec))
    if (Error e = add_mode(spec, part, engines, notes)) return e;
  if (engines.empty()) return Error::failure(fmt::format("mode '{}' leaves no engine that can run here", spec));
  return {};
}

}  // namespace ccopy
