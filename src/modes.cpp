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

bool contains(const std::vector<EngineChoice>& engines, std::string_view label) {
  return std::any_of(engines.begin(), engines.end(),
                     [&](const EngineChoice& c) { return c.label == label; });
}

bool runs_engine(const std::vector<EngineChoice>& engines, std::string_view engine) {
  return std::any_of(engines.begin(), engines.end(),
                     [&](const EngineChoice& c) { return c.engine == engine; });
}

// Adds one name (not a list) to `engines`.
Error add_mode(std::string_view name, std::vector<EngineChoice>& engines,
               std::vector<std::string>& notes) {
  if (name == "both") {
    if (Error e = add_mode("xev", engines, notes)) return e;
    return add_mode("goroutine", engines, notes);
  }
  // `all` adds every engine not chosen yet under any name: "xev,all" runs io_uring once.
  if (name == "all") {
    for (const EngineInfo& info : engine_registry()) {
      if (runs_engine(engines, info.name)) continue;
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
  if (contains(engines, name)) return {};
  const Availability a = info->probe();
  if (!a.available) {
    if (name == "xev" && find_engine("uv") != nullptr) {
      notes.push_back(fmt::format("io_uring is not available here ({}): xev runs on the uv engine", a.reason));
      engines.push_back({std::string(name), "uv"});
      return {};
    }
    return Error::failure(fmt::format("mode '{}' cannot run here: {}", name, a.reason));
  }
  engines.push_back({std::string(name), std::string(info->name)});
  return {};
}

}  // namespace

Error check_mode_names(std::string_view spec) {
  for (std::string_view part : split(spec)) {
    if (part.empty()) return Error::failure(fmt::format("empty name in mode list '{}'", spec));
    if (part == "both" || part == "all" || find_engine(engine_of(part)) != nullptr) continue;
    return Error::failure(fmt::format("unknown mode '{}' (expected {}, or a comma-separated list)",
                                      part, known_modes()));
  }
  return {};
}

Error resolve_modes(std::string_view spec, std::vector<EngineChoice>& engines,
                    std::vector<std::string>& notes) {
  engines.clear();
  if (Error e = check_mode_names(spec)) return e;
  for (std::string_view part : split(spec))
    if (Error e = add_mode(part, engines, notes)) return e;
  if (engines.empty()) return Error::failure(fmt::format("mode '{}' leaves no engine that can run here", spec));
  return {};
}

}  // namespace ccopy
