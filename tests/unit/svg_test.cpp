// The SVG writer on made-up results: what it labels, when it switches to a log scale, and how
// it shows an engine without timings. Rendering is checked on a real sweep in tests/cli.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <regex>
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
  for (const char* text : {">1000x4K<", ">50x1M<", ">xev<", ">goroutine<", "CPUs: 2 (Test CPU)",
                           "Linux 6.1.0", "/dev/shm (tmpfs)", "font-family=\"sans-serif\""})
    EXPECT_NE(svg.find(text), std::string::npos) << text;
  EXPECT_EQ(count(svg, "<rect x="), 1u + 2u + 4u) << "the background, two legend keys, four bars";
  EXPECT_EQ(count(svg, "<path d="), 4u) << "a whisker per bar";
}

// The heights of the filled bars (not the background or the legend keys), in document order.
std::vector<double> bar_heights(const std::string& svg) {
  std::vector<double> heights;
  const std::regex bar(
      "<rect x=\"[0-9.]+\" y=\"[0-9.]+\" width=\"[0-9.]+\" height=\"([0-9.]+)\" "
      "fill=\"#[0-9a-f]{6}\"><title>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), bar); it != std::sregex_iterator();
       ++it)
    heights.push_back(std::stod((*it)[1].str()));
  return heights;
}

// A linear axis from zero keeps heights proportional to speed: 20x is drawn as 20x, not as the
// 4x a log axis from an arbitrary floor made it look.
TEST(Svg, TheAxisIsLinearFromZeroWhateverTheSpread) {
  for (const double slow : {2.0, 20.0, 2000.0}) {
    const std::string svg = svg_of(results({{10, 1 << 20}}, slow));
    EXPECT_EQ(svg.find("log"), std::string::npos) << slow;
    EXPECT_NE(svg.find(">0</text>"), std::string::npos) << "a linear axis starts at zero";
    EXPECT_NE(svg.find("linear axis from 0"), std::string::npos) << "the caption says so";
    const std::vector<double> heights = bar_heights(svg);
    ASSERT_EQ(heights.size(), 2u) << svg;
    // The medians are 1 and 1/slow MiB/s; heights are printed to a tenth of a pixel.
    EXPECT_NEAR(heights[1], heights[0] / slow, 0.06) << slow;
  }
}

TEST(Svg, TicksAreRoundNumbersUpToTheFastestRun) {
  // The fastest run is at 1/0.9 = 1.11 MiB/s: ticks every 0.25 up to 1.25.
  const std::string svg = svg_of(results({{10, 1 << 20}}, 2));
  for (const char* tick :
       {">0</text>", ">0.25</text>", ">0.5</text>", ">0.75</text>", ">1</text>", ">1.25</text>"})
    EXPECT_NE(svg.find(tick), std::string::npos) << tick;
  EXPECT_EQ(svg.find(">1.5</text>"), std::string::npos);
}

TEST(Svg, LongScenarioNamesAreSlantedInsteadOfOverlapping) {
  std::vector<Scenario> many;
  for (std::size_t i = 0; i < 16; ++i) many.push_back({9'000'000 + i, 1'000'001});
  const std::string svg = svg_of(results(many, 2));
  EXPECT_EQ(count(svg, "transform=\"rotate(-40 "), 16u);
  const std::string svg_short = svg_of(results({{10, 4096}, {20, 4096}}, 2));
  EXPECT_EQ(svg_short.find("rotate(-40 "), std::string::npos);
}

// Whether `svg` is well-formed XML, as xmllint (libxml2-utils) reads it; the reason otherwise.
// Skips the calling test when xmllint is not installed.
std::string xml_problem(const std::string& svg) {
  std::string path = std::string(CCOPY_TEST_DIR) + "/ccopy-svg.XXXXXX";
  const int fd = ::mkstemp(path.data());
  if (fd < 0) return "mkstemp failed";
  const bool written = ::write(fd, svg.data(), svg.size()) == static_cast<ssize_t>(svg.size());
  ::close(fd);
  const std::string command = "xmllint --noout '" + path + "' 2>&1";
  std::string output;
  if (std::FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
    const int status = ::pclose(pipe);
    if (status != 0 && output.empty()) output = "xmllint failed";
  }
  ::unlink(path.c_str());
  return written ? output : "short write";
}

bool have_xmllint() { return std::system("command -v xmllint >/dev/null 2>&1") == 0; }

