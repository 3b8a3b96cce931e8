// Results and settings built by hand for the menu's tests: no engine runs and no terminal.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ccopy/benchmark.hpp"
#include "menu_model.hpp"

namespace ccopy::cli::menu::testing {

/// An engine's result with one timed run per entry of `wall_ns`.
inline EngineResult engine_with(const std::string& label, std::vector<std::int64_t> wall_ns) {
  EngineResult e;
  e.choice = {label, label == "xev" ? "uring" : "threads"};
  e.description = "test engine";
  e.verified = true;
  unsigned round = 0;
  for (std::int64_t ns : wall_ns) {
    RunSample run;
    run.wall_ns = ns;
    run.round = round++;
    run.file_latencies_ns = {ns / 2};
    e.runs.push_back(run);
  }
  return e;
}

inline ScenarioResult scenario_of(Scenario scenario, std::vector<EngineResult> engines) {
  ScenarioResult s;
  s.scenario = scenario;
  s.engines = std::move(engines);
  return s;
}

/// A finished run in `directory` with `runs` timed runs per engine.
inline BenchmarkResult run_of(std::vector<ScenarioResult> scenarios, unsigned runs,
                              const std::string& directory = "/dev/shm") {
  BenchmarkResult r;
  r.config.runs = runs;
  r.config.warmup = 0;
  r.config.directory = directory;
  r.context.directory = directory;
  r.context.filesystem = "tmpfs";
  for (const ScenarioResult& s : scenarios) {
    r.config.scenarios.push_back(s.scenario);
    for (const EngineResult& e : s.engines) {
      const auto same = [&](const EngineChoice& c) { return c.label == e.choice.label; };
      if (std::none_of(r.config.engines.begin(), r.config.engines.end(), same))
        r.config.engines.push_back(e.choice);
    }
  }
  r.scenarios = std::move(scenarios);
  return r;
}

inline EngineRow engine_row(const std::string& label, const std::string& engine, bool available,
                            bool selected) {
  EngineRow row;
  row.choice = {label, engine};
  row.summary = label + " summary";
  row.availability = {available, available ? "" : "not on this machine"};
  row.selected = selected;
  return row;
}

/// Settings with three engines (xev and goroutine chosen, uv unavailable) and three
/// directories: `directory` (chosen), one that does not exist, and the typed one.
inline MenuSettings test_settings(const std::string& directory) {
  MenuSettings s;
  s.base.runs = 3;
  s.base.warmup = 1;
  s.base.mode = "both";
  s.engines = {engine_row("xev", "uring", true, true),
               engine_row("goroutine", "threads", true, true),
               engine_row("uv", "uv", false, false)};
  s.directories = {{"scratch", directory, {}, false},
                   {"missing", "/nonexistent-ccopy-dir",
                    "/nonexistent-ccopy-dir: No such file or directory", false},
                   {"typed", {}, {}, true}};
  s.directory = 0;
  return s;
}

inline KeyPress key(Key k) { return {k, 0}; }
inline KeyPress ch(char c) { return {Key::character, c}; }

/// Presses every character of `text`.
inline void type(MenuModel& model, const std::string& text) {
  for (char c : text) (void)model.press(ch(c));
}

}  // namespace ccopy::cli::menu::testing
