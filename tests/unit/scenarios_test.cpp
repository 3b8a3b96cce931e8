// Scenario lists: -scenarios names and subsets, -files/-size cross products, and bad names.
#include "scenarios.hpp"

#include <gtest/gtest.h>

#include "options.hpp"

namespace ccopy::cli {
namespace {

std::vector<std::string> names(const std::vector<Scenario>& scenarios) {
  std::vector<std::string> out;
  for (const Scenario& s : scenarios) out.push_back(s.name());
  return out;
}

TEST(Scenarios, AllIsTheOriginalsSevenInOrder) {
  std::vector<Scenario> s;
  ASSERT_EQ(parse_scenario_list("all", s), "");
  const std::vector<std::string> expected{"1000x4K", "200x64K", "100x256K", "50x1M",
                                          "20x5M",   "10x10M",  "5x50M"};
  EXPECT_EQ(names(s), expected);
  EXPECT_EQ(s[0].files, 1000u);
  EXPECT_EQ(s[0].size, 4096u);
  EXPECT_EQ(s[6].files, 5u);
  EXPECT_EQ(s[6].size, 50u << 20);
}

TEST(Scenarios, EveryOriginalNameParsesBackToItself) {
  for (const Scenario& original : original_scenarios()) {
    std::vector<Scenario> s;
    ASSERT_EQ(parse_scenario_list(original.name(), s), "") << original.name();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].files, original.files);
    EXPECT_EQ(s[0].size, original.size);
  }
}

TEST(Scenarios, ASubsetKeepsTheGivenOrder) {
  std::vector<Scenario> s;
  ASSERT_EQ(parse_scenario_list("50x1M,1000x4K", s), "");
  EXPECT_EQ(names(s), (std::vector<std::string>{"50x1M", "1000x4K"}));
}

TEST(Scenarios, AnyNxSizeSpellingIsAccepted) {
  std::vector<Scenario> s;
  ASSERT_EQ(parse_scenario_list("3x10KiB,2X4096,7x1000,1x0", s), "");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].files, 3u);
  EXPECT_EQ(s[0].size, 10240u);
  EXPECT_EQ(s[1].name(), "2x4K");
  EXPECT_EQ(s[2].size, 1000u);
  EXPECT_EQ(s[3].size, 0u);
}

struct BadList {
  std::string spec;
  std::string message;
};
void PrintTo(const BadList& b, std::ostream* os) { *os << '\'' << b.spec << '\''; }

class BadScenarioLists : public ::testing::TestWithParam<BadList> {};

TEST_P(BadScenarioLists, SayWhatIsWrongOnOneLine) {
  std::vector<Scenario> s{{1, 1}};
  const std::string why = parse_scenario_list(GetParam().spec, s);
  EXPECT_NE(why.find(GetParam().message), std::string::npos) << why;
  EXPECT_EQ(why.find('\n'), std::string::npos) << why;
  ASSERT_EQ(s.size(), 1u) << "a failed parse must leave the list alone";
}

INSTANTIATE_TEST_SUITE_P(
    Names, BadScenarioLists,
    ::testing::Values(
        BadList{"fast", "unknown scenario 'fast' (not of the form NxSIZE)"},
        BadList{"fast",
                "valid names: all, 1000x4K, 200x64K, 100x256K, 50x1M, 20x5M, 10x10M, 5x50M"},
        BadList{"1000x4Q", "unknown scenario '1000x4Q' (unknown unit 'Q'"},
        BadList{"tenx4K", "unknown scenario 'tenx4K' ('ten' is not a whole number)"},
        BadList{"0x4K", "0 files is out of range"}, BadList{"x4K", "not of the form NxSIZE"},
        BadList{"10x", "not of the form NxSIZE"}, BadList{"", "empty name"},
        BadList{"1000x4K,,50x1M", "empty name"},
        BadList{"1000x4K,1000x4096", "'1000x4K' and '1000x4096' both name the scenario 1000x4K"},
        BadList{"10x4K,10x4K", "-scenarios: '10x4K' is listed twice"},
        BadList{"all,1000x4K", "'all' cannot be combined"},
        BadList{"10000001x1", "10000001 files is out of range"},
        BadList{"10x4611686018427387904", "overflows"}));

TEST(CrossProduct, FilesVarySlowest) {
  std::vector<Scenario> s;
  ASSERT_EQ(cross_product("100,1000,10000", "4K,64K", s), "");
  EXPECT_EQ(names(s), (std::vector<std::string>{"100x4K", "100x64K", "1000x4K", "1000x64K",
                                                "10000x4K", "10000x64K"}));
}