TEST(Svg, AnEngineWithoutTimingsThatFailedIsMarkedInsteadOfDrawn) {
  BenchmarkResult r = results({{10, 4096}, {20, 4096}}, 2);
  r.scenarios[1].engines[1].runs.clear();
  r.scenarios[1].engines[1].error = Error::failure("boom");
  const std::string svg = svg_of(r);
  EXPECT_EQ(count(svg, "<path d="), 3u);
  EXPECT_NE(svg.find(">failed</text>"), std::string::npos);
}

// An engine that failed after some timed runs is no normal bar: a dashed outline without a
// whisker, labelled "failed", and the caption says what the outline means.
TEST(Svg, AnEngineThatFailedAfterSomeRunsIsAnOutlineMarkedFailed) {
  BenchmarkResult r = results({{10, 4096}}, 2);
  r.scenarios[0].engines[1].error =
      Error::failure("write /x/dst/file_000003: No space left on device");
  const std::string svg = svg_of(r);
  EXPECT_EQ(count(svg, "<path d="), 1u) << "a whisker only for the engine that did not fail";
  EXPECT_EQ(count(svg, "fill=\"none\" stroke=\"#f28e2b\" stroke-width=\"1.5\" stroke-dasharray="),
            1u)
      << svg;
  EXPECT_NE(svg.find("goroutine 10x4K: FAILED (write /x/dst/file_000003: No space left on device)"),
            std::string::npos);
  EXPECT_NE(svg.find(">failed</text>"), std::string::npos);
  EXPECT_NE(svg.find("Dashed outline: an engine that failed"), std::string::npos);
  EXPECT_EQ(bar_heights(svg).size(), 1u) << "one filled bar";
}

// The caption counts the runs that were timed, not the runs asked for.
TEST(Svg, TheCaptionSaysHowManyRunsWereTimed) {
  BenchmarkResult r = results({{10, 4096}}, 2);
  r.config.runs = 400;
  EXPECT_NE(svg_of(r).find("Bars: medians of 3 timed runs per engine;"), std::string::npos);
  r.scenarios[0].engines[1].runs.pop_back();
  EXPECT_NE(svg_of(r).find("Bars: medians of 2 to 3 timed runs per engine;"), std::string::npos);
}

// Paths need not be UTF-8 and text may hold control characters: the chart stays valid XML,
// with U+FFFD in place of what XML cannot hold, even where a long line is shortened.
TEST(Svg, TextThatIsNotUtf8StillMakesValidXml) {
  BenchmarkResult r = results({{10, 4096}}, 2);
  r.context.directory =
      "/tmp/caf\xe9/\xff\xfe\x01"
      "dir";                                             // Latin-1, stray bytes, a control
  r.context.cpu_model = std::string(300, 'x') + "\xc3";  // a cut sequence at the very end
  r.scenarios[0].engines[1].error = Error::failure("open /tmp/caf\xe9/src: No such file");
  r.config.engines[0].label = "x\xe2\x82";  // a truncated three-byte sequence
  r.scenarios[0].engines[0].choice.label = "x\xe2\x82";
  const std::string svg = svg_of(r);
  EXPECT_NE(svg.find("/tmp/caf\xef\xbf\xbd/\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                     "dir"),
            std::string::npos);
  EXPECT_EQ(svg.find("\xe9"), std::string::npos);
  if (!have_xmllint()) GTEST_SKIP() << "xmllint (libxml2-utils) is not installed";
  EXPECT_EQ(xml_problem(svg), "");
}

// Every kind of chart, written and read back as XML.
TEST(Svg, EveryCaseIsWellFormedXml) {
  if (!have_xmllint()) GTEST_SKIP() << "xmllint (libxml2-utils) is not installed";
  BenchmarkResult failed_early = results({{10, 4096}, {20, 4096}}, 2);
  failed_early.scenarios[1].engines[1].runs.clear();
  failed_early.scenarios[1].engines[1].error = Error::failure("a <bad> & \"quoted\" 'failure'");
  BenchmarkResult failed_late = results({{10, 4096}}, 2);
  failed_late.scenarios[0].engines[0].error = Error::failure("late");
  BenchmarkResult no_timings = results({{10, 4096}}, 2);
  for (EngineResult& e : no_timings.scenarios[0].engines) e.runs.clear();
  std::vector<Scenario> many;
  for (std::size_t i = 0; i < 16; ++i) many.push_back({9'000'000 + i, 1'000'001});
  BenchmarkResult zero_bytes = results({{10, 0}}, 2);
  for (const BenchmarkResult* r : {&failed_early, &failed_late, &no_timings, &zero_bytes})
    EXPECT_EQ(xml_problem(svg_of(*r)), "");
  EXPECT_EQ(xml_problem(svg_of(results(many, 2))), "");
  EXPECT_EQ(xml_problem(svg_of(results({{10, 1 << 20}}, 2000))), "");
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
