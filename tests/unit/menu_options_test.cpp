// The flags after `menu`: the four it takes, in both spellings, checked by the benchmark's
// parser; every other flag and any argument refused by name.
#include "menu_options.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace ccopy::cli::menu {
namespace {

TEST(MenuOptions, DefaultsAreTheBenchmarks) {
  BenchmarkConfig c;
  ASSERT_EQ(parse_menu_command_line({}, c).kind, ParseResult::Kind::run);
  EXPECT_EQ(c.runs, 5u);
  EXPECT_EQ(c.warmup, 1u);
  EXPECT_EQ(c.mode, "both");
  const char* tmpdir = std::getenv("TMPDIR");
  EXPECT_EQ(c.directory, tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp");
  EXPECT_TRUE(c.scenarios.empty()) << "the menu chooses the scenarios";
}

TEST(MenuOptions, TakesItsFourFlagsInEitherSpelling) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"-runs", "2", "-warmup", "0", "-dir", "/x", "-mode", "all"},
        std::vector<std::string>{"--runs=2", "--warmup", "0", "-dir=/x", "--mode=all"}}) {
    BenchmarkConfig c;
    ASSERT_EQ(parse_menu_command_line(args, c).kind, ParseResult::Kind::run) << args[0];
    EXPECT_EQ(c.runs, 2u);
    EXPECT_EQ(c.warmup, 0u);
    EXPECT_EQ(c.directory, "/x");
    EXPECT_EQ(c.mode, "all");
  }
}

TEST(MenuOptions, RefusesTheBenchmarksOtherFlagsByName) {
  BenchmarkConfig c;
  const ParseResult r = parse_menu_command_line({"-runs", "2", "-files", "3"}, c);
  ASSERT_EQ(r.kind, ParseResult::Kind::usage_error);
  EXPECT_EQ(r.text, "-files is not a flag of the menu (it takes -runs, -warmup, -dir and -mode)");
}

TEST(MenuOptions, RefusesAnArgumentThatIsNoFlag) {
  BenchmarkConfig c;
  const ParseResult r = parse_menu_command_line({"extra"}, c);
  ASSERT_EQ(r.kind, ParseResult::Kind::usage_error);
  EXPECT_EQ(r.text, "unexpected argument 'extra'");
}

TEST(MenuOptions, TheBenchmarksParserChecksTheValues) {
  BenchmarkConfig c;
  ParseResult r = parse_menu_command_line({"-runs", "0"}, c);
  ASSERT_EQ(r.kind, ParseResult::Kind::usage_error);
  EXPECT_EQ(r.text, "-runs: 0 is out of range (1 to 100000)");
  r = parse_menu_command_line({"-mode", "fastest"}, c);
  ASSERT_EQ(r.kind, ParseResult::Kind::usage_error);
  EXPECT_NE(r.text.find("unknown mode 'fastest'"), std::string::npos) << r.text;
}

TEST(MenuOptions, HelpDescribesTheMenu) {
  for (const char* flag : {"-h", "-help", "--help"}) {
    BenchmarkConfig c;
    const ParseResult r = parse_menu_command_line({flag}, c);
    ASSERT_EQ(r.kind, ParseResult::Kind::exit_with_text) << flag;
    EXPECT_EQ(r.text.rfind(
                  "Usage: concurrent_copy menu [-runs N] [-warmup N] [-dir DIR] [-mode MODE]\n", 0),
              0u);
  }
}

}  // namespace
}  // namespace ccopy::cli::menu
