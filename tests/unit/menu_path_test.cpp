// Tab completion and the directory checks, on a scratch directory holding two directories
// with a common prefix, one more, a file, a hidden directory and a symlink to a directory.
#include "menu_path.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test_dir.hpp"

namespace ccopy::cli::menu {
namespace {

namespace fs = std::filesystem;

class MenuPath : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    for (const char* d : {"alpha1", "alpha2", "beta", ".hidden"})
      fs::create_directory(root() + "/" + d);
    std::ofstream(root() + "/file.txt") << "x";
    fs::create_directory_symlink(root() + "/beta", root() + "/link-to-beta");
  }
  [[nodiscard]] const std::string& root() const { return dir_.path(); }

 private:
  testing::TestDir dir_;
};

TEST_F(MenuPath, CompletesTheOneMatchingDirectoryWithASlash) {
  const Completion c = complete_path(root() + "/be", PathKind::directories);
  EXPECT_EQ(c.text, root() + "/beta/");
  EXPECT_EQ(c.matches, 1u);
  EXPECT_TRUE(c.candidates.empty());
}

TEST_F(MenuPath, CompletesSeveralToTheirCommonPrefixAndListsThem) {
  const Completion c = complete_path(root() + "/al", PathKind::directories);
  EXPECT_EQ(c.text, root() + "/alpha");
  EXPECT_EQ(c.matches, 2u);
  EXPECT_EQ(c.candidates, (std::vector<std::string>{"alpha1/", "alpha2/"}));
}

TEST_F(MenuPath, LeavesTheInputAsItIsWhenNothingMatches) {
  const Completion c = complete_path(root() + "/zz", PathKind::directories);
  EXPECT_EQ(c.text, root() + "/zz");
  EXPECT_EQ(c.matches, 0u);
}

TEST_F(MenuPath, DirectoriesOnlySkipsFilesAnyTakesThem) {
  EXPECT_EQ(complete_path(root() + "/fi", PathKind::directories).matches, 0u);
  const Completion c = complete_path(root() + "/fi", PathKind::any);
  EXPECT_EQ(c.text, root() + "/file.txt");
}

TEST_F(MenuPath, ASymlinkToADirectoryIsADirectory) {
  EXPECT_EQ(complete_path(root() + "/li", PathKind::directories).text, root() + "/link-to-beta/");
}

TEST_F(MenuPath, ATrailingSlashListsTheDirectoryWithoutItsHiddenEntries) {
  const Completion c = complete_path(root() + "/", PathKind::directories);
  EXPECT_EQ(c.text, root() + "/");
  EXPECT_EQ(c.candidates,
            (std::vector<std::string>{"alpha1/", "alpha2/", "beta/", "link-to-beta/"}));
}

TEST_F(MenuPath, HiddenEntriesMatchWhenTheDotIsTyped) {
  EXPECT_EQ(complete_path(root() + "/.h", PathKind::directories).text, root() + "/.hidden/");
}

TEST_F(MenuPath, ANameWithoutASlashIsInTheCurrentDirectory) {
  const fs::path before = fs::current_path();
  fs::current_path(root());
  const Completion c = complete_path("be", PathKind::directories);
  fs::current_path(before);
  EXPECT_EQ(c.text, "beta/");
}

TEST_F(MenuPath, TildeIsTheHomeDirectoryAndStaysAsTyped) {
  const std::string old_home = std::getenv("HOME") != nullptr ? std::getenv("HOME") : "";
  ::setenv("HOME", root().c_str(), 1);
  const Completion c = complete_path("~/al", PathKind::directories);
  EXPECT_EQ(expand_home("~/beta"), root() + "/beta");
  EXPECT_EQ(expand_home("~"), root());
  EXPECT_EQ(expand_home("~user/x"), "~user/x");
  ::setenv("HOME", old_home.c_str(), 1);
  EXPECT_EQ(c.text, "~/alpha");
  EXPECT_EQ(c.candidates.size(), 2u);
}

TEST_F(MenuPath, AReadableDirectoryPasses) {
  EXPECT_EQ(check_readable_directory(root() + "/beta"), "");
}

TEST_F(MenuPath, AMissingPathAFileAndNothingAreRefused) {
  EXPECT_EQ(check_readable_directory(root() + "/gone"),
            root() + "/gone: No such file or directory");
  EXPECT_EQ(check_readable_directory(root() + "/file.txt"), root() + "/file.txt: not a directory");
  EXPECT_EQ(check_readable_directory(""), "no directory given");
}

TEST_F(MenuPath, ADirectoryThatCannotBeListedIsRefused) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every directory";
  fs::permissions(root() + "/alpha1", fs::perms::none);
  EXPECT_EQ(check_readable_directory(root() + "/alpha1"), root() + "/alpha1: Permission denied");
  fs::permissions(root() + "/alpha1", fs::perms::owner_all);
}

TEST_F(MenuPath, WritableDirectories) {
  EXPECT_EQ(check_writable_directory(root()), "");
  EXPECT_EQ(check_writable_directory(root() + "/file.txt"), root() + "/file.txt: Not a directory");
  EXPECT_EQ(check_writable_directory(root() + "/gone"),
            root() + "/gone: No such file or directory");
}

TEST_F(MenuPath, LiesInsideResolvesLinksAndDotsAndNotMerePrefixes) {
  EXPECT_TRUE(lies_inside(root() + "/beta", root()));
  EXPECT_TRUE(lies_inside(root(), root() + "/"));
  EXPECT_TRUE(lies_inside(root() + "/link-to-beta", root() + "/beta"));
  EXPECT_FALSE(lies_inside(root() + "/alpha1/../beta", root() + "/alpha1"));
  EXPECT_FALSE(lies_inside(root() + "/alpha12", root() + "/alpha1"));
  EXPECT_FALSE(lies_inside(root(), root() + "/beta"));
}

}  // namespace
}  // namespace ccopy::cli::menu
