#include "menu_results.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "ccopy/report.hpp"
#include "ccopy/size.hpp"

namespace ccopy::cli::menu {
namespace {

std::string conditions(const BenchmarkResult& run) {
  const BenchmarkConfig& c = run.config;
  return fmt::format("in {} ({}): median of {} run{} after {} warm-up{}", c.directory,
                     run.context.filesystem, c.runs, c.runs == 1 ? "" : "s", c.warmup,
                     c.warmup == 1 ? "" : "s");
}

// "1.42x, beyond noise": how far the winner is ahead of the runner-up, and whether their
// ranges of runs keep apart (compare() needs two runs of each to tell).
std::string verdict(const EngineResult& winner, const EngineResult& runner_up) {
  const Comparison c = compare(winner, runner_up);
  const bool measurable = winner.runs.size() >= 2 && runner_up.runs.size() >= 2;
  return fmt::format("{:.2f}x, {}", c.ratio,
                     !measurable      ? "too few runs"
                     : c.beyond_noise ? "beyond noise"
                                      : "within noise");
}

void add_scenario(const ScenarioResult& s, std::vector<ResultLine>& lines) {
  const std::vector<const EngineResult*> order = ranked(s);
  const double fastest = order.empty() ? 0 : median_mib_per_second(s.scenario, *order.front());
  const std::size_t first = lines.size();
  for (std::size_t i = 0; i < order.size(); ++i) {
    ResultLine line;
    line.engine = order[i]->choice.label;
    line.winner = i == 0 && order.size() >= 2;
    line.time = format_duration(order[i]->wall_seconds().median * 1e9);
    const double rate = median_mib_per_second(s.scenario, *order[i]);
    line.rate = fmt::format("{:.1f}", rate);
    line.fraction = fastest > 0 ? rate / fastest : 0;
    if (line.winner) line.verdict = verdict(*order[0], *order[1]);
    lines.push_back(std::move(line));
  }
  for (const EngineResult& e : s.engines) {
    if (!e.error) continue;
    ResultLine line;
    line.kind = ResultLine::Kind::failure;
    line.engine = e.choice.label;
    line.text = "failed: " + e.error.message();
    lines.push_back(std::move(line));
  }
  if (lines.size() > first) lines[first].scenario = s.scenario.name();
}

}  // namespace

std::vector<ResultLine> result_lines(std::span<const BenchmarkResult> runs) {
  std::vector<ResultLine> lines;
  std::string shown_conditions;
  for (const BenchmarkResult& run : runs) {
    if (run.scenarios.empty()) continue;
    if (std::string now = conditions(run); now != shown_conditions) {
      lines.push_back({ResultLine::Kind::conditions, {}, {}, false, {}, {}, 0, {}, now});
      shown_conditions = std::move(now);
    }
    for (const ScenarioResult& s : run.scenarios) add_scenario(s, lines);
  }
  return lines;
}

// The runner's overlap warnings name their scenario first ("50x1M: the runs of ..."); those of
// a dropped scenario go with it.
void drop_unfinished_scenarios(BenchmarkResult& result) {
  const unsigned runs = result.config.runs;
  const auto unfinished = [runs](const ScenarioResult& s) {
    return std::any_of(s.engines.begin(), s.engines.end(),
                       [runs](const EngineResult& e) { return !e.error && e.runs.size() < runs; });
  };
  for (const ScenarioResult& s : result.scenarios) {
    if (!unfinished(s)) continue;
    const std::string prefix = s.scenario.name() + ": ";
    std::erase_if(result.warnings, [&](const std::string& w) { return w.starts_with(prefix); });
  }
  std::erase_if(result.scenarios, unfinished);
}

}  // namespace ccopy::cli::menu
