// `concurrent_copy copy` as a user runs it: the real binary, judged against GNU cp itself and
// against what docs/copy.md promises. Tests that need root (another user, mounts, devices)
// skip without it.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <linux/fiemap.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>

#include <optional>
#include <cstring>
#include <regex>

#include "ccopy/tree.hpp"
#include "copy/copy_support.hpp"
#include "test_dir.hpp"
#include "tree_fixture.hpp"

namespace ccopy {
namespace {

using testing::CreationWatch;
using testing::ProcessResult;
using testing::read_file;
using testing::run_copy;
using testing::run_copy_as_nobody;
using testing::run_cp;
using testing::TestDir;
using testing::tree_differences;
using testing::write_file;
namespace fs = std::filesystem;

#define SKIP_UNLESS_ROOT() \
  if (!testing::is_root()) GTEST_SKIP() << "needs root (another user, mounts or devices)"

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The mixed tree (every kind of entry a copier meets) with what only root can give it: files
// of another owner, extended attributes on a file and a directory, and without `deep/`, which
// cp cannot copy (its paths exceed PATH_MAX).
struct MixedTree {
  testing::TreeFixture tree{[] {
    TreeRecipe recipe;
    recipe.shape = Shape::mixed;
    recipe.seed = 14;
    return recipe;
  }()};
  std::string error;

  explicit MixedTree(bool keep_deep) {
    if (!tree.ok()) {
      error = tree.error();
      return;
    }
    const std::string src = tree.source();
    if (!keep_deep && testing::run_program("/usr/bin/rm", {"-rf", src + "/deep"}).exit_code != 0)
      error = "rm -rf deep";
    if (::setxattr((src + "/sizes/one").c_str(), "user.colour", "blue", 4, 0) != 0 ||
        ::setxattr((src + "/sizes").c_str(), "user.kind", "dir", 3, 0) != 0)
      error = std::string("setxattr: ") + std::strerror(errno);
    if (testing::is_root() && ::lchown((src + "/sizes/zero").c_str(), 1234, 5678) != 0)
      error = std::string("chown: ") + std::strerror(errno);
  }
  [[nodiscard]] std::string source() const { return tree.source(); }
  [[nodiscard]] std::string directory() const { return tree.directory(); }
};

// ---- The listing that judges copies: each kind of difference is found ----

TEST(Listing, FindsEachKindOfDifference) {
  TestDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string a = dir.path() + "/a", b = dir.path() + "/b";
  ASSERT_EQ(::mkdir(a.c_str(), 0755), 0);
  for (const char* f : {"mode", "time", "xattr", "bytes", "link1", "sparse"})
    write_file(a + "/" + f, "content");
  ASSERT_EQ(::link((a + "/link1").c_str(), (a + "/link2").c_str()), 0);
  ASSERT_EQ(::symlink("mode", (a + "/sym").c_str()), 0);
  ASSERT_EQ(::truncate((a + "/sparse").c_str(), 1 << 20), 0);
  ASSERT_EQ(run_cp({"-a", a, b}).exit_code, 0);
  ASSERT_EQ(tree_differences(a, b), "");
  ASSERT_EQ(::chmod((b + "/mode").c_str(), 0600), 0);
  const timespec times[2] = {{0, UTIME_OMIT}, {1000, 1}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (b + "/time").c_str(), times, 0), 0);
  ASSERT_EQ(::setxattr((b + "/xattr").c_str(), "user.x", "1", 1, 0), 0);
  write_file(b + "/bytes", "content!");
  ASSERT_EQ(::unlink((b + "/link2").c_str()), 0);
  write_file(b + "/link2", "content");
  ASSERT_EQ(::unlink((b + "/sym").c_str()), 0);
  ASSERT_EQ(::symlink("time", (b + "/sym").c_str()), 0);
  const std::string zeros((1 << 20) - 7, '\0');
  const int fd = ::open((b + "/sparse").c_str(), O_WRONLY);
  ASSERT_EQ(::pwrite(fd, zeros.data(), zeros.size(), 7), static_cast<ssize_t>(zeros.size()));
  ::close(fd);
  ASSERT_EQ(::utimensat(AT_FDCWD, (b + "/sparse").c_str(), nullptr, 0), 0);
  const std::string d = tree_differences(a, b);
  for (const char* what :
       {"mode: mode 0644 vs 0600", "time: mtime", "xattr: xattrs", "bytes: size 7 vs 8",
        "link1: hardlink group", "sym: target mode vs time", "sparse: blocks"})
    EXPECT_TRUE(contains(d, what)) << what << " not found in\n" << d;
}

// ---- The same result as cp -a, with every engine ----

class AgainstCp : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    if (std::string why = testing::engine_unavailable(GetParam(), dir_.path()); !why.empty())
      GTEST_SKIP() << "the " << GetParam() << " engine cannot run here: " << why;
  }
  // Copies `source` with cp -a and with copy -a, and compares the two results entry by entry.
  void same_as_cp(const std::string& source, const std::string& scratch, std::size_t entries = 10) {
    const ProcessResult cp = run_cp({"-a", source, scratch + "/by-cp"});
    ASSERT_EQ(cp.exit_code, 0) << cp.err;
    const ProcessResult ours = run_copy({"-a", "--engine", GetParam(), "--json",
                                         scratch + "/summary.json", source, scratch + "/by-copy"});
    ASSERT_EQ(ours.exit_code, 0) << ours.err;
    EXPECT_EQ(ours.out, "") << "a successful copy prints nothing on stdout";
    testing::Listing listing;
    ASSERT_EQ(testing::list_tree(scratch + "/by-cp", listing), "");
    ASSERT_GE(listing.size(), entries);
    EXPECT_EQ(tree_differences(scratch + "/by-cp", scratch + "/by-copy"), "");
    const nlohmann::json summary = testing::read_json(scratch + "/summary.json");
    ASSERT_TRUE(summary.is_object());
    EXPECT_EQ(summary["engine"], GetParam());
    EXPECT_EQ(summary["failed"], 0);
    EXPECT_EQ(summary["exit_code"], 0);
  }
  TestDir dir_;
};

TEST_P(AgainstCp, UsrInclude) {
  if (!fs::is_directory("/usr/include")) GTEST_SKIP() << "no /usr/include";
  same_as_cp("/usr/include", dir_.path());
}

