// The menu's table of items: what it holds, what it hides without trees, and what each item
// puts in a BenchmarkConfig.
#include "menu_items.hpp"

#include <gtest/gtest.h>

#include "scenarios.hpp"

namespace ccopy::cli::menu {
namespace {

std::vector<std::string> labels(const std::vector<MenuItem>& items) {
  std::vector<std::string> out;
  for (const MenuItem& item : items) out.push_back(item.label);
  return out;
}

TEST(MenuItems, TheTableHoldsTheOriginalsScenariosRunAllAndTheTrees) {
  EXPECT_EQ(labels(all_menu_items()),
            (std::vector<std::string>{
                "1000 files x 4 KiB", "200 files x 64 KiB", "100 files x 256 KiB",
                "50 files x 1 MiB", "20 files x 5 MiB", "10 files x 10 MiB", "5 files x 50 MiB",
                "Run all", "linux tree", "node_modules tree", "photos tree", "Your own tree…"}));
}

TEST(MenuItems, TreesAreHiddenUnlessTheLibraryHasThem) {
  const std::vector<MenuItem> without = shown_items(all_menu_items(), false);
  EXPECT_EQ(without.size(), 8u);
  for (const MenuItem& item : without) EXPECT_FALSE(item.needs_trees) << item.label;
  EXPECT_EQ(shown_items(all_menu_items(), true).size(), 12u);
}

TEST(MenuItems, TheMenuShowsWhatThisBuildsLibraryCanRun) {
  EXPECT_EQ(labels(menu_items()), labels(shown_items(all_menu_items(), kLibraryHasTrees)));
}

TEST(MenuItems, AScenarioFillsItsScenarioAndNothingElse) {
  BenchmarkConfig config;
  config.engines = {{"xev", "uring"}};
  config.directory = "/somewhere";
  config.runs = 7;
  ASSERT_FALSE(all_menu_items()[1].fill("", config));
  ASSERT_EQ(config.scenarios.size(), 1u);
  EXPECT_EQ(config.scenarios[0].name(), "200x64K");
  EXPECT_EQ(config.engines.size(), 1u);
  EXPECT_EQ(config.directory, "/somewhere");
  EXPECT_EQ(config.runs, 7u);
}

TEST(MenuItems, RunAllFillsTheOriginalsSevenInOrder) {
  BenchmarkConfig config;
  ASSERT_FALSE(all_menu_items()[7].fill("", config));
  ASSERT_EQ(config.scenarios.size(), original_scenarios().size());
  for (std::size_t i = 0; i < config.scenarios.size(); ++i)
    EXPECT_EQ(config.scenarios[i].name(), original_scenarios()[i].name());
  EXPECT_EQ(all_menu_items()[7].detail, "541.4 MiB");
}

TEST(MenuItems, OnlyYourOwnTreeAsksForAPath) {
  for (const MenuItem& item : all_menu_items())
    EXPECT_EQ(item.asks_for_path, item.label == "Your own tree…") << item.label;
}

// Each tree item fills exactly one scenario: a generated shape at scale 1, or the typed
// directory as a -src tree; the flat fields stay empty.
TEST(MenuItems, TreeItemsFillOneTreeScenario) {
  const std::vector<std::pair<std::string, Shape>> shapes{
      {"linux tree", Shape::linux}, {"node_modules tree", Shape::node_modules},
      {"photos tree", Shape::photos}};
  std::size_t seen = 0;
  for (const MenuItem& item : all_menu_items()) {
    if (!item.needs_trees) continue;
    ++seen;
    BenchmarkConfig config;
    ASSERT_FALSE(item.fill("/usr/include", config)) << item.label;
    ASSERT_EQ(config.scenarios.size(), 1u) << item.label;
    const Scenario& s = config.scenarios[0];
    if (item.asks_for_path) {
      EXPECT_EQ(s.kind, Scenario::Kind::source);
      EXPECT_EQ(s.source, "/usr/include");
      continue;
    }
    const auto it = std::find_if(shapes.begin(), shapes.end(),
                                 [&](const auto& p) { return p.first == item.label; });
    ASSERT_NE(it, shapes.end()) << item.label;
    EXPECT_EQ(s.kind, Scenario::Kind::shape) << item.label;
    EXPECT_EQ(s.shape, it->second) << item.label;
    EXPECT_EQ(s.scale, 1.0) << item.label;
    EXPECT_TRUE(s.source.empty()) << item.label;
  }
  EXPECT_EQ(seen, 4u);
}

TEST(MenuItems, AnUnknownTreeIsAnError) {
  BenchmarkConfig config;
  const Error e = fill_tree_config("redwood", "", config);
  ASSERT_TRUE(e);
  EXPECT_EQ(e.message(), "unknown tree 'redwood'");
  EXPECT_TRUE(config.scenarios.empty());
}

TEST(MenuItems, SizeLabelsSpellTheBinaryUnit) {
  EXPECT_EQ(size_label(4096), "4 KiB");
  EXPECT_EQ(size_label(50u << 20), "50 MiB");
  EXPECT_EQ(size_label(std::uint64_t{3} << 30), "3 GiB");
  EXPECT_EQ(size_label(1000), "1000 B");
}

}  // namespace
}  // namespace ccopy::cli::menu
