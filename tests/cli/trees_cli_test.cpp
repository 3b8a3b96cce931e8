// Trees on the real binary: -src copies the user's tree with every engine and verifies it as a
// tree, -tree generates the shapes (each scenario of a sweep from its own seed), and what cannot
// run is refused before anything is written, with exit 2 and the problem named.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "process.hpp"
#include "test_dir.hpp"

namespace ccopy {
namespace {

namespace fs = std::filesystem;
using testing::entries_in;
using testing::file_text;
using testing::ProcessResult;
using testing::run_binary;
using testing::TestDir;

// A small tree of every kind of entry a user's directory holds.
void make_tree(const std::string& root) {
  fs::create_directories(root + "/a/b/c");
  fs::create_directories(root + "/empty");
  std::ofstream(root + "/a/one") << "one";
  std::ofstream(root + "/a/b/c/deep") << std::string(100000, 'x');
  std::ofstream(root + "/name with space") << "";
  fs::create_symlink("a/one", root + "/link");
  fs::create_symlink("missing", root + "/dangling");
  fs::create_hard_link(root + "/a/one", root + "/a/b/hard");
}

TEST(SrcTree, EveryEngineCopiesAndVerifiesTheUsersTree) {
  TestDir src, dir, out;
  make_tree(src.path() + "/t");
  const std::string json = out.path() + "/r.json";
  const ProcessResult r = run_binary({"-src", src.path() + "/t", "-mode", "all", "-runs", "1",
                                      "-warmup", "0", "-dir", dir.path(), "-json", json, "-quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Tree: " + src.path() + "/t (-src): 3 files, 5 directories, 2 symlinks, "
                                               "1 hardlink, "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\nVerification: OK\n"), std::string::npos) << r.out;
  const nlohmann::json doc = nlohmann::json::parse(file_text(json));
  const nlohmann::json& s = doc["scenarios"][0];
  EXPECT_EQ(s["kind"], "source");
  EXPECT_EQ(s["source"], src.path() + "/t");
  EXPECT_EQ(s["tree"]["files"], 3);
  EXPECT_EQ(s["tree"]["hardlinks"], 1);
  EXPECT_GE(s["engines"].size(), 2u);
  for (const auto& e : s["engines"]) EXPECT_EQ(e["verified"], true) << e["label"];
  EXPECT_EQ(entries_in(dir.path()), 0u) << "the workspace was left";
  EXPECT_EQ(entries_in(src.path() + "/t"), 5u) << "the source changed";
}

TEST(SrcTree, TwoTreesAreASweep) {
  TestDir a, b, dir;
  make_tree(a.path() + "/t");
  fs::create_directories(b.path() + "/u/v");
  std::ofstream(b.path() + "/u/v/w") << "w";
  const ProcessResult r = run_binary({"-src", a.path() + "/t", "-src", b.path() + "/u", "-mode",
                                      "threads", "-runs", "1", "-warmup", "0", "-dir", dir.path(),
                                      "-quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Tree: " + a.path() + "/t (-src)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Tree: " + b.path() + "/u (-src): 1 file, 2 directories"), std::string::npos)
      << r.out;
}

TEST(GeneratedTree, EachScenarioOfASweepHasItsOwnSeed) {
  TestDir dir;
  const ProcessResult r =
      run_binary({"-tree", "linux,node_modules", "-tree-scale", "0.01", "-seed", "7", "-mode",
                  "uring,threads", "-runs", "1", "-warmup", "0", "-dir", dir.path(), "-quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Tree: linux@0.01 (generated, seed 7): 786 files, "), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Tree: node_modules@0.01 (generated, seed 8): "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nVerification: OK\n"), std::string::npos) << r.out;
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

// -dst-dir on another file system than -dir (the test directory is a tmpfs, the copies go to a
// directory under /tmp or, failing a different file system there, the test is skipped): the
// copy across file systems takes the EXDEV path, says so, verifies, and leaves nothing in
// either directory.
TEST(DstDir, CopiesAcrossFileSystemsAndSaysSo) {
  TestDir dir;
  const std::string other_parent = "/var/tmp";
  struct ::stat a {}, b {};
  if (::stat(dir.path().c_str(), &a) != 0 || ::stat(other_parent.c_str(), &b) != 0 ||
      a.st_dev == b.st_dev)
    GTEST_SKIP() << other_parent << " is not on another file system than " << dir.path();
  char name[] = "/var/tmp/ccopy-dst-XXXXXX";
  ASSERT_NE(::mkdtemp(name), nullptr);
  const std::string dst = name;
  const ProcessResult r =
      run_binary({"-tree", "node_modules", "-tree-scale", "0.01", "-dir", dir.path(), "-dst-dir",
                  dst, "-mode", "kernel,threads", "-runs", "1", "-warmup", "0", "-quiet"});
  const std::size_t left = entries_in(dst);
  ::rmdir(dst.c_str());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\nCopies in: " + dst + " ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("note (kernel): copy_file_range refused (EXDEV, "), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\nVerification: OK\n"), std::string::npos) << r.out;
  EXPECT_EQ(entries_in(dir.path()), 0u);
  EXPECT_EQ(left, 0u) << "copies were left in -dst-dir";
}

struct Refusal {
  std::vector<std::string> args;  // SRC, FILE and DIR stand for test paths
  std::string message;            // the line after "concurrent_copy: "
};

void PrintTo(const Refusal& c, std::ostream* os) {
  for (const std::string& a : c.args) *os << a << ' ';
}

class TreeRefusals : public ::testing::TestWithParam<Refusal> {};

TEST_P(TreeRefusals, AreExitTwoBeforeAnythingIsWritten) {
  TestDir base;
  const std::string src = base.path() + "/src", dir = base.path() + "/src/inside";
  fs::create_directories(dir);
  std::ofstream(base.path() + "/file") << "f";
  std::vector<std::string> args;
  const auto expand = [&](std::string text) {
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"SRC", src},
                                   {"FILE", base.path() + "/file"},
                                   {"DIR", dir},
                                   {"MISSING", base.path() + "/missing"}}) {
      for (std::size_t at; (at = text.find(from)) != std::string::npos;)
        text.replace(at, from.size(), to);
    }
    return text;
  };
  for (const std::string& a : GetParam().args) args.push_back(expand(a));
  const ProcessResult r = run_binary(args);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(r.err.rfind("concurrent_copy: " + expand(GetParam().message) + "\n", 0), 0u) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(entries_in(dir), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TreeRefusals,
    ::testing::Values(
        Refusal{{"-src", "MISSING"}, "-src MISSING: No such file or directory"},
        Refusal{{"-src", "FILE"}, "-src FILE: Not a directory"},
        Refusal{{"-src", "SRC", "-src", "SRC/"}, "-src SRC/ is given twice"},
        Refusal{{"-src", "SRC", "-dir", "DIR"},
                "the workspace in DIR would lie inside -src SRC: give a -dir (and -dst-dir) "
                "outside the tree to copy"},
        Refusal{{"-src", "SRC", "-tree", "linux"},
                "-src and -tree cannot be combined: copy one or the other"},
        Refusal{{"-tree", "oak"},
                "-tree: unknown shape 'oak' (expected flat, linux, node_modules, impressions, "
                "photos, mixed)"},
        Refusal{{"-tree", "linux", "-files", "3"},
                "-files goes with -tree flat, not with -tree linux"}));

}  // namespace
}  // namespace ccopy