TEST_P(AgainstCp, MixedTree) {
  const MixedTree mixed(false);
  ASSERT_EQ(mixed.error, "");
  same_as_cp(mixed.source(), mixed.directory());
}

// The whole mixed tree, deep/ too (beyond PATH_MAX, where cp 9.1 fails): the copy is its
// source entry for entry.
TEST_P(AgainstCp, MixedTreeDeeperThanPathMaxEqualsItsSource) {
  const MixedTree mixed(true);
  ASSERT_EQ(mixed.error, "");
  const std::string copy = mixed.directory() + "/by-copy";
  const ProcessResult r = run_copy({"-a", "--engine", GetParam(), mixed.source(), copy});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  testing::Listing listing;
  ASSERT_EQ(testing::list_tree(copy, listing), "");
  bool deep = false;
  for (const auto& [path, entry] : listing) deep = deep || path.size() > PATH_MAX;
  EXPECT_TRUE(deep) << "the copy holds a path longer than PATH_MAX";
  EXPECT_EQ(tree_differences(mixed.source(), copy), "");
}

TEST_P(AgainstCp, SpecialFiles) {
  SKIP_UNLESS_ROOT();
  const std::string src = dir_.path() + "/src";
  ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
  ASSERT_EQ(::mkfifo((src + "/fifo").c_str(), 0640), 0);
  ASSERT_EQ(::mknod((src + "/null").c_str(), S_IFCHR | 0666, ::makedev(1, 3)), 0);
  ASSERT_EQ(::mknod((src + "/block").c_str(), S_IFBLK | 0600, ::makedev(7, 200)), 0);
  const int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string sock_path = src + "/socket";
  ASSERT_LT(sock_path.size(), sizeof addr.sun_path);
  std::memcpy(addr.sun_path, sock_path.c_str(), sock_path.size() + 1);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(sock);
  write_file(src + "/file", "data");
  same_as_cp(src, dir_.path(), 6);
}

INSTANTIATE_TEST_SUITE_P(Engines, AgainstCp, ::testing::Values("threads", "kernel", "uring", "uv"),
                         [](const auto& param_info) { return param_info.param; });

// ---- Usage errors: exit 2, the message, the hint ----

struct UsageCase {
  std::vector<std::string> args;
  std::string message;
};

class UsageErrors : public ::testing::TestWithParam<UsageCase> {};

TEST_P(UsageErrors, ExitTwoWithTheMessage) {
  const ProcessResult r = run_copy(GetParam().args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "concurrent_copy: " + GetParam().message +
                       "\nTry 'concurrent_copy copy --help' for more information.\n");
  EXPECT_EQ(r.out, "");
}

INSTANTIATE_TEST_SUITE_P(
    Copy, UsageErrors,
    ::testing::Values(
        UsageCase{{}, "missing file operand"},
        UsageCase{{"a"}, "missing destination file operand after 'a'"},
        UsageCase{{"-z", "a", "b"}, "invalid option -- 'z'"},
        UsageCase{{"--bogus", "a", "b"}, "unrecognized option '--bogus'"},
        UsageCase{{"a", "b", "--json"}, "option '--json' requires an argument"},
        UsageCase{{"--verbose=yes", "a", "b"}, "option '--verbose' doesn't allow an argument"},
        UsageCase{{"--no", "a", "b"}, "option '--no' is ambiguous"},
        UsageCase{{"--json=", "a", "b"}, "--json: empty value"},
        UsageCase{{"-j0", "a", "b"}, "--jobs: 0 is out of range (1 to 4096)"},
        UsageCase{{"--engine=fast", "a", "b"},
                  "--engine: unknown engine 'fast' (expected auto, uring, uv, threads, kernel)"},
        UsageCase{{"--sparse=maybe", "a", "b"},
                  "--sparse: 'maybe' is not one of auto, always, never"},
        UsageCase{{"--preserve=colour", "a", "b"},
                  "--preserve: unknown attribute 'colour' (expected mode, ownership, timestamps, "
                  "xattr, links or all)"},
        UsageCase{{"-t", "d", "-T", "a"},
                  "cannot combine --target-directory (-t) and --no-target-directory (-T)"}),
    [](const auto& param_info) { return "case" + std::to_string(param_info.index); });

// ---- Refusals with cp's own wording, exit 1 ----

// The message after "cp: " and after "concurrent_copy: " must be the same.
void same_refusal_as_cp(const std::vector<std::string>& args, const std::string& cwd) {
  testing::SpawnOptions in_dir;
  in_dir.cwd = cwd;
  std::vector<std::string> copy_args{"copy"};
  copy_args.insert(copy_args.end(), args.begin(), args.end());
  const ProcessResult ours = testing::run_binary(copy_args, in_dir);
  testing::Process cp_process(
      "/usr/bin/cp",
      [&] {
        std::vector<std::string> a{"-r"};
        a.insert(a.end(), args.begin(), args.end());
        return a;
      }(),
      in_dir);
  const ProcessResult cp = cp_process.finish(std::chrono::seconds(30));
  EXPECT_EQ(cp.exit_code, 1);
  EXPECT_EQ(ours.exit_code, 1) << ours.err;
  // cp names itself by its argv[0], here /usr/bin/cp.
  ASSERT_EQ(cp.err.rfind("/usr/bin/cp: ", 0), 0u) << cp.err;
  const std::string cp_line = cp.err.substr(13, cp.err.find('\n') - 13);
  ASSERT_EQ(ours.err.rfind("concurrent_copy: ", 0), 0u) << ours.err;
  const std::string our_line = ours.err.substr(17, ours.err.find('\n') - 17);
  EXPECT_EQ(our_line, cp_line);
}

class Refusals : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    ASSERT_EQ(::mkdir((dir_.path() + "/a").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((dir_.path() + "/a/b").c_str(), 0755), 0);
    write_file(dir_.path() + "/f", "f");
    write_file(dir_.path() + "/g", "g");
  }
  TestDir dir_;
};

