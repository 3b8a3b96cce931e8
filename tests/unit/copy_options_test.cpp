// `concurrent_copy copy` reads its command line as GNU cp does.
#include <gtest/gtest.h>

#include "copy_command.hpp"
#include "copy_options.hpp"

namespace ccopy::cli {
namespace {

CopyCommand parse_ok(const std::vector<std::string>& args) {
  CopyCommand c;
  const CopyParse p = parse_copy_command(args, c);
  EXPECT_EQ(p.kind, CopyParse::Kind::run) << p.text;
  return c;
}

std::string usage_error(const std::vector<std::string>& args) {
  CopyCommand c;
  const CopyParse p = parse_copy_command(args, c);
  EXPECT_EQ(p.kind, CopyParse::Kind::usage_error);
  return p.text;
}

TEST(CopyOptions, DefaultsAreCps) {
  const CopyCommand c = parse_ok({"a", "b"});
  EXPECT_FALSE(c.options.preserve.mode);
  EXPECT_FALSE(c.options.preserve.ownership);
  EXPECT_FALSE(c.options.preserve.timestamps);
  EXPECT_FALSE(c.options.preserve.links);
  EXPECT_FALSE(c.options.dereference);
  EXPECT_EQ(c.options.overwrite, Overwrite::replace);
  EXPECT_EQ(c.options.reflink, Reflink::automatic);
  EXPECT_EQ(c.options.sparse, Sparse::automatic);
  EXPECT_EQ(c.engine, "auto");
  EXPECT_EQ(c.operands, (std::vector<std::string>{"a", "b"}));
}

TEST(CopyOptions, ArchiveKeepsEverything) {
  const CopyCommand c = parse_ok({"-a", "a", "b"});
  const Preserve& p = c.options.preserve;
  EXPECT_TRUE(p.mode && p.ownership && p.timestamps && p.xattrs && p.links);
  EXPECT_FALSE(c.options.dereference);
}

TEST(CopyOptions, ShortOptionsBundleAndTakeValuesAttachedOrNext) {
  const CopyCommand c = parse_ok({"-avuj4", "a", "b"});
  EXPECT_TRUE(c.verbose);
  EXPECT_EQ(c.options.overwrite, Overwrite::older);
  EXPECT_EQ(c.jobs, 4u);
  EXPECT_EQ(parse_ok({"-j", "8", "a", "b"}).jobs, 8u);
  EXPECT_EQ(parse_ok({"-tdir", "a"}).target_directory, "dir");
  EXPECT_EQ(parse_ok({"-t", "dir", "a"}).target_directory, "dir");
}

TEST(CopyOptions, LongOptionsTakeEqualsOrTheNextWordAndPrefixes) {
  EXPECT_EQ(parse_ok({"--engine=uring", "a", "b"}).engine, "uring");
  EXPECT_EQ(parse_ok({"--engine", "uv", "a", "b"}).engine, "uv");
  EXPECT_EQ(parse_ok({"--eng=threads", "a", "b"}).engine, "threads");
  EXPECT_EQ(parse_ok({"--engine=xev", "a", "b"}).engine, "uring");
  EXPECT_EQ(parse_ok({"--jobs=3", "a", "b"}).jobs, 3u);
  EXPECT_EQ(parse_ok({"--target-directory=d", "a"}).target_directory, "d");
}

TEST(CopyOptions, OptionsMayFollowOperandsAndDoubleDashEndsThem) {
  const CopyCommand c = parse_ok({"a", "-v", "b"});
  EXPECT_TRUE(c.verbose);
  EXPECT_EQ(c.operands, (std::vector<std::string>{"a", "b"}));
  const CopyCommand d = parse_ok({"--", "-v", "b"});
  EXPECT_FALSE(d.verbose);
  EXPECT_EQ(d.operands, (std::vector<std::string>{"-v", "b"}));
  EXPECT_EQ(parse_ok({"-", "b"}).operands.front(), "-");
}

TEST(CopyOptions, PreserveListsChooseAttributes) {
  const CopyCommand c = parse_ok({"--preserve=mode,links", "a", "b"});
  EXPECT_TRUE(c.options.preserve.mode);
  EXPECT_TRUE(c.options.preserve.links);
  EXPECT_FALSE(c.options.preserve.timestamps);
  const CopyCommand d = parse_ok({"-a", "--no-preserve=ownership,xattr", "a", "b"});
  EXPECT_FALSE(d.options.preserve.ownership);
  EXPECT_FALSE(d.options.preserve.xattrs);
  EXPECT_TRUE(d.options.preserve.timestamps);
  const CopyCommand e = parse_ok({"--preserve", "a", "b"});  // cp's default list
  EXPECT_TRUE(e.options.preserve.mode && e.options.preserve.ownership && e.options.preserve.timestamps);
  EXPECT_FALSE(e.options.preserve.links);
  EXPECT_NE(usage_error({"--preserve=colour", "a", "b"}).find("unknown attribute 'colour'"), std::string::npos);
}

TEST(CopyOptions, ReflinkAndSparse) {
  EXPECT_EQ(parse_ok({"--reflink", "a", "b"}).options.reflink, Reflink::always);
  EXPECT_EQ(parse_ok({"--reflink=never", "a", "b"}).options.reflink, Reflink::never);
  EXPECT_EQ(parse_ok({"--sparse=always", "a", "b"}).options.sparse, Sparse::always);
  EXPECT_NE(usage_error({"--sparse=maybe", "a", "b"}).find("--sparse: 'maybe'"), std::string::npos);
  EXPECT_NE(usage_error({"--sparse", "a"}).find("--sparse: 'a'"), std::string::npos);
}

TEST(CopyOptions, SplitTakesASizeOrZero) {
  EXPECT_EQ(parse_ok({"a", "b"}).options.split_size, 64u << 20);
  EXPECT_EQ(parse_ok({"--split=1G", "a", "b"}).options.split_size, 1u << 30);
  EXPECT_EQ(parse_ok({"--split", "0", "a", "b"}).options.split_size, 0u);
  EXPECT_NE(usage_error({"--split=2K", "a", "b"}).find("--split: 2048 bytes is below"), std::string::npos);
  EXPECT_NE(usage_error({"--split=lots", "a", "b"}).find("--split: "), std::string::npos);
}

TEST(CopyOptions, NoClobberWinsOverForceAndUpdate) {
  EXPECT_EQ(parse_ok({"-n", "-f", "a", "b"}).options.overwrite, Overwrite::never);
  EXPECT_EQ(parse_ok({"-nu", "a", "b"}).options.overwrite, Overwrite::never);
  EXPECT_EQ(parse_ok({"-f", "a", "b"}).options.overwrite, Overwrite::replace);
}

TEST(CopyOptions, UsageErrorsSayWhatIsWrongAsCpDoes) {
  EXPECT_EQ(usage_error({}), "missing file operand");
  EXPECT_EQ(usage_error({"a"}), "missing destination file operand after 'a'");
  EXPECT_EQ(usage_error({"-z", "a", "b"}), "invalid option -- 'z'");
  EXPECT_EQ(usage_error({"--bogus", "a", "b"}), "unrecognized option '--bogus'");
  EXPECT_EQ(usage_error({"--verb=1", "a", "b"}), "option '--verbose' doesn't allow an argument");
  EXPECT_EQ(usage_error({"a", "b", "--json"}), "option '--json' requires an argument");
  EXPECT_EQ(usage_error({"--json=", "a", "b"}), "--json: empty value");
  EXPECT_EQ(usage_error({"--no", "a", "b"}), "option '--no' is ambiguous");
  EXPECT_EQ(usage_error({"-T", "a", "b", "c"}), "extra operand 'c'");
  EXPECT_NE(usage_error({"-T", "-t", "d", "a"}).find("cannot combine"), std::string::npos);
  EXPECT_NE(usage_error({"-j0", "a", "b"}).find("out of range"), std::string::npos);
  EXPECT_NE(usage_error({"--engine=fast", "a", "b"}).find("unknown engine 'fast'"), std::string::npos);
}

TEST(CopyOptions, HelpAndVersionAreText) {
  CopyCommand c;
  const CopyParse help = parse_copy_command({"--help"}, c);
  EXPECT_EQ(help.kind, CopyParse::Kind::exit_with_text);
  for (const char* option : {"--archive", "--preserve", "--no-preserve", "--dereference",
                             "--no-dereference", "--no-clobber", "--force", "--update",
                             "--one-file-system", "--reflink", "--sparse", "--engine", "--jobs",
                             "--verify", "--progress", "--no-progress", "--fsync", "--verbose",
                             "--dry-run", "--json", "--target-directory", "--no-target-directory",
                             "--inplace", "--split"})
    EXPECT_NE(help.text.find(option), std::string::npos) << option;
  EXPECT_EQ(parse_copy_command({"--version"}, c).kind, CopyParse::Kind::exit_with_text);
}

}  // namespace
}  // namespace ccopy::cli
