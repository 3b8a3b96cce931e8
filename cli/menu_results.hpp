// The menu's results table: what each finished run adds to it, before it is laid out on the
// screen. The figures are the writers' own (ranked(), compare(), median_mib_per_second()).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "ccopy/benchmark.hpp"

namespace ccopy::cli::menu {

/// One line of the table.
struct ResultLine {
  enum class Kind : std::uint8_t {
    conditions,  ///< where and how the runs below were measured: `text`
    engine,      ///< one engine's figures in one scenario
    failure,     ///< an engine that failed: `text` says why
  } kind = Kind::engine;
  std::string scenario;  ///< the scenario's name, on its first line only
  std::string engine;    ///< the engine's label
  bool winner = false;   ///< the fastest of two or more engines
  std::string time;      ///< the median wall time: "12.3 ms"
  std::string rate;      ///< the median throughput in MiB/s: "317.5"
  double fraction = 0;   ///< the bar: this engine's throughput over the scenario's fastest
  std::string verdict;   ///< on the winner's line: "1.42x, beyond noise"
  std::string text;
};

/// The table's lines for every run shown, oldest first: a conditions line whenever the
/// directory or the number of runs changes, then, per scenario, its engines fastest first
/// and those that failed last.
[[nodiscard]] std::vector<ResultLine> result_lines(std::span<const BenchmarkResult> runs);

/// Removes the scenarios a cancelled run left unfinished (an engine with fewer timed runs than
/// asked and no error), so that the table and the exports hold complete measurements only.
void drop_unfinished_scenarios(BenchmarkResult& result);

}  // namespace ccopy::cli::menu
