// The SVG writer on made-up results: what it labels, when it switches to a log scale, and how
// it shows an engine without timings. Rendering is checked on a real sweep in tests/cli.
#include <gtest/gtest.h>

#include <sstream>

#include "ccopy/report.hpp"

namespace ccopy {
namespace {

EngineResult engine(const std::string& label, std::vector<std::int64_t> wall_ns) {
  EngineResult e;
  e.choice = {label, label};
  for (std::int64_t ns : wall_ns) {
    RunSample run;
    run.wall_ns = ns;
    e.runs.push_back(run);
  }
  e.verified = true;
  return e;
}

// Two engines over the scenarios given; `slow` divides the second engine's speed.
BenchmarkResult results(const std::vector<Scenario>& scenarios, double slow) {
  BenchmarkResult r;
  r.config.engines = {{"xev", "uring"}, {"goroutine", "threads"}};
  r.config.scenarios = scenarios;
  r.config.runs = 3;
  r.context.cpus = 2;
  r.context.kernel = "Linux 6.1.0";
  r.context.cpu_model = "Test CPU";
  r.context.directory = "/dev/shm";
  r.context.filesystem = "tmpfs";
  for (const Scenario& s : scenarios) {
    ScenarioResult& out = r.scenarios.emplace_back();
    out.scenario = s;
    // One second per MiB, whatever the scenario: every median is 1 MiB/s for xev.
    const auto ns =
        static_cast<std::int64_t>(static_cast<double>(s.total_bytes()) / 1048576.0 * 1e9);
    out.engines.push_back(engine("xev", {ns, ns * 11 / 10, ns * 9 / 10}));
    const auto slower = static_cast<std::int64_t>(static_cast<double>(ns) * slow);
    out.engines.push_back(engine("goroutine", {slower, slower, slower}));
  }
  return r;
}

std::string svg_of(const BenchmarkResult& r) {
  const auto writer = make_writer("svg");
  EXPECT_NE(writer, nullptr);
  EXPECT_EQ(writer->format(), "svg");
  std::ostringstream out;
  writer->write(r, out);
  return out.str();
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Svg, LabelsEveryScenarioAndEngineAndTheMachine) {
  const std::string svg = svg_of(results({{1000, 4096}, {50, 1 << 20}}, 2));
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  for (const char* text : {">1000x4K<", ">50x1M<", ">xev<", ">goroutine<", "2 CPUs (Test CPU)",
                           "Linux 6.1.0", "/dev/shm (tmpfs)", "font-family=\"sans-serif\""})
    EXPECT_NE(svg.find(text), std::string::npos) << text;
  EXPECT_EQ(count(svg, "<rect x="), 1u + 2u + 4u) << "the background, two legend keys, four bars";
  EXPECT_EQ(count(svg, "<path d="), 4u) << "a whisker per bar";
}

TEST(Svg, LinearScaleWithinAFactorOfTen) {
  const std::string svg = svg_of(results({{10, 1 << 20}}, 9));
  EXPECT_EQ(svg.find("log scale"), std::string::npos);
  EXPECT_NE(svg.find(">0</text>"), std::string::npos) << "a linear axis starts at zero";
}

TEST(Svg, LogScaleBeyondAFactorOfTen) {
  const std::string svg = svg_of(results({{10, 1 << 20}}, 20));
  EXPECT_NE(svg.find("Throughput, MiB/s (log scale)"), std::string::npos);
  // The slowest run is at 0.05 MiB/s and the fastest at 1.11: the axis runs from 0.05 to 2,
  // labelled at 1, 2 and 5 times each power of ten, since it spans at most three decades.
  for (const char* tick :
       {">0.05</text>", ">0.1</text>", ">0.2</text>", ">0.5</text>", ">1</text>", ">2</text>"})
    EXPECT_NE(svg.find(tick), std::string::npos) << tick;
  EXPECT_EQ(svg.find(">0.01</text>"), std::string::npos);
  EXPECT_EQ(svg.find(">5</text>"), std::string::npos);
}

TEST(Svg, OnlyDecadesWhenTheValuesSpanManyOfThem) {
  const std::string svg = svg_of(results({{10, 1 << 20}}, 2000));
  for (const char* tick :
       {">0.0002</text>", ">0.001</text>", ">0.01</text>", ">0.1</text>", ">1</text>", ">2</text>"})
    EXPECT_NE(svg.find(tick), std::string::npos) << tick;
  EXPECT_EQ(svg.find(">0.0005</text>"), std::string::npos);
  EXPECT_EQ(svg.find(">0.5</text>"), std::string::npos);
}

TEST(Svg, LongScenarioNamesAreSlantedInsteadOfOverlapping) {
  std::vector<Scenario> many;
  for (std::size_t i = 0; i < 16; ++i) many.push_back({9'000'000 + i, 1'000'001});
  const std::string svg = svg_of(results(many, 2));
  EXPECT_EQ(count(svg, "transform=\"rotate(-40 "), 16u);
  const std::string svg_short = svg_of(results({{10, 4096}, {20, 4096}}, 2));
  EXPECT_EQ(svg_short.find("rotate(-40 "), std::string::npos);
}

TEST(Svg, AFailedEngineIsMarkedInsteadOfDrawn) {
  BenchmarkResult r = results({{10, 4096}, {20, 4096}}, 2);
  r.scenarios[1].engines[1].runs.clear();
  r.scenarios[1].engines[1].error = Error::failure("boom");
  const std::string svg = svg_of(r);
  EXPECT_EQ(count(svg, "<path d="), 3u);
  EXPECT_NE(svg.find(">failed</text>"), std::string::npos);
}

TEST(Svg, EscapesText) {
  BenchmarkResult r = results({{10, 4096}}, 2);
  r.context.cpu_model = "A<B>&\"C\"";
  const std::string svg = svg_of(r);
  EXPECT_NE(svg.find("A&lt;B&gt;&amp;&quot;C&quot;"), std::string::npos);
  EXPECT_EQ(svg.find("A<B>"), std::string::npos);
}

TEST(Svg, NoTimingsStillMakesAChart) {
  BenchmarkResult r = results({{10, 4096}}, 2);
  for (EngineResult& e : r.scenarios[0].engines) e.runs.clear();
  const std::string svg = svg_of(r);
  EXPECT_NE(svg.find("no timed runs to show"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

}  // namespace
}  // namespace ccopy