TEST_F(Refusals, DirectoryIntoItself) {
  // Refused before anything is made (cp itself makes a/b/a before refusing).
  const ProcessResult r = run_copy({dir_.path() + "/a", dir_.path() + "/a/b"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(fs::exists(dir_.path() + "/a/b/a"));
  same_refusal_as_cp({"a", "a/b"}, dir_.path());
}

TEST_F(Refusals, DirectoryOntoItself) { same_refusal_as_cp({"-T", "a", "a"}, dir_.path()); }

TEST_F(Refusals, DirectoryIntoItselfQuotedAsCpQuotes) {
  ASSERT_EQ(::mkdir((dir_.path() + "/it's").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((dir_.path() + "/it's/b").c_str(), 0755), 0);
  same_refusal_as_cp({"it's", "it's/b"}, dir_.path());
}

TEST_F(Refusals, FileOntoItself) { same_refusal_as_cp({"f", "a/../f"}, dir_.path()); }

TEST_F(Refusals, TargetDirectoryThatIsAFile) { same_refusal_as_cp({"-t", "f", "g"}, dir_.path()); }

TEST_F(Refusals, TargetDirectoryMissing) {
  same_refusal_as_cp({"-t", "missing", "g"}, dir_.path());
}

TEST_F(Refusals, DirectoryIntoItselfThroughAnotherName) {
  // The same directory by another path: devices and inodes are compared, not strings.
  ASSERT_EQ(::symlink("a", (dir_.path() + "/alias").c_str()), 0);
  const ProcessResult r = run_copy({dir_.path() + "/a", dir_.path() + "/alias/b"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "into itself")) << r.err;
  EXPECT_FALSE(fs::exists(dir_.path() + "/a/b/a"));
}

TEST_F(Refusals, SeveralSourcesToAFile) {
  same_refusal_as_cp({"f", "g", "a/b/../../f"}, dir_.path());
}

TEST_F(Refusals, SeveralSourcesToAMissingTarget) {
  same_refusal_as_cp({"f", "g", "missing"}, dir_.path());
}

TEST_F(Refusals, MissingSource) {
  const ProcessResult r = run_copy({dir_.path() + "/nope", dir_.path() + "/x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "concurrent_copy: cannot copy '" + dir_.path() +
                       "/nope': stat: No such file or directory\n"
                       "concurrent_copy: 1 entry could not be copied\n");
  EXPECT_FALSE(fs::exists(dir_.path() + "/x"));
}

// ---- Per-file failures: one line each, the rest copied, exit 1 ----

// A source directory given to nobody, holding `ok` and what the test adds.
class AsNobody : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_UNLESS_ROOT();
    ASSERT_TRUE(dir_.ok());
    ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
    src_ = dir_.path() + "/src";
    dst_ = dir_.path() + "/dst";
    ASSERT_EQ(::mkdir(src_.c_str(), 0755), 0);
    write_file(src_ + "/ok", "fine");
  }
  // Gives everything to nobody, then applies the modes the test asked for (chown -R keeps
  // modes, but the 0000 entries must be set after: chown needs to reach them).
  void give_away() { ASSERT_TRUE(testing::give_to_nobody(dir_.path())); }
  TestDir dir_;
  std::string src_, dst_;
};

TEST_F(AsNobody, UnreadableFileAndDirectory) {
  write_file(src_ + "/secret", "hidden");
  ASSERT_EQ(::mkdir((src_ + "/locked").c_str(), 0755), 0);
  write_file(src_ + "/locked/inside", "x");
  give_away();
  ASSERT_EQ(::chmod((src_ + "/secret").c_str(), 0), 0);
  ASSERT_EQ(::chmod((src_ + "/locked").c_str(), 0), 0);
  const ProcessResult r = run_copy_as_nobody({"-a", src_, dst_});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(contains(
      r.err, "concurrent_copy: cannot copy '" + src_ + "/secret': open: Permission denied\n"))
      << r.err;
  EXPECT_TRUE(std::regex_search(r.err, std::regex("concurrent_copy: cannot copy '" + src_ +
                                                  "/locked': [a-z]+: Permission denied\n")))
      << r.err;
  EXPECT_TRUE(contains(r.err, "concurrent_copy: 2 entries could not be copied\n")) << r.err;
  EXPECT_EQ(read_file(dst_ + "/ok"), "fine");
  EXPECT_FALSE(fs::exists(dst_ + "/secret")) << "no partial file for an unreadable source";
}

TEST_F(AsNobody, DestinationNotWritable) {
  write_file(src_ + "/other", "more");
  ASSERT_EQ(::mkdir(dst_.c_str(), 0755), 0);
  give_away();
  ASSERT_EQ(::chmod(dst_.c_str(), 0555), 0);
  const ProcessResult r = run_copy_as_nobody({src_ + "/ok", src_ + "/other", dst_});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "concurrent_copy: cannot copy '" + src_ + "/ok': create '" + dst_ +
                                  "/ok': Permission denied\n"))
      << r.err;
  EXPECT_TRUE(contains(r.err, "concurrent_copy: cannot copy '" + src_ + "/other': create '" + dst_ +
                                  "/other': Permission denied\n"))
      << r.err;
  EXPECT_TRUE(contains(r.err, "concurrent_copy: 2 entries could not be copied\n")) << r.err;
}