TEST(CrossProduct, SingleValuesGiveOneScenario) {
  std::vector<Scenario> s;
  ASSERT_EQ(cross_product("50", "1048576", s), "");
  EXPECT_EQ(names(s), (std::vector<std::string>{"50x1M"}));
}

TEST(CrossProduct, ABadEntryNamesItsFlag) {
  std::vector<Scenario> s;
  EXPECT_EQ(cross_product("3,x", "4K", s), "-files: 'x' is not a whole number");
  EXPECT_EQ(cross_product("3", "4K,", s), "-size: empty value, expected a size such as 4K or 1M");
  EXPECT_TRUE(s.empty());
}

TEST(ScenarioFlags, ScenariosAllReachesTheConfig) {
  CommandLine c;
  const ParseResult r = parse_command_line({"-scenarios", "all"}, c);
  ASSERT_EQ(r.kind, ParseResult::Kind::run) << r.text;
  EXPECT_EQ(names(c.config.scenarios), names(original_scenarios()));
}

TEST(ScenarioFlags, ListsInFilesAndSizeMakeACrossProduct) {
  CommandLine c;
  const ParseResult r = parse_command_line({"-files", "3,5", "--size=4K,8K"}, c);
  ASSERT_EQ(r.kind, ParseResult::Kind::run) << r.text;
  EXPECT_EQ(names(c.config.scenarios), (std::vector<std::string>{"3x4K", "3x8K", "5x4K", "5x8K"}));
}

TEST(ScenarioFlags, ScenariosWithFilesOrSizeIsAUsageError) {
  for (const auto& args : {std::vector<std::string>{"-scenarios", "all", "-files", "50"},
                           std::vector<std::string>{"-size", "1M", "--scenarios=50x1M"}}) {
    CommandLine c;
    const ParseResult r = parse_command_line(args, c);
    ASSERT_EQ(r.kind, ParseResult::Kind::usage_error);
    EXPECT_NE(r.text.find("-scenarios cannot be combined with"), std::string::npos) << r.text;
  }
}

TEST(ScenarioFlags, ABadNameIsAUsageErrorListingTheValidOnes) {
  CommandLine c;
  const ParseResult r = parse_command_line({"-scenarios", "1000x4K,huge"}, c);
  ASSERT_EQ(r.kind, ParseResult::Kind::usage_error);
  EXPECT_NE(r.text.find("unknown scenario 'huge'"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("5x50M"), std::string::npos) << r.text;
}

TEST(ScenarioFlags, SvgTakesAFile) {
  CommandLine c;
  ASSERT_EQ(parse_command_line({"-svg", "/dev/shm/chart.svg"}, c).kind, ParseResult::Kind::run);
  EXPECT_EQ(c.svg, "/dev/shm/chart.svg");
}

// A decimal before the unit is taken when it names a whole number of bytes, exactly (no
// floating point): 1.5M is 1572864 bytes, 1.3K (1331.2) is refused.
TEST(ByteSizes, TakeDecimalsThatAreWholeBytes) {
  for (const auto& [text, bytes] :
       {std::pair{"1.5M", 1572864ull}, std::pair{".5K", 512ull}, std::pair{"4.0K", 4096ull},
        std::pair{"0.25KiB", 256ull}, std::pair{"2.", 2ull}, std::pair{"4096", 4096ull},
        std::pair{"1.0009765625M", 1049600ull}}) {
    std::string why;
    const auto value = parse_byte_size(text, why);
    ASSERT_TRUE(value) << text << ": " << why;
    EXPECT_EQ(*value, bytes) << text;
  }
}

TEST(ByteSizes, SayWhatIsWrongWithTheRest) {
  for (const auto& [text, message] :
       {std::pair{"1.3K", "'1.3K' is 1331.2 bytes: a size must be a whole number of bytes"},
        std::pair{"1.5", "'1.5' is 1.5 bytes: a size must be a whole number of bytes"},
        std::pair{"1.5Q", "unknown unit 'Q' in '1.5Q'"},
        std::pair{"1.5.5K", "unknown unit '.5K' in '1.5.5K'"}, std::pair{".K", "is not a size"},
        std::pair{"-1.5K", "'-1.5K' is negative"},
        std::pair{"99999999999999999.5T", "too large"}}) {
    std::string why;
    EXPECT_FALSE(parse_byte_size(text, why)) << text;
    EXPECT_NE(why.find(message), std::string::npos) << text << ": " << why;
  }
}

}  // namespace
}  // namespace ccopy::cli
