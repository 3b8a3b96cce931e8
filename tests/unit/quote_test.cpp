// Names in messages are quoted as GNU cp quotes them; names in JSON are valid UTF-8 that can be
// turned back into the same bytes.
#include <gtest/gtest.h>

#include "quote.hpp"

namespace ccopy::cli {
namespace {

TEST(Quote, PlainNamesGoBetweenSingleQuotes) {
  EXPECT_EQ(quote("a b"), "'a b'");
  EXPECT_EQ(quote("dir/file.c"), "'dir/file.c'");
  EXPECT_EQ(quote(""), "''");
  EXPECT_EQ(quote("caf\xc3\xa9"), "'caf\xc3\xa9'");  // UTF-8 stays as it is
}

TEST(Quote, ASingleQuoteUsesDoubleQuotesAsCpDoes) {
  EXPECT_EQ(quote("it's"), "\"it's\"");
  // With a character double quotes would expand, the quote is escaped instead.
  EXPECT_EQ(quote("it's $HOME"), "'it'\\''s $HOME'");
}

TEST(Quote, ControlCharactersAndInvalidBytesBecomeDollarEscapes) {
  EXPECT_EQ(quote("a\nb"), "'a'$'\\n''b'");
  EXPECT_EQ(quote("a\tb"), "'a'$'\\t''b'");
  EXPECT_EQ(quote("x\xffy"), "'x'$'\\377''y'");
  EXPECT_EQ(quote("\n"), "$'\\n'");
  EXPECT_EQ(quote("a\x01"), "'a'$'\\001'");
  // A lone UTF-8 lead byte, an overlong form and a surrogate are all invalid.
  EXPECT_EQ(quote("\xc3"), "$'\\303'");
  EXPECT_EQ(quote("\xc0\xaf"), "$'\\300'$'\\257'");
  EXPECT_EQ(quote("\xed\xa0\x80"), "$'\\355'$'\\240'$'\\200'");
}

TEST(EscapeName, KeepsUtf8AndEscapesTheRestReversibly) {
  EXPECT_EQ(escape_name("plain"), "plain");
  EXPECT_EQ(escape_name("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(escape_name("x\xffy"), "x\\xffy");
  EXPECT_EQ(escape_name("back\\slash"), "back\\\\slash");
  EXPECT_EQ(escape_name("\\xff"), "\\\\xff");  // a name that looks like an escape stays apart
  for (const std::string name : {"x\xffy", "back\\slash", "\\xff", "a\nb\x80\\\\", "\xc3", ""})
    EXPECT_EQ(unescape_name(escape_name(name)), name) << escape_name(name);
}

}  // namespace
}  // namespace ccopy::cli