// A 0500 directory (its owner may not write in it) copies: made writable, its mode set last.
TEST_F(AsNobody, ReadOnlySourceDirectory) {
  ASSERT_EQ(::mkdir((src_ + "/ro").c_str(), 0755), 0);
  write_file(src_ + "/ro/file", "inside");
  ASSERT_EQ(::mkdir((src_ + "/ro/sub").c_str(), 0755), 0);
  give_away();
  ASSERT_EQ(::chmod((src_ + "/ro/sub").c_str(), 0500), 0);
  ASSERT_EQ(::chmod((src_ + "/ro").c_str(), 0500), 0);
  const ProcessResult r = run_copy_as_nobody({"-a", src_, dst_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(tree_differences(src_, dst_), "");
  const ProcessResult cp = run_cp({"-a", src_, dir_.path() + "/by-cp"}, true);
  EXPECT_EQ(cp.exit_code, 0) << cp.err;
  EXPECT_EQ(tree_differences(dir_.path() + "/by-cp", dst_), "");
}

TEST_F(AsNobody, DeviceIsAnEntrysErrorWithoutRoot) {
  ASSERT_EQ(::mkfifo((src_ + "/fifo").c_str(), 0644), 0);
  ASSERT_EQ(::mknod((src_ + "/null").c_str(), S_IFCHR | 0666, ::makedev(1, 3)), 0);
  give_away();
  const ProcessResult r = run_copy_as_nobody({"-a", src_, dst_});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "concurrent_copy: cannot copy '" + src_ + "/null': mknod '" + dst_ +
                                  "/null': Operation not permitted\n"))
      << r.err;
  EXPECT_TRUE(contains(r.err, "concurrent_copy: 1 entry could not be copied\n")) << r.err;
  struct ::stat st {};
  ASSERT_EQ(::lstat((dst_ + "/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(read_file(dst_ + "/ok"), "fine");
}

// Names that are not UTF-8 or hold a newline are quoted as cp quotes them (checked against
// cp's own message for the same file), and the JSON escapes them reversibly.
TEST_F(AsNobody, NamesQuotedAsCpQuotesThem) {
  const std::string odd = src_ + "/x\377y";
  const std::string newline = src_ + "/a\nb";
  write_file(odd, "1");
  write_file(newline, "2");
  give_away();
  ASSERT_EQ(::chmod(odd.c_str(), 0), 0);
  ASSERT_EQ(::chmod(newline.c_str(), 0), 0);
  const std::string json = dir_.path() + "/summary.json";
  const ProcessResult r = run_copy_as_nobody({"--json", json, src_, dst_});
  EXPECT_EQ(r.exit_code, 1);
  for (const std::string& name : {odd, newline}) {
    const ProcessResult cp = run_cp({name, dir_.path() + "/cp-out"}, true);
    const std::size_t from = cp.err.find("cannot open ");
    const std::size_t to = cp.err.find(" for reading");
    ASSERT_TRUE(from != std::string::npos && to != std::string::npos) << cp.err;
    const std::string quoted = cp.err.substr(from + 12, to - from - 12);
    EXPECT_TRUE(
        contains(r.err, "concurrent_copy: cannot copy " + quoted + ": open: Permission denied\n"))
        << "cp quotes it " << quoted << "\n"
        << r.err;
  }
  EXPECT_TRUE(contains(r.err, "'$'\\377''")) << r.err;
  const nlohmann::json summary = testing::read_json(json);
  ASSERT_TRUE(summary.is_object()) << read_file(json);
  std::vector<std::string> paths;
  for (const auto& e : summary["errors"]) paths.push_back(testing::unescape_name(e["path"]));
  std::sort(paths.begin(), paths.end());
  std::vector<std::string> expected{newline, odd};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(paths, expected);
  EXPECT_TRUE(contains(read_file(json), "x\\\\xffy")) << "the byte 0xff is written \\xff";
}

TEST(SymlinkLoop, DereferencedIsThatEntrysError) {
  TestDir dir;
  const std::string src = dir.path() + "/src";
  ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
  ASSERT_EQ(::symlink("loop", (src + "/loop").c_str()), 0);
  ASSERT_EQ(::symlink("../src", (src + "/up").c_str()), 0);
  write_file(src + "/file", "f");
  const ProcessResult r = run_copy({"-L", src, dir.path() + "/dst"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "concurrent_copy: cannot copy '" + src +
                                  "/loop': stat: Too many levels of symbolic links\n"))
      << r.err;
  EXPECT_EQ(read_file(dir.path() + "/dst/file"), "f");
}

// ---- ENOSPC: the copy stops, with the accounting ----

TEST(DestinationFull, StopsWithTheAccounting) {
  SKIP_UNLESS_ROOT();
  TestDir dir;
  ASSERT_TRUE(dir.ok());
  if (std::string why = testing::private_mounts(); !why.empty()) GTEST_SKIP() << why;
  const std::string small = dir.path() + "/small";
  ASSERT_EQ(::mkdir(small.c_str(), 0755), 0);
  ASSERT_EQ(::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=1m"), 0) << std::strerror(errno);
  const testing::UnmountAtEnd unmount{small};
  const std::string src = dir.path() + "/src";
  const std::string dst = small + "/dst";
  ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
  for (unsigned i = 0; i < 10; ++i)
    write_file(src + "/f" + std::to_string(i), testing::pattern(300 << 10, i));
  const std::string json = dir.path() + "/summary.json";
  const ProcessResult r = run_copy({"--json", json, src, dst});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "No space left on device\n")) << r.err;
  EXPECT_TRUE(contains(r.err,
                       "concurrent_copy: the copy stopped: the destination is full: No space "
                       "left on device\n"))
      << r.err;
  EXPECT_TRUE(std::regex_search(
      r.err, std::regex("concurrent_copy: [0-9]+ entr(y|ies) could not be copied\n")))
      << r.err;
  // What is there is complete; the file that did not fit is gone.
  std::size_t present = 0;
  for (const std::string& name : testing::names_in(dst)) {
    EXPECT_EQ(read_file(dst + "/" + name), read_file(src + "/" + name)) << name;
    ++present;
  }
  EXPECT_LT(present, 10u);
  const nlohmann::json summary = testing::read_json(json);
  ASSERT_TRUE(summary.is_object());
  EXPECT_EQ(summary["stopped"], "the destination is full: No space left on device");
  EXPECT_EQ(summary["copied"]["files"], present);
  EXPECT_GE(summary["failed"].get<int>(), 1);
  EXPECT_EQ(summary["exit_code"], 1);
}

// ---- Replacing an existing file ----

class Overwrite : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    src_ = dir_.path() + "/src";
    dst_ = dir_.path() + "/dst";
    ASSERT_EQ(::mkdir(src_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(dst_.c_str(), 0755), 0);
  }
  TestDir dir_;
  std::string src_, dst_;
};

// SIGKILL while the new content is being written under its temporary name: the old file is
// intact, and the temporary file is left beside it (docs/copy.md says so); the next run
// replaces the old file and does not copy the leftover.
TEST_F(Overwrite, KilledMidReplaceLeavesTheOldFileIntact) {
  const std::string old_content = testing::pattern(1 << 20, 1);
  write_file(src_ + "/big", testing::pattern(200u << 20, 2));
  write_file(dst_ + "/big", old_content);
  CreationWatch watch(dst_);
  ASSERT_TRUE(watch.ok());
  testing::Process copy(CCOPY_BINARY,
                        {"copy", "--engine", "threads", src_ + "/big", dst_ + "/big"});
  const std::string temp = watch.wait(
      [](const std::string& n) { return n.rfind(".ccopy-", 0) == 0; }, std::chrono::seconds(30));
  ASSERT_NE(temp, "") << "no temporary file appeared";
  ASSERT_EQ(::kill(copy.pid(), SIGKILL), 0);
  const ProcessResult r = copy.finish(std::chrono::seconds(30));
  EXPECT_EQ(r.signal, SIGKILL);
  ASSERT_TRUE(fs::exists(dst_ + "/" + temp)) << "the kill came after the rename, not mid-replace";
  EXPECT_TRUE(read_file(dst_ + "/big") == old_content) << "the old file changed";
  // Run again: the file is replaced; the leftover is not a source entry and stays as it was.
  const ProcessResult again = run_copy({src_ + "/big", dst_ + "/big"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(read_file(dst_ + "/big") == read_file(src_ + "/big"));
  EXPECT_TRUE(fs::exists(dst_ + "/" + temp)) << "docs/copy.md: a later copy does not remove it";
  // A tree copied again into that directory leaves it alone too, and copies no .ccopy- name.
  const ProcessResult tree = run_copy({"-T", src_, dst_});
  EXPECT_EQ(tree.exit_code, 0) << tree.err;
  EXPECT_EQ(testing::temporary_files(dst_).size(), 1u);
}

TEST_F(Overwrite, OtherHardlinksKeepTheOldContentAndSymlinksAreReplaced) {
  write_file(src_ + "/f", "new");
  write_file(src_ + "/l", "new link");
  write_file(dst_ + "/f", "old");
  ASSERT_EQ(::link((dst_ + "/f").c_str(), (dst_ + "/other").c_str()), 0);
  write_file(dir_.path() + "/target", "target");
  ASSERT_EQ(::symlink("../target", (dst_ + "/l").c_str()), 0);
  const ProcessResult r = run_copy({src_ + "/f", src_ + "/l", dst_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(dst_ + "/f"), "new");
  EXPECT_EQ(read_file(dst_ + "/other"), "old");
  EXPECT_FALSE(fs::is_symlink(dst_ + "/l"));
  EXPECT_EQ(read_file(dst_ + "/l"), "new link");
  EXPECT_EQ(read_file(dir_.path() + "/target"), "target");
  EXPECT_TRUE(testing::temporary_files(dst_).empty());
}

// --inplace does what cp does: the existing inode is rewritten (its other names see the new
// content) and a symlink at the destination is written through, as cp writes through it.
TEST_F(Overwrite, InplaceIsCpsBehaviour) {
  for (const std::string& side : {std::string("ours"), std::string("cp")}) {
    const std::string d = dst_ + "-" + side;
    ASSERT_EQ(::mkdir(d.c_str(), 0755), 0);
    write_file(src_ + "/f", "new content");
    write_file(src_ + "/l", "through the link");
    write_file(d + "/f", "old");
    ASSERT_EQ(::link((d + "/f").c_str(), (d + "/other").c_str()), 0);
    write_file(d + "/target", "target");
    ASSERT_EQ(::symlink("target", (d + "/l").c_str()), 0);
    struct ::stat before {};
    ASSERT_EQ(::stat((d + "/f").c_str(), &before), 0);
    const ProcessResult r = side == "ours" ? run_copy({"--inplace", src_ + "/f", src_ + "/l", d})
                                           : run_cp({src_ + "/f", src_ + "/l", d});
    ASSERT_EQ(r.exit_code, 0) << side << ": " << r.err;
    struct ::stat after {};
    ASSERT_EQ(::stat((d + "/f").c_str(), &after), 0);
    EXPECT_EQ(after.st_ino, before.st_ino) << side;
    EXPECT_EQ(read_file(d + "/other"), "new content") << side;
    EXPECT_TRUE(fs::is_symlink(d + "/l")) << side;
    EXPECT_EQ(read_file(d + "/target"), "through the link") << side;
  }
}

// cp refuses to write through a symlink that names nothing; so does --inplace.
TEST_F(Overwrite, InplaceDoesNotWriteThroughADanglingSymlink) {
  write_file(src_ + "/l", "data");
  ASSERT_EQ(::symlink("nowhere", (dst_ + "/l").c_str()), 0);
  const ProcessResult cp = run_cp({src_ + "/l", dst_ + "/l"});
  EXPECT_EQ(cp.exit_code, 1);
  const ProcessResult r = run_copy({"--inplace", src_ + "/l", dst_ + "/l"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(
      contains(r.err, "concurrent_copy: cannot copy '" + src_ + "/l': create '" + dst_ + "/l': "))
      << r.err;
  EXPECT_FALSE(fs::exists(dst_ + "/nowhere"));
  EXPECT_TRUE(fs::is_symlink(dst_ + "/l"));
}

// ---- Signals: exit 128 + n, counts printed, nothing partial left ----

// 24 files of 24 MiB: long enough that the signal, sent the moment the first destination file
// appears, lands mid-copy.
void write_big_tree(const std::string& src, unsigned files = 24, std::size_t size = 24u << 20) {
  ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((src + "/sub").c_str(), 0755), 0);
  for (unsigned i = 0; i < files; ++i)
    write_file(src + (i % 2 ? "/sub/f" : "/f") + std::to_string(i), testing::pattern(size, i));
}

// Every file under `dst` equals its source; returns how many there are.
std::size_t complete_files(const std::string& src, const std::string& dst) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dst, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string rel = it->path().string().substr(dst.size());
    EXPECT_TRUE(read_file(it->path().string()) == read_file(src + rel))
        << rel << " is not complete";
    ++n;
  }
  return n;
}

class Interrupted : public ::testing::TestWithParam<int> {};

TEST_P(Interrupted, StopsRemovesWhatWasInProgressAndSaysSo) {
  TestDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string src = dir.path() + "/src", dst = dir.path() + "/dst";
  write_big_tree(src);
  ASSERT_EQ(::mkdir(dst.c_str(), 0755), 0);
  CreationWatch watch(dst);
  testing::Process copy(CCOPY_BINARY, {"copy", "-a", "-T", src, dst});
  ASSERT_NE(watch.wait([](const std::string&) { return true; }, std::chrono::seconds(30)), "");
  ASSERT_EQ(::kill(copy.pid(), GetParam()), 0);
  const ProcessResult r = copy.finish(std::chrono::seconds(30));
  EXPECT_EQ(r.signal, GetParam());
  EXPECT_EQ(r.exit_code, 128 + GetParam());
  EXPECT_TRUE(
      std::regex_search(r.err, std::regex("concurrent_copy: interrupted: copied [0-9]+ files? .*; "
                                          "the files in progress were removed\n")))
      << r.err;
  EXPECT_TRUE(testing::temporary_files(dst).empty());
  EXPECT_LT(complete_files(src, dst), 24u) << "the signal came after the copy had finished";
}

// Over an existing copy, interrupted files are replaced whole or not at all.
TEST_P(Interrupted, ReplacingLeavesNoTemporaryFile) {
  TestDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string src = dir.path() + "/src", dst = dir.path() + "/dst";
  write_big_tree(src, 12);
  write_big_tree(dst, 12, 1 << 10);
  CreationWatch watch(dst);
  testing::Process copy(CCOPY_BINARY, {"copy", "-T", src, dst});
  ASSERT_NE(watch.wait([](const std::string& n) { return n.rfind(".ccopy-", 0) == 0; },
                       std::chrono::seconds(30)),
            "");
  ASSERT_EQ(::kill(copy.pid(), GetParam()), 0);
  const ProcessResult r = copy.finish(std::chrono::seconds(30));
  EXPECT_EQ(r.signal, GetParam());
  EXPECT_TRUE(testing::temporary_files(dst).empty());
  std::size_t replaced = 0;
  for (unsigned i = 0; i < 12; ++i) {
    const std::string rel = std::string(i % 2 ? "/sub/f" : "/f") + std::to_string(i);
    const std::string now = read_file(dst + rel);
    if (now.size() == (1u << 10)) {
      EXPECT_TRUE(now == testing::pattern(1 << 10, i)) << rel;
    } else {
      EXPECT_TRUE(now == read_file(src + rel)) << rel << " is torn";
      ++replaced;
    }
  }
  EXPECT_LT(replaced, 12u) << "the signal came after the copy had finished";
}

INSTANTIATE_TEST_SUITE_P(Signals, Interrupted, ::testing::Values(SIGINT, SIGTERM, SIGHUP),
                         [](const auto& param_info) {
                           return std::string(param_info.param == SIGINT    ? "SIGINT"
                                              : param_info.param == SIGTERM ? "SIGTERM"
                                                                            : "SIGHUP");
                         });

// ---- -u resumes an interrupted copy ----

TEST(Resume, UpdateCopiesOnlyWhatWasMissing) {
  TestDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string src = dir.path() + "/src", dst = dir.path() + "/dst";
  write_big_tree(src);
  ASSERT_EQ(::mkdir(dst.c_str(), 0755), 0);
  {
    CreationWatch watch(dst);
    testing::Process copy(CCOPY_BINARY, {"copy", "-a", "-T", src, dst});
    ASSERT_NE(watch.wait([](const std::string&) { return true; }, std::chrono::seconds(30)), "");
    ASSERT_EQ(::kill(copy.pid(), SIGINT), 0);
    EXPECT_EQ(copy.finish(std::chrono::seconds(30)).signal, SIGINT);
  }
  const std::size_t done = complete_files(src, dst);
  ASSERT_LT(done, 24u);
  const std::string json = dir.path() + "/resume.json";
  const ProcessResult r = run_copy({"-a", "-u", "--json", json, "-T", src, dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json summary = testing::read_json(json);
  ASSERT_TRUE(summary.is_object());
  EXPECT_EQ(summary["copied"]["files"], 24 - done);
  EXPECT_EQ(summary["copied"]["kept"], done);
  const ProcessResult cp = run_cp({"-a", "-T", src, dir.path() + "/by-cp"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  EXPECT_EQ(tree_differences(dir.path() + "/by-cp", dst), "");
  // A third run has nothing left to copy.
  const ProcessResult third = run_copy({"-a", "-u", "--json", json, "-T", src, dst});
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_EQ(testing::read_json(json)["copied"]["files"], 0);
}

// ---- --verify, and sources that change: faults from the LD_PRELOAD shim ----

std::vector<std::string> shim_env(const std::string& setting) {
  return {"LD_PRELOAD=" CCOPY_TEST_SHIM, setting, "ASAN_OPTIONS=verify_asan_link_order=0"};
}

class WithShim : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    src_ = dir_.path() + "/src";
    dst_ = dir_.path() + "/dst";
    ASSERT_EQ(::mkdir(src_.c_str(), 0755), 0);
    write_file(src_ + "/a", testing::pattern(100000, 1));
    write_file(src_ + "/victim", testing::pattern(100000, 2));
  }
  TestDir dir_;
  std::string src_, dst_;
};

TEST_F(WithShim, VerifyPassesOnAGoodCopy) {
  const std::string json = dir_.path() + "/v.json";
  const ProcessResult r = run_copy({"-a", "--verify", "--json", json, src_, dst_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::read_json(json)["verified"], true);
}

TEST_F(WithShim, VerifyCatchesAByteChangedInTheCopy) {
  const std::string json = dir_.path() + "/v.json";
  const ProcessResult r = run_copy(
      {"-a", "--verify", "--engine", "threads", "--reflink=never", "--json", json, src_, dst_},
      shim_env("CCOPY_SHIM_CORRUPT=victim"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "victim: byte 0 differs")) << r.err;
  EXPECT_TRUE(contains(r.err, "concurrent_copy: --verify found 1 entry that differs")) << r.err;
  EXPECT_EQ(testing::read_json(json)["verified"], false);
  EXPECT_NE(read_file(dst_ + "/victim"), read_file(src_ + "/victim")) << "the shim changed nothing";
}

TEST_F(WithShim, SourceChangingDuringItsCopyIsReported) {
  const ProcessResult r = run_copy({"-a", "--engine", "threads", "--reflink=never", src_, dst_},
                                   shim_env("CCOPY_SHIM_GROW=victim"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "concurrent_copy: cannot copy '" + src_ +
                                  "/victim': read: the source changed while it was copied\n"))
      << r.err;
  EXPECT_EQ(fs::file_size(src_ + "/victim"), 100001u) << "the shim grew the source";
  EXPECT_FALSE(fs::exists(dst_ + "/victim")) << "the torn copy is removed";
  EXPECT_EQ(read_file(dst_ + "/a"), read_file(src_ + "/a"));
}

// ---- Reflinks on file systems that clone ----

// A fresh file system of the parameter's kind in a loop image, mounted for the test, with a
// source of three 1 MiB files on it.
class Reflinks : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    SKIP_UNLESS_ROOT();
    const std::string mkfs = "/usr/sbin/mkfs." + GetParam();
    if (!fs::exists(mkfs)) GTEST_SKIP() << "no " << mkfs << " (scripts/install-deps.sh installs it)";
    ASSERT_TRUE(dir_.ok());
    if (std::string why = testing::private_mounts(); !why.empty()) GTEST_SKIP() << why;
    const std::string image = dir_.path() + "/fs.img";
    mnt_ = dir_.path() + "/mnt";
    write_file(image, "");
    ASSERT_EQ(::truncate(image.c_str(), 320 << 20), 0);
    const ProcessResult made = testing::run_program(mkfs, {"-q", image});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    ASSERT_EQ(::mkdir(mnt_.c_str(), 0755), 0);
    const ProcessResult mounted =
        testing::run_program("/usr/bin/mount", {"-o", "loop", image, mnt_});
    if (mounted.exit_code != 0) GTEST_SKIP() << "cannot mount a loop image: " << mounted.err;
    unmount_.emplace(mnt_);
    src_ = mnt_ + "/src";
    ASSERT_EQ(::mkdir(src_.c_str(), 0755), 0);
    for (unsigned i = 0; i < 3; ++i)
      write_file(src_ + "/f" + std::to_string(i), testing::pattern(1 << 20, i));
  }

  TestDir dir_;
  std::string mnt_, src_;
  std::optional<testing::UnmountAtEnd> unmount_;
};

// Whether any extent of `path` is shared with another file (FIEMAP, after a sync of its data,
// so that delayed allocations are extents).
bool shares_extents(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  constexpr unsigned kExtents = 64;
  std::vector<char> buffer(sizeof(struct fiemap) + kExtents * sizeof(struct fiemap_extent));
  auto* map = reinterpret_cast<struct fiemap*>(buffer.data());
  map->fm_start = 0;
  map->fm_length = FIEMAP_MAX_OFFSET;
  map->fm_flags = FIEMAP_FLAG_SYNC;
  map->fm_extent_count = kExtents;
  const int rc = ::ioctl(fd, FS_IOC_FIEMAP, map);
  ::close(fd);
  EXPECT_EQ(rc, 0) << "FIEMAP " << path << ": " << std::strerror(errno);
  EXPECT_GT(map->fm_mapped_extents, 0u) << path << " has no extents";
  for (unsigned i = 0; i < map->fm_mapped_extents; ++i)
    if ((map->fm_extents[i].fe_flags & FIEMAP_EXTENT_SHARED) != 0) return true;
  return false;
}

TEST_P(Reflinks, AlwaysClonesWhereTheFileSystemCan) {
  const std::string json = dir_.path() + "/r.json";
  const ProcessResult r =
      run_copy({"-v", "--reflink=always", "--json", json, src_, mnt_ + "/dst"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (unsigned i = 0; i < 3; ++i) {
    const std::string f = "/f" + std::to_string(i);
    EXPECT_TRUE(contains(r.out, "'" + src_ + f + "' -> '" + mnt_ + "/dst" + f + "' (reflinked)\n"))
        << r.out;
    EXPECT_TRUE(read_file(mnt_ + "/dst" + f) == read_file(src_ + f));
    EXPECT_TRUE(shares_extents(mnt_ + "/dst" + f)) << "a reflink shares its extents";
  }
  const nlohmann::json summary = testing::read_json(json);
  EXPECT_EQ(summary["copied"]["reflinked"], 3);
  EXPECT_TRUE(contains(r.err, "; 3 of the files reflinked")) << r.err;
}

// --reflink=never is a copy of the bytes by every engine: not a clone, and not copy_file_range
// either, which clones on these file systems (the VFS tries remap_file_range first).
TEST_P(Reflinks, NeverSharesExtentsWithAnyEngine) {
  for (const char* engine : {"kernel", "uv", "threads", "uring"}) {
    const std::string dst = mnt_ + "/dst-" + engine;
    const ProcessResult r = run_copy({"--engine", engine, "--reflink=never", src_, dst});
    EXPECT_EQ(r.exit_code, 0) << engine << ": " << r.err;
    for (unsigned i = 0; i < 3; ++i) {
      const std::string f = "/f" + std::to_string(i);
      EXPECT_TRUE(read_file(dst + f) == read_file(src_ + f)) << engine << f;
      EXPECT_FALSE(shares_extents(dst + f)) << engine << " shared the extents of " << f;
    }
  }
}

// --engine auto: the kernel engine where files are cloned; on btrfs copying bytes, the io_uring
// loop (a thread per waiting file lost to cp -a there: docs/copy.md).
TEST_P(Reflinks, AutoPicksByFileSystemAndReflink) {
  const ProcessResult cloned = run_copy({"-v", src_, mnt_ + "/dst-auto"});
  EXPECT_EQ(cloned.exit_code, 0) << cloned.err;
  EXPECT_TRUE(contains(cloned.err, "concurrent_copy: engine kernel (" + GetParam() + " clones"))
      << cloned.err;
  const ProcessResult bytes = run_copy({"-v", "--reflink=never", src_, mnt_ + "/dst-never"});
  EXPECT_EQ(bytes.exit_code, 0) << bytes.err;
  const std::string expected = GetParam() == "btrfs" ? "concurrent_copy: engine uring (btrfs"
                                                     : "concurrent_copy: engine kernel (";
  EXPECT_TRUE(contains(bytes.err, expected)) << bytes.err;
  for (unsigned i = 0; i < 3; ++i)
    EXPECT_FALSE(shares_extents(mnt_ + "/dst-never/f" + std::to_string(i)));
}

INSTANTIATE_TEST_SUITE_P(FileSystems, Reflinks, ::testing::Values("xfs", "btrfs"),
                         [](const auto& param_info) { return param_info.param; });

TEST(ReflinkOnTmpfs, AlwaysFailsCleanly) {
  TestDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string src = dir.path() + "/src", dst = dir.path() + "/dst";
  ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
  write_file(src + "/f", "data");
  const ProcessResult r = run_copy({"--reflink=always", src, dst});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(std::regex_search(r.err, std::regex("concurrent_copy: cannot copy '" + src +
                                                  "/f': clone '" + dst + "/f': [A-Za-z ]+\n")))
      << r.err;
  EXPECT_TRUE(contains(r.err, "concurrent_copy: 1 entry could not be copied\n")) << r.err;
  EXPECT_FALSE(fs::exists(dst + "/f"));
}
// ---- What is said: -v, --dry-run, -n, -u, the auto engine, the notes ----

class Said : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    src_ = dir_.path() + "/src";
    dst_ = dir_.path() + "/dst";
    ASSERT_EQ(::mkdir(src_.c_str(), 0755), 0);
    write_file(src_ + "/a", "a");
    ASSERT_EQ(::symlink("a", (src_ + "/s").c_str()), 0);
  }
  TestDir dir_;
  std::string src_, dst_;
};

TEST_F(Said, VerboseSaysEveryEntryAsCpDoes) {
  const ProcessResult ours = run_copy({"-v", src_, dst_});
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  const ProcessResult cp = run_cp({"-rv", src_, dir_.path() + "/by-cp"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  auto lines = [](std::string text, const std::string& from, const std::string& to) {
    for (std::size_t at; (at = text.find(from)) != std::string::npos;)
      text.replace(at, from.size(), to);
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(lines(ours.out, dst_, "DEST"), lines(cp.out, dir_.path() + "/by-cp", "DEST"));
  EXPECT_TRUE(std::regex_search(ours.err, std::regex("^concurrent_copy: engine kernel \\(tmpfs: ")))
      << ours.err;
  EXPECT_TRUE(std::regex_search(ours.err,
                                std::regex("concurrent_copy: copied 1 file \\(1 B\\), 1 directory, "
                                           "1 symlink in [0-9.]+ s")))
      << ours.err;
}

TEST_F(Said, DryRunCreatesNothing) {
  const ProcessResult r = run_copy({"--dry-run", "-v", src_, dst_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "would copy '" + src_ + "/a' -> '" + dst_ + "/a'\n")) << r.out;
  EXPECT_FALSE(fs::exists(dst_));
}

TEST_F(Said, NoClobberAndUpdateKeepWhatIsThere) {
  ASSERT_EQ(::mkdir(dst_.c_str(), 0755), 0);
  write_file(dst_ + "/a", "kept");
  ProcessResult r = run_copy({"-v", "-n", "-T", src_, dst_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "skipped '" + dst_ + "/a'\n")) << r.out;
  EXPECT_EQ(read_file(dst_ + "/a"), "kept");
  // -u: the destination is newer than the source, so it stays.
  r = run_copy({"-v", "-u", "-T", src_, dst_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(dst_ + "/a"), "kept");
  // An older destination is replaced.
  const timespec old_times[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (dst_ + "/a").c_str(), old_times, 0), 0);
  r = run_copy({"-u", "-T", src_, dst_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(dst_ + "/a"), "a");
}

// A copy across file systems: copy_file_range cannot cross them, and the kernel engine says so
// with -v and copies anyway.
TEST(CrossFileSystem, FallsBackWithANote) {
  TestDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string header = "/usr/include/stdio.h";
  if (!fs::exists(header)) GTEST_SKIP() << "no " << header;
  struct ::stat a {
  }, b{};
  ASSERT_EQ(::stat(header.c_str(), &a), 0);
  ASSERT_EQ(::stat(dir.path().c_str(), &b), 0);
  if (a.st_dev == b.st_dev) GTEST_SKIP() << header << " is on the test directory's file system";
  const ProcessResult r = run_copy({"-v", "--engine", "kernel", header, dir.path() + "/stdio.h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "concurrent_copy: note: ")) << r.err;
  EXPECT_EQ(read_file(dir.path() + "/stdio.h"), read_file(header));
}

// -x: a directory on another file system is made, and left empty, as cp -x leaves it.
TEST(OneFileSystem, LikeCpDashX) {
  SKIP_UNLESS_ROOT();
  TestDir dir;
  ASSERT_TRUE(dir.ok());
  if (std::string why = testing::private_mounts(); !why.empty()) GTEST_SKIP() << why;
  const std::string src = dir.path() + "/src";
  ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((src + "/mnt").c_str(), 0755), 0);
  write_file(src + "/here", "here");
  ASSERT_EQ(::mount("tmpfs", (src + "/mnt").c_str(), "tmpfs", 0, "size=1m"), 0)
      << std::strerror(errno);
  const testing::UnmountAtEnd unmount{src + "/mnt"};
  write_file(src + "/mnt/elsewhere", "elsewhere");
  const ProcessResult r = run_copy({"-a", "-x", src, dir.path() + "/by-copy"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const ProcessResult cp = run_cp({"-a", "-x", src, dir.path() + "/by-cp"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  EXPECT_FALSE(fs::exists(dir.path() + "/by-copy/mnt/elsewhere"));
  EXPECT_TRUE(fs::is_directory(dir.path() + "/by-copy/mnt"));
  EXPECT_EQ(tree_differences(dir.path() + "/by-cp", dir.path() + "/by-copy"), "");
}

// The JSON's escaping gives the bytes back: a backslash and a byte that is not UTF-8.
TEST(JsonNames, EscapedReversibly) {
  TestDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string name = dir.path() + "/back\\slash\377\303\251";
  write_file(name, "x");
  const ProcessResult r = run_copy({"--json", "-", name, dir.path() + "/copy"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json summary = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << r.out;
  const std::string escaped = summary["roots"][0]["source"];
  EXPECT_EQ(escaped, dir.path() + "/back\\\\slash\\xff\303\251");
  EXPECT_EQ(testing::unescape_name(escaped), name);
}

// docs/copy.md documents every option --help lists.
TEST(Documentation, EveryOptionOfTheHelpIsInDocsCopyMd) {
  const ProcessResult help = run_copy({"--help"});
  ASSERT_EQ(help.exit_code, 0);
  const std::string docs = read_file(CCOPY_SOURCE_DIR "/docs/copy.md");
  ASSERT_FALSE(docs.empty());
  const std::regex option("(^|[ ,])(--?[a-zA-Z][a-z-]*)");
  std::size_t checked = 0;
  for (auto it = std::sregex_iterator(help.out.begin(), help.out.end(), option);
       it != std::sregex_iterator(); ++it) {
    const std::string name = (*it)[2];
    if (name == "--opt" || name == "-av" || name == "-") continue;
    EXPECT_TRUE(contains(docs, "`" + name)) << name << " is not in docs/copy.md";
    ++checked;
  }
  EXPECT_GT(checked, 30u);
}

}  // namespace
}  // namespace ccopy
