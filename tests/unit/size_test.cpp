#include <gtest/gtest.h>

#include "ccopy/size.hpp"

namespace ccopy {
namespace {

TEST(ParseSize, AcceptsPlainNumbers) {
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("1048576"), 1048576u);
}

TEST(ParseSize, AcceptsBinaryUnitsInEverySpelling) {
  EXPECT_EQ(parse_size("4K"), 4096u);
  EXPECT_EQ(parse_size("4k"), 4096u);
  EXPECT_EQ(parse_size("64KiB"), 65536u);
  EXPECT_EQ(parse_size("64KB"), 65536u);
  EXPECT_EQ(parse_size("1M"), 1048576u);
  EXPECT_EQ(parse_size("10MiB"), 10485760u);
  EXPECT_EQ(parse_size("1G"), 1073741824u);
  EXPECT_EQ(parse_size("2T"), 2199023255552u);
  EXPECT_EQ(parse_size("7B"), 7u);
}

TEST(ParseSize, RejectsUnknownUnitsAndSaysWhich) {
  std::string why;
  EXPECT_FALSE(parse_size("12Q", &why));
  EXPECT_NE(why.find("unknown unit 'Q'"), std::string::npos) << why;
}

TEST(ParseSize, RejectsNegativeEmptyAndFractional) {
  std::string why;
  EXPECT_FALSE(parse_size("-1", &why));
  EXPECT_NE(why.find("negative"), std::string::npos);
  EXPECT_FALSE(parse_size("", &why));
  EXPECT_FALSE(parse_size("1.5M", &why));
  EXPECT_FALSE(parse_size("K", &why));
  EXPECT_FALSE(parse_size(" 4K", &why));
}

TEST(ParseSize, RejectsOverflow) {
  std::string why;
  EXPECT_FALSE(parse_size("99999999999999999999", &why));
  EXPECT_NE(why.find("too large"), std::string::npos);
  EXPECT_FALSE(parse_size("17179869184G", &why));
  EXPECT_NE(why.find("too large"), std::string::npos);
  EXPECT_EQ(parse_size("18446744073709551615"), 18446744073709551615u);
}

TEST(ParseCount, AcceptsOnlyWholeNumbers) {
  EXPECT_EQ(parse_count("16"), 16u);
  std::string why;
  EXPECT_FALSE(parse_count("2K", &why));
  EXPECT_NE(why.find("not a whole number"), std::string::npos);
  EXPECT_FALSE(parse_count("-3", &why));
  EXPECT_NE(why.find("negative"), std::string::npos);
  EXPECT_FALSE(parse_count("abc"));
  EXPECT_FALSE(parse_count(""));
}

TEST(FormatBytes, UsesBinaryUnitsWithOneDecimal) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1024), "1.0 KiB");
  EXPECT_EQ(format_bytes(1048576), "1.0 MiB");
  EXPECT_EQ(format_bytes(50 * 1048576ull), "50.0 MiB");
  EXPECT_EQ(format_bytes(1536ull * 1048576), "1.5 GiB");
}

TEST(ShortSize, NamesScenarios) {
  EXPECT_EQ(short_size(4096), "4K");
  EXPECT_EQ(short_size(1048576), "1M");
  EXPECT_EQ(short_size(5 * 1048576), "5M");
  EXPECT_EQ(short_size(1000), "1000");
  EXPECT_EQ(short_size(0), "0");
}

TEST(FormatDuration, KeepsThreeSignificantDigits) {
  EXPECT_EQ(format_duration(14.2e6), "14.2 ms");
  EXPECT_EQ(format_duration(850e3), "850 us");
  EXPECT_EQ(format_duration(2.314e9), "2.31 s");
  EXPECT_EQ(format_duration(12), "12.0 ns");
}

}  // namespace
}  // namespace ccopy
