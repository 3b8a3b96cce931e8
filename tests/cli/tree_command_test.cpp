// `concurrent_copy tree SHAPE DIR` on the real binary: it writes what the benchmark generates
// (the same recipe, the same tree), refuses what it cannot do with the exit codes of the
// benchmark, and leaves nothing when it fails or is interrupted.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "process.hpp"
#include "test_dir.hpp"

namespace ccopy {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::entries_in;
using testing::Process;
using testing::ProcessResult;
using testing::run_binary;
using testing::TestDir;

// Every entry below `root`, sorted: its relative path, its type, and for a file its bytes, for
// a symlink its target.
std::string listing(const fs::path& root) {
  std::vector<std::string> lines;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const fs::path rel = fs::relative(it->path(), root);
    std::string line = rel.string();
    if (it->is_symlink()) {
      line += " -> " + fs::read_symlink(it->path()).string();
    } else if (it->is_regular_file()) {
      std::ifstream in(it->path(), std::ios::binary);
      std::ostringstream bytes;
      bytes << in.rdbuf();
      line += " file " + std::to_string(std::hash<std::string>{}(bytes.str())) + " " +
              std::to_string(bytes.str().size());
    } else if (it->is_directory()) {
      line += " dir";
    }
    lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

TEST(TreeCommand, WritesTheTreeAndDescribesIt) {
  TestDir dir;
  const std::string where = dir.path() + "/t";
  const ProcessResult r = run_binary({"tree", "linux", where, "-tree-scale", "0.01"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.rfind(where + ": linux tree, seed 24301, scale 0.01: ", 0), 0u) << r.out;
  std::size_t files = 0, links = 0;
  for (const auto& e : fs::recursive_directory_iterator(where)) {
    files += e.is_regular_file() && !e.is_symlink();
    links += e.is_symlink();
  }
  EXPECT_GT(files, 100u);
  EXPECT_GE(links, 1u) << "a scaled linux tree keeps a symlink";
  EXPECT_NE(r.out.find(std::to_string(files) + " files, "), std::string::npos) << r.out;
}

TEST(TreeCommand, TheSameRecipeGivesTheSameTreeAndAnotherSeedAnother) {
  TestDir dir;
  std::vector<std::string> a{"tree", "node_modules", dir.path() + "/a", "-tree-scale=0.02"};
  std::vector<std::string> b = a, c = a;
  b[2] = dir.path() + "/b";
  c[2] = dir.path() + "/c";
  c.push_back("-seed=7");
  for (const std::vector<std::string>* args : {&a, &b, &c}) ASSERT_EQ(run_binary(*args).exit_code, 0);
  const std::string la = listing(dir.path() + "/a");
  EXPECT_FALSE(la.empty());
  EXPECT_EQ(la, listing(dir.path() + "/b"));
  EXPECT_NE(la, listing(dir.path() + "/c"));
}

TEST(TreeCommand, FlatTakesFilesAndSize) {
  TestDir dir;
  const ProcessResult r = run_binary({"tree", "flat", dir.path() + "/f", "-files", "3", "-size", "5K"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(entries_in(dir.path() + "/f"), 3u);
  EXPECT_EQ(fs::file_size(dir.path() + "/f/file_000001"), 5u * 1024);
}

TEST(TreeCommand, AnExistingDirectoryIsRefusedAndLeftAsItWas) {
  TestDir dir;
  const std::string where = dir.path() + "/kept";
  ASSERT_TRUE(fs::create_directory(where));
  std::ofstream(where + "/mine") << "mine";
  const ProcessResult r = run_binary({"tree", "photos", where});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "concurrent_copy: cannot create '" + where +
                       "': File exists (the tree goes into a new directory)\n");
  EXPECT_EQ(entries_in(where), 1u);
}

struct UsageCase {
  std::vector<std::string> args;
  std::string message;
};

void PrintTo(const UsageCase& c, std::ostream* os) {
  for (const std::string& a : c.args) *os << a << ' ';
}

class TreeUsage : public ::testing::TestWithParam<UsageCase> {};

TEST_P(TreeUsage, IsExitTwoWithTheProblemNamed) {
  TestDir dir;
  std::vector<std::string> args{"tree"};
  for (const std::string& a : GetParam().args) args.push_back(a == "DIR" ? dir.path() + "/t" : a);
  const ProcessResult r = run_binary(args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("concurrent_copy: tree: " + GetParam().message + "\n", 0), 0u) << r.err;
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TreeUsage,
    ::testing::Values(UsageCase{{}, "a SHAPE and a DIR are needed"},
                      UsageCase{{"linux"}, "a SHAPE and a DIR are needed"},
                      UsageCase{{"linux", "DIR", "extra"}, "unexpected 'extra'"},
                      UsageCase{{"lnux", "DIR"},
                                "unknown shape 'lnux' (expected flat, linux, node_modules, "
                                "impressions, photos)"},
                      UsageCase{{"linux", "DIR", "-files", "3"},
                                "-files and -size go with the flat shape only"},
                      UsageCase{{"linux", "DIR", "-tree-scale", "0"},
                                "-tree-scale: '0' is not a number from 0.001 to 100"},
                      UsageCase{{"flat", "DIR", "-size", "lots"},
                                "-size: 'lots' is not a size (4K, 1M, 4096)"},
                      UsageCase{{"flat", "DIR", "-seed"}, "-seed: a value is needed"},
                      UsageCase{{"flat", "DIR", "-colour"}, "unknown option '-colour'"}));

TEST(TreeCommand, HelpDescribesTheCommand) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"help", "tree"}, std::vector<std::string>{"tree", "--help"}}) {
    const ProcessResult r = run_binary(args);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.rfind("Usage: concurrent_copy tree [OPTIONS] SHAPE DIR\n", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("-tree-scale F"), std::string::npos);
  }
}

// Interrupted while it writes (a tree of 2 GiB of photos), the process removes what it wrote
// and dies of the signal.
TEST(TreeCommand, InterruptedItRemovesThePartialTree) {
  for (const int sig : {SIGINT, SIGTERM}) {
    TestDir dir;
    const std::string where = dir.path() + "/p";
    Process p(CCOPY_BINARY, {"tree", "photos", where});
    // The moment: the first file has bytes in it.
    bool started = false;
    for (auto end = std::chrono::steady_clock::now() + 30s;
         !started && std::chrono::steady_clock::now() < end;) {
      std::error_code ec;
      for (auto it = fs::recursive_directory_iterator(where, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec) && it->file_size(ec) > 0) started = true;
      if (!started && p.wait_for_output("\x01 never printed", 5ms)) break;  // it ended
    }
    ASSERT_TRUE(started) << "no file was written";
    ASSERT_EQ(::kill(p.pid(), sig), 0);
    const ProcessResult r = p.finish(30s);
    EXPECT_EQ(r.signal, sig) << r.exit_code << r.err;
    EXPECT_NE(r.err.find("concurrent_copy: stopped; the partial tree '" + where + "' was removed\n"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(where));
  }
}

}  // namespace
}  // namespace ccopy
