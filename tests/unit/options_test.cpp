// The flag parser: both spellings of every flag, defaults, and each kind of bad usage.
#include "options.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace ccopy::cli {
namespace {

ParseResult parse(std::vector<std::string> args, CommandLine& out) {
  return parse_command_line(args, out);
}

TEST(Options, DefaultsAreTheOriginals) {
  CommandLine c;
  ASSERT_EQ(parse({}, c).kind, ParseResult::Kind::run);
  ASSERT_EQ(c.config.scenarios.size(), 1u);
  EXPECT_EQ(c.config.scenarios[0].files, 50u);
  EXPECT_EQ(c.config.scenarios[0].size, 1048576u);
  EXPECT_EQ(c.config.mode, "both");
  EXPECT_EQ(c.config.options.workers, 0u);
  EXPECT_EQ(c.config.options.inflight, 16u);
  EXPECT_EQ(c.config.options.chunk, 65536u);
  EXPECT_FALSE(c.config.keep);
  EXPECT_EQ(c.config.runs, 5u);
  EXPECT_EQ(c.config.warmup, 1u);
  EXPECT_EQ(c.config.options.kernel_copy, KernelCopy::automatic);
}

TEST(Options, KernelCopyTakesEachOfItsValuesInEitherSpelling) {
  for (const auto& [args, want] :
       {std::pair{std::vector<std::string>{"-kernel-copy", "on"}, KernelCopy::on},
        std::pair{std::vector<std::string>{"--kernel-copy=off"}, KernelCopy::off},
        std::pair{std::vector<std::string>{"-kernel-copy=off", "-kernel-copy", "auto"},
                  KernelCopy::automatic}}) {
    CommandLine c;
    ASSERT_EQ(parse(args, c).kind, ParseResult::Kind::run) << args[0];
    EXPECT_EQ(c.config.options.kernel_copy, want) << args[0];
  }
}

struct Spelling {
  std::vector<std::string> args;
};
void PrintTo(const Spelling& s, std::ostream* os) {
  for (const std::string& a : s.args) *os << a << ' ';
}

class EverySpelling : public ::testing::TestWithParam<Spelling> {};

TEST_P(EverySpelling, SetsTheSameValues) {
  CommandLine c;
  const ParseResult r = parse(GetParam().args, c);
  ASSERT_EQ(r.kind, ParseResult::Kind::run) << r.text;
  EXPECT_EQ(c.config.scenarios[0].files, 10u);
  EXPECT_EQ(c.config.scenarios[0].size, 4096u);
  EXPECT_EQ(c.config.mode, "xev");
  EXPECT_EQ(c.config.options.workers, 3u);
  EXPECT_EQ(c.config.options.inflight, 4u);
  EXPECT_EQ(c.config.options.chunk, 8192u);
  EXPECT_EQ(c.config.directory, "/dev/shm");
  EXPECT_TRUE(c.config.keep);
}

INSTANTIATE_TEST_SUITE_P(
    Flags, EverySpelling,
    ::testing::Values(
        Spelling{{"-files", "10", "-size", "4K", "-mode", "xev", "-workers", "3", "-inflight", "4",
                  "-chunk", "8K", "-dir", "/dev/shm", "-keep"}},
        Spelling{{"-files=10", "-size=4K", "-mode=xev", "-workers=3", "-inflight=4", "-chunk=8K",
                  "-dir=/dev/shm", "-keep"}},
        Spelling{{"--files", "10", "--size", "4K", "--mode", "xev", "--workers", "3", "--inflight",
                  "4", "--chunk", "8K", "--dir", "/dev/shm", "--keep"}},
        Spelling{{"--files=10", "--size=4096", "--mode=xev", "--workers=3", "--inflight=4",
                  "--chunk=8192", "--dir=/dev/shm", "--keep"}}));

TEST(Options, HelpInEitherSpellingShowsEveryFlag) {
  for (const char* flag : {"-h", "--help", "-help"}) {
    CommandLine c;
    const ParseResult r = parse({flag}, c);
    ASSERT_EQ(r.kind, ParseResult::Kind::exit_with_text) << flag;
    for (const char* name : {"--files", "--size", "--mode", "--workers", "--keep", "--dir",
                             "--inflight", "--chunk", "--runs", "--warmup", "--kernel-copy"})
      EXPECT_NE(r.text.find(name), std::string::npos) << name;
  }
}

struct BadUsage {
  std::vector<std::string> args;
  std::string message;
};
void PrintTo(const BadUsage& b, std::ostream* os) {
  for (const std::string& a : b.args) *os << a << ' ';
}

class EveryBadUsage : public ::testing::TestWithParam<BadUsage> {};

TEST_P(EveryBadUsage, IsAUsageErrorThatSaysWhy) {
  CommandLine c;
  const ParseResult r = parse(GetParam().args, c);
  ASSERT_EQ(r.kind, ParseResult::Kind::usage_error);
  EXPECT_NE(r.text.find(GetParam().message), std::string::npos) << r.text;
  EXPECT_EQ(r.text.find('\n'), std::string::npos) << "one line: " << r.text;
}

INSTANTIATE_TEST_SUITE_P(
    Flags, EveryBadUsage,
    ::testing::Values(
        BadUsage{{"-bogus"}, "bogus"}, BadUsage{{"--bogus=1"}, "bogus"},
        BadUsage{{"-mode", "fast"}, "unknown mode 'fast'"},
        BadUsage{{"-files", "ten"}, "-files: 'ten' is not a whole number"},
        BadUsage{{"-files", "-5"}, "-files"}, BadUsage{{"-files=-5"}, "-files: '-5' is negative"},
        BadUsage{{"-files", "0"}, "-files: 0 is out of range"},
        BadUsage{{"-size", "12Q"}, "-size: unknown unit 'Q'"},
        BadUsage{{"-size=-1"}, "-size: '-1' is negative"}, BadUsage{{"-workers", "x"}, "-workers"},
        BadUsage{{"-inflight", "0"}, "-inflight: 0 is out of range"},
        BadUsage{{"-chunk", "0"}, "-chunk: 0 is out of range"},
        BadUsage{{"-chunk", "1T"}, "-chunk: 1T is out of range"},
        BadUsage{{"-runs", "0"}, "-runs: 0 is out of range"},
        BadUsage{{"-kernel-copy", "yes"}, "-kernel-copy: 'yes' is not one of auto, on, off"},
        BadUsage{{"-files", "10", "-size", "4611686018427387904"}, "overflows"},
        BadUsage{{"-files", "10000001"}, "-files: 10000001 is out of range"},
        BadUsage{{"-mode", "xev,,goroutine"}, "empty name"}, BadUsage{{"-files"}, "files"},
        BadUsage{{"stray"}, "stray"},
        BadUsage{{"-json", "-", "-markdown", "-"}, "-json and -markdown both write to stdout"},
        BadUsage{{"--csv=-", "-markdown=-"}, "-csv and -markdown both write to stdout"},
        BadUsage{{"-json", "r", "-svg", "./r"}, "-json and -svg both write to ./r"},
        BadUsage{{"--json=", "--keep"}, "-json: empty value"},
        BadUsage{{"-files=", "-quiet"}, "-files: empty value"},
        BadUsage{{"-dir", ""}, "-dir: empty value"}, BadUsage{{"-json", ""}, "-json: empty value"},
        BadUsage{{"-keep="}, "-keep: empty value"},
        BadUsage{{"-svg", "--quiet"}, "-svg: needs a value, and '--quiet' is a flag"},
        BadUsage{{"-runs"}, "-runs: needs a value"},
        BadUsage{{"-f", "2"}, "unknown flag '-f'; did you mean -files?"},
        BadUsage{{"--siez=4K"}, "unknown flag '--siez'; did you mean -size?"},
        BadUsage{{"-zzzzzz"}, "unknown flag '-zzzzzz'"},
        BadUsage{{"-size", "1.3K"}, "a size must be a whole number of bytes"},
        BadUsage{{"-chunk", "0.5"}, "-chunk: '0.5' is 0.5 bytes"},
        BadUsage{{"-mode", "goroutine,threads"},
                 "-mode: 'goroutine' and 'threads' both name the threads engine"},
        BadUsage{{"-size", "1K,1024"}, "-size: '1K' and '1024' both name 1024 bytes"}));

// "-files=-5" hands the value over as written; the option itself says what is wrong with it,
// and a dash-led value that is no flag is a value: "-files -5".
TEST(Options, ADashLedValueThatIsNoFlagIsAValue) {
  CommandLine c;
  const ParseResult r = parse({"-files", "-5"}, c);
  ASSERT_EQ(r.kind, ParseResult::Kind::usage_error);
  EXPECT_EQ(r.text, "-files: '-5' is negative");
  CommandLine d;
  ASSERT_EQ(parse({"-json=-keep", "-dir", "-odd"}, d).kind, ParseResult::Kind::run);
  EXPECT_EQ(d.json, "-keep");
}

TEST(Options, DecimalSizesAreTakenWhenTheyAreWholeBytes) {
  CommandLine c;
  ASSERT_EQ(parse({"-size", "1.5M,0.5K", "-chunk", "1.5K"}, c).kind, ParseResult::Kind::run);
  ASSERT_EQ(c.config.scenarios.size(), 2u);
  EXPECT_EQ(c.config.scenarios[0].size, 1572864u);
  EXPECT_EQ(c.config.scenarios[1].size, 512u);
  EXPECT_EQ(c.config.options.chunk, 1536u);
  CommandLine d;
  ASSERT_EQ(parse({"-scenarios", "3x1.5K"}, d).kind, ParseResult::Kind::run);
  EXPECT_EQ(d.config.scenarios[0].size, 1536u);
}

TEST(Options, TheDirectoryIsAbsoluteAndSaysWhereItCameFrom) {
  CommandLine c;
  ASSERT_EQ(parse({"-dir", "."}, c).kind, ParseResult::Kind::run);
  EXPECT_EQ(c.config.directory, std::filesystem::current_path().string());
  EXPECT_EQ(c.directory_origin, "-dir");
  CommandLine d;
  ASSERT_EQ(parse({"-dir", "/tmp/a/../b/"}, d).kind, ParseResult::Kind::run);
  EXPECT_EQ(d.config.directory, "/tmp/b");
}

TEST(Options, TheEngineOptionsGivenAreRecordedAsTyped) {
  CommandLine c;
  ASSERT_EQ(parse({"-pool", "4", "--loops=2"}, c).kind, ParseResult::Kind::run);
  const std::vector<std::pair<std::string, std::string>> given{{"-pool", "4"}, {"-loops", "2"}};
  EXPECT_EQ(c.engine_options_given, given);
  const std::vector<EngineChoice> threads{{"goroutine", "threads"}};
  EXPECT_EQ(unused_option_notes(c, threads),
            (std::vector<std::string>{"-pool 4 is unused: no uv engine runs",
                                      "-loops 2 is unused: no uring engine runs"}));
  const std::vector<EngineChoice> both{{"xev", "uring"}, {"uv", "uv"}};
  EXPECT_TRUE(unused_option_notes(c, both).empty());
}

TEST(LikeliestFlag, PrefersAPrefixThenTheClosestName) {
  const std::vector<std::string> names{"help", "files", "size", "fsync", "quiet", "json"};
  EXPECT_EQ(likeliest_flag("f", names), "files") << "the earlier of two prefixes";
  EXPECT_EQ(likeliest_flag("fs", names), "fsync");
  EXPECT_EQ(likeliest_flag("fiels", names), "files");
  EXPECT_EQ(likeliest_flag("quite", names), "quiet") << "a swap of two letters is one edit";
  EXPECT_EQ(likeliest_flag("jsno", names), "json");
  EXPECT_EQ(likeliest_flag("bogus", names), "");
  EXPECT_EQ(likeliest_flag("", names), "");
}

TEST(Options, HelpSetsEveryFlagApartFromItsTextAndNamesEveryExport) {
  CommandLine c;
  const ParseResult r = parse({"--help"}, c);
  ASSERT_EQ(r.kind, ParseResult::Kind::exit_with_text);
  EXPECT_NE(r.text.find("  --kernel-copy WHEN=auto   uring and uv engines"), std::string::npos)
      << r.text;
  EXPECT_NE(r.text.find("Exports: -json, -csv, -markdown and -svg combine"), std::string::npos);
}

TEST(Options, ExportsTakeAPathOrADashEach) {
  CommandLine c;
  ASSERT_EQ(parse({"-json", "r.json", "--csv=-", "-markdown=/tmp/r.md"}, c).kind,
            ParseResult::Kind::run);
  EXPECT_EQ(c.json, "r.json");
  EXPECT_EQ(c.csv, "-");
  EXPECT_EQ(c.markdown, "/tmp/r.md");
}

TEST(ToGnuStyle, RewritesOnlyKnownLongNames) {
  const std::vector<std::string> names{"files", "keep"};
  const auto out = to_gnu_style({"-files=3", "-keep", "-x", "--files", "-5", "-bogus"}, names);
  const std::vector<std::string> expected{"--files=3", "--keep", "-x", "--files", "-5", "-bogus"};
  EXPECT_EQ(out, expected);
}

TEST(Options, ALaterValueReplacesAnEarlierOne) {
  CommandLine c;
  ASSERT_EQ(parse({"-files", "3", "--files=4"}, c).kind, ParseResult::Kind::run);
  EXPECT_EQ(c.config.scenarios[0].files, 4u);
}

TEST(Options, ListsMakeACrossProductOfScenarios) {
  CommandLine c;
  ASSERT_EQ(parse({"-files", "100,1000", "-size", "4K,64K"}, c).kind, ParseResult::Kind::run);
  ASSERT_EQ(c.config.scenarios.size(), 4u);
  EXPECT_EQ(c.config.scenarios[0].name(), "100x4K");
  EXPECT_EQ(c.config.scenarios[1].name(), "100x64K");
  EXPECT_EQ(c.config.scenarios[3].name(), "1000x64K");
}

}  // namespace
}  // namespace ccopy::cli
