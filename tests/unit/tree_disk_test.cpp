// Trees on disk: write_tree writes what the Manifest says (checked by describe_tree and by
// looking at the files), verify_tree accepts a faithful copy (cp -a) and names each kind of
// difference, and remove_tree removes what nothing else can (read-only directories, paths
// deeper than PATH_MAX). Tests that need privileges drop them in a forked child (setuid to
// nobody); the ones that need root to begin with skip without it and say so.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "ccopy/tree.hpp"
#include "sys/sys.hpp"
#include "test_dir.hpp"
#include "tree/random.hpp"
#include "unit/tree_support.hpp"

namespace ccopy {
namespace {

constexpr uid_t kNobody = 65534;

Manifest plan(Shape shape, double scale = 1.0) {
  TreeRecipe recipe;
  recipe.shape = shape;
  recipe.scale = scale;
  Manifest m;
  EXPECT_FALSE(plan_tree(recipe, m));
  return m;
}

int open_directory(const std::string& path) {
  return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

// Runs a program and returns its exit status (-1 when it did not exit).
int run(const std::vector<std::string>& argv) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs `body` in a forked child; what it returns (empty for success) comes back as the result.
std::string in_child(const std::function<std::string()>& body) {
  int ends[2];
  if (::pipe(ends) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ends[0]);
    const std::string message = body();
    const std::string sent = message.empty() ? "ok" : message;
    (void)!::write(ends[1], sent.data(), sent.size());
    ::_exit(0);
  }
  ::close(ends[1]);
  std::string received;
  char buffer[512];
  for (ssize_t n; (n = ::read(ends[0], buffer, sizeof buffer)) > 0;)
    received.append(buffer, static_cast<std::size_t>(n));
  ::close(ends[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status))
    return "the child was killed by signal " + std::to_string(WTERMSIG(status));
  return received == "ok" ? "" : received.empty() ? "the child said nothing" : received;
}

// Becomes `nobody` (in a child): the tests of what an unprivileged user meets.
std::string become_nobody(const std::string& home) {
  if (::chown(home.c_str(), kNobody, kNobody) != 0)
    return std::string("chown: ") + std::strerror(errno);
  if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)
    return std::string("setuid: ") + std::strerror(errno);
  return {};
}

class TreeOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    parent_ = open_directory(dir_.path());
    ASSERT_GE(parent_, 0);
  }
  void TearDown() override {
    // remove_tree, unlike the TestDir's remove_all, empties 0500 directories as any user.
    EXPECT_FALSE(remove_tree(parent_, "src", 2));
    EXPECT_FALSE(remove_tree(parent_, "dst", 2));
    ::close(parent_);
  }
  // Creates `name` in the test directory and returns it open.
  int make(const char* name) {
    EXPECT_EQ(::mkdirat(parent_, name, 0755), 0);
    fds_.push_back(::openat(parent_, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    return fds_.back();
  }
  std::string path(const std::string& below) const { return dir_.path() + "/" + below; }
  void cp_a() { ASSERT_EQ(run({"/bin/cp", "-a", path("src") + "/.", path("dst")}), 0); }
  ~TreeOnDisk() override {
    for (int fd : fds_) ::close(fd);
  }

  testing::TestDir dir_;
  int parent_ = -1;
  std::vector<int> fds_;
};

void expect_summary_matches(const Manifest& m, const TreeSummary& d) {
  const testing::PlanStats s = testing::plan_stats(m);
  EXPECT_EQ(d.files, s.files);
  EXPECT_EQ(d.hardlinks, s.hardlinks);
  EXPECT_EQ(d.directories, s.directories);
  EXPECT_EQ(d.symlinks, s.symlinks);
  EXPECT_EQ(d.specials, s.fifos);
  EXPECT_EQ(d.bytes, s.bytes);
  EXPECT_EQ(d.sparse_files, s.sparse_files);
  EXPECT_EQ(d.size_median, s.size_median);
  EXPECT_EQ(d.size_p90, s.size_p90);
  EXPECT_EQ(d.size_p99, s.size_p99);
  EXPECT_EQ(d.size_max, s.size_max);
  EXPECT_EQ(d.max_depth, s.max_depth);
  EXPECT_TRUE(d.unreadable.empty());
  EXPECT_EQ(d.entries(), m.entries.size());
}

TEST_F(TreeOnDisk, WriteThenDescribeAgreesWithTheManifest) {
  struct Case {
    Shape shape;
    double scale;
  };
  const Case cases[] = {{Shape::mixed, 1},          {Shape::flat, 1},
                        {Shape::linux, 0.02},       {Shape::node_modules, 0.05},
                        {Shape::impressions, 0.01}, {Shape::photos, 0.02}};
  for (const Case& c : cases) {
    SCOPED_TRACE("shape " + std::to_string(static_cast<int>(c.shape)));
    const Manifest m = plan(c.shape, c.scale);
    const int src = make("src");
    ASSERT_FALSE(write_tree(m, src, 7, 3, nullptr));
    TreeSummary d;
    const Error e = describe_tree(src, d);
    ASSERT_FALSE(e) << e.message();
    expect_summary_matches(m, d);
    ASSERT_FALSE(remove_tree(parent_, "src", 2));
  }
}

// Holes are real: the sparse files allocate no more than their data, and SEEK_DATA finds the
// data where data_extents() says it is.
TEST_F(TreeOnDisk, SparseFilesHaveRealHoles) {
  const Manifest m = plan(Shape::mixed);
  const int src = make("src");
  ASSERT_FALSE(write_tree(m, src, 7, 2, nullptr));
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    const ManifestEntry& e = m.entries[i];
    if (e.kind != EntryKind::regular || e.data == e.size) continue;
    SCOPED_TRACE(m.path(i));
    const int fd = ::openat(src, m.path(i).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    struct stat st {};
    ASSERT_EQ(::fstat(fd, &st), 0);
    EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), e.size);
    EXPECT_LE(static_cast<std::uint64_t>(st.st_blocks) * 512, (e.data + 4095) / 4096 * 4096);
    EXPECT_LT(static_cast<std::uint64_t>(st.st_blocks) * 512, e.size);
    const DataExtents x = data_extents(e);
    if (x.count == 0) {
      EXPECT_EQ(::lseek(fd, 0, SEEK_DATA), -1);
    } else {
      EXPECT_EQ(static_cast<std::uint64_t>(::lseek(fd, 0, SEEK_DATA)), x.extent[0].offset);
      EXPECT_EQ(static_cast<std::uint64_t>(
                    ::lseek(fd, static_cast<off_t>(x.extent[0].offset), SEEK_HOLE)),
                x.extent[0].offset + x.extent[0].length);
    }
    ::close(fd);
  }
}

// Each file is its own stream of the seed: a flat tree holds the bytes the original generator
// (src/fileset.cpp) wrote, and two files differ.
TEST_F(TreeOnDisk, FilesHoldTheirOwnStreamOfTheSeed) {
  TreeRecipe recipe;
  recipe.files = 3;
  recipe.file_size = (1 << 20) + 5;
  Manifest m;
  ASSERT_FALSE(plan_tree(recipe, m));
  const int src = make("src");
  ASSERT_FALSE(write_tree(m, src, 1234, 2, nullptr));
  std::vector<std::string> contents;
  for (const char* name : {"file_000000", "file_000001", "file_000002"}) {
    const int fd = ::openat(src, name, O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    std::string bytes(recipe.file_size + 1, '\0');
    ASSERT_EQ(::read(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(recipe.file_size));
    bytes.resize(recipe.file_size);
    contents.push_back(bytes);
    ::close(fd);
  }
  for (std::size_t file = 0; file < 3; ++file) {
    tree::Xoshiro256 stream(tree::file_stream_seed(1234, file + 1));
    std::string expected;
    while (expected.size() < recipe.file_size) {
      const std::uint64_t word = stream.next();
      expected.append(reinterpret_cast<const char*>(&word), 8);
    }
    expected.resize(recipe.file_size);
    EXPECT_TRUE(contents[file] == expected) << "file " << file;
  }
  EXPECT_NE(contents[0], contents[1]);
}

TEST_F(TreeOnDisk, RefusesADirectoryThatIsNotEmpty) {
  const Manifest m = plan(Shape::mixed);
  const int src = make("src");
  ASSERT_FALSE(write_tree(m, src, 1, 2, nullptr));
  const Error e = write_tree(m, src, 1, 2, nullptr);
  ASSERT_TRUE(e);
  EXPECT_EQ(e.code, EEXIST) << e.message();
}

TEST_F(TreeOnDisk, RefusesAManifestWhoseParentsDoNotComeFirst) {
  Manifest m;
  m.entries.resize(3);
  m.entries[0].kind = EntryKind::directory;
  m.names = "ab";
  m.entries[1].parent = 2;  // "a" in "b", which comes after it
  m.entries[1].name_length = 1;
  m.entries[2].kind = EntryKind::directory;
  m.entries[2].name_offset = 1;
  m.entries[2].name_length = 1;
  const int src = make("src");
  const Error e = write_tree(m, src, 1, 2, nullptr);
  EXPECT_TRUE(e);
  EXPECT_NE(e.message().find("its parent is not an earlier directory"), std::string::npos)
      << e.message();
  m.entries[1].parent = 1;  // its own parent: a cycle
  EXPECT_TRUE(write_tree(m, src, 1, 2, nullptr));
}

TEST_F(TreeOnDisk, TheSameSeedWritesTheSameBytesAndAnotherDoesNot) {
  const Manifest m = plan(Shape::mixed);
  const int src = make("src");
  const int dst = make("dst");
  ASSERT_FALSE(write_tree(m, src, 5, 2, nullptr));
  ASSERT_FALSE(write_tree(m, dst, 5, 3, nullptr));
  VerifyResult r;
  ASSERT_FALSE(verify_tree(src, dst, VerifyOptions{}, r));
  EXPECT_TRUE(r.ok()) << r.first;
  ASSERT_FALSE(remove_tree(parent_, "dst", 2));
  const int other = make("dst");
  ASSERT_FALSE(write_tree(m, other, 6, 3, nullptr));
  ASSERT_FALSE(verify_tree(src, other, VerifyOptions{}, r));
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.first.ends_with(": byte 0 differs")) << r.first;
}

// write_tree's errors name the file: a file larger than RLIMIT_FSIZE allows (SIGXFSZ ignored,
// as liburing's test/fallocate.c does) is "write big/file: File too large".
TEST_F(TreeOnDisk, AFileTooLargeIsAnErrorNamingIt) {
  const int src = make("src");
  Manifest m;
  m.entries.resize(1);
  m.entries[0].kind = EntryKind::directory;
  auto add = [&](std::uint32_t parent, const std::string& name, EntryKind kind,
                 std::uint64_t size) {
    ManifestEntry e;
    e.parent = parent;
    e.kind = kind;
    e.name_offset = static_cast<std::uint32_t>(m.names.size());
    e.name_length = static_cast<std::uint16_t>(name.size());
    e.size = e.data = size;
    e.mode = kind == EntryKind::directory ? 0755 : 0644;
    m.names += name;
    m.entries.push_back(e);
    return static_cast<std::uint32_t>(m.entries.size() - 1);
  };
  const std::uint32_t big = add(0, "big", EntryKind::directory, 0);
  add(big, "file", EntryKind::regular, 3 << 20);
  const std::string result = in_child([&]() -> std::string {
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{1 << 20, 1 << 20};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return "setrlimit failed";
    const Error e = write_tree(m, src, 1, 2, nullptr);
    if (e.code != EFBIG) return "expected EFBIG, got: " + e.message();
    return e.message() == "write big/file: File too large" ? "" : "message: " + e.message();
  });
  EXPECT_EQ(result, "");
}

// Cancellation stops a write between two blocks: here the cancel flag is raised by the first
// write itself (through the fault seam), so the 3 MiB file never gets its last blocks.
TEST_F(TreeOnDisk, CancelStopsTheWriteBetweenBlocks) {
  TreeRecipe recipe;
  recipe.files = 1;
  recipe.file_size = 3 << 20;
  Manifest m;
  ASSERT_FALSE(plan_tree(recipe, m));
  const int src = make("src");
  static std::atomic<bool> cancel{false};
  cancel = false;
  sys::set_fault_hook(
      [](sys::Op op, long result, void*) {
        if (op == sys::Op::write) cancel = true;
        return result;
      },
      nullptr);
  const Error e = write_tree(m, src, 1, 1, &cancel);
  sys::set_fault_hook(nullptr, nullptr);
  EXPECT_TRUE(e.cancelled()) << e.message();
  struct stat st {};
  ASSERT_EQ(::fstatat(src, "file_000000", &st, 0), 0);
  EXPECT_EQ(st.st_size, 1 << 20);
  cancel = true;
  ASSERT_FALSE(remove_tree(parent_, "src", 1));
  const int again = make("src");
  EXPECT_TRUE(write_tree(m, again, 1, 2, &cancel).cancelled());
}

// As an unprivileged user: a 0500 directory is filled (it gets its mode last), the tree verifies
// and is removed with a 0000 directory added (remove_tree gives such directories their owner's
// permissions first); with RLIMIT_NPROC at 1
// no thread can be started, and every function goes on with the calling thread alone.
TEST_F(TreeOnDisk, UnprivilegedWithoutThreads) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become another user (nobody)";
  const Manifest m = plan(Shape::mixed);
  const std::string result = in_child([&]() -> std::string {
    if (std::string e = become_nobody(dir_.path()); !e.empty()) return e;
    const rlimit one{1, 1};
    if (::setrlimit(RLIMIT_NPROC, &one) != 0) return "setrlimit failed";
    try {
      std::thread probe([] {});
      probe.join();
      return "skip: RLIMIT_NPROC does not refuse threads here";
    } catch (const std::system_error&) {
      // As intended: from here on, no thread can be started.
    }
    for (const char* name : {"src", "dst"})
      if (::mkdirat(parent_, name, 0755) != 0) return "mkdir failed";
    const int src = ::openat(parent_, "src", O_RDONLY | O_DIRECTORY);
    const int dst = ::openat(parent_, "dst", O_RDONLY | O_DIRECTORY);
    if (Error e = write_tree(m, src, 3, 4, nullptr)) return "write: " + e.message();
    if (Error e = write_tree(m, dst, 3, 4, nullptr)) return "write: " + e.message();
    struct stat st {};
    if (::fstatat(src, "modes/read-only-dir", &st, 0) != 0 || (st.st_mode & 07777) != 0500)
      return "the read-only directory's mode";
    VerifyOptions options;
    options.threads = 4;
    VerifyResult r;
    if (Error e = verify_tree(src, dst, options, r)) return "verify: " + e.message();
    if (!r.ok()) return "verify: " + r.first;
    // A directory without any permission, with a file in it: it cannot even be opened.
    if (::mkdirat(src, "closed", 0755) != 0) return "mkdir closed";
    ::close(::openat(src, "closed/inside", O_CREAT | O_WRONLY, 0644));
    if (::fchmodat(src, "closed", 0, 0) != 0) return "chmod closed";
    ::close(src);
    ::close(dst);
    for (const char* name : {"src", "dst"})
      if (Error e = remove_tree(parent_, name, 4)) return "remove: " + e.message();
    return {};
  });
  if (result.starts_with("skip: ")) GTEST_SKIP() << result.substr(6);
  EXPECT_EQ(result, "");
}

TEST_F(TreeOnDisk, DescribeListsWhatItCannotRead) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become another user (nobody)";
  const std::string result = in_child([&]() -> std::string {
    if (std::string e = become_nobody(dir_.path()); !e.empty()) return e;
    if (::mkdirat(parent_, "src", 0755) != 0) return "mkdir failed";
    const int src = ::openat(parent_, "src", O_RDONLY | O_DIRECTORY);
    // A directory that cannot be opened, one that can be listed but not searched, a file that
    // cannot be read; and one readable file and a symlink to a directory, not followed.
    ::mkdirat(src, "closed", 0755);
    ::close(::openat(src, "closed/inside", O_CREAT | O_WRONLY, 0644));
    ::fchmodat(src, "closed", 0, 0);
    ::mkdirat(src, "listable", 0755);
    ::close(::openat(src, "listable/inside", O_CREAT | O_WRONLY, 0644));
    ::fchmodat(src, "listable", 0600, 0);
    ::close(::openat(src, "secret", O_CREAT | O_WRONLY, 0));
    const int fd = ::openat(src, "readable", O_CREAT | O_WRONLY, 0644);
    (void)!::write(fd, "12345", 5);
    ::close(fd);
    ::symlinkat(".", src, "loop");
    TreeSummary d;
    if (Error e = describe_tree(src, d)) return "describe: " + e.message();
    std::vector<std::string> unreadable = d.unreadable;
    std::sort(unreadable.begin(), unreadable.end());
    if (unreadable != std::vector<std::string>{"closed", "listable", "secret"}) {
      std::string got;
      for (const std::string& u : unreadable) got += u + ";";
      return "unreadable: " + got;
    }
    if (d.files != 1 || d.bytes != 5 || d.directories != 1 || d.symlinks != 1)
      return "counts: " + std::to_string(d.files) + " files, " + std::to_string(d.directories) +
             " directories";
    return {};
  });
  EXPECT_EQ(result, "");
}

// Reading leaves the source's access times alone (O_NOATIME): its atime is set before its
// mtime, which relatime would otherwise update on the first read.
TEST_F(TreeOnDisk, ReadingDoesNotTouchAccessTimes) {
  const Manifest m = plan(Shape::mixed);
  const int src = make("src");
  const int dst = make("dst");
  ASSERT_FALSE(write_tree(m, src, 5, 2, nullptr));
  ASSERT_FALSE(write_tree(m, dst, 5, 2, nullptr));
  const struct timespec old[2] = {{1000000000, 0}, {0, UTIME_OMIT}};
  ASSERT_EQ(::utimensat(src, "sizes/3m+17", old, 0), 0);
  ASSERT_EQ(::utimensat(src, "sizes", old, 0), 0);
  TreeSummary d;
  ASSERT_FALSE(describe_tree(src, d));
  VerifyResult r;
  ASSERT_FALSE(verify_tree(src, dst, VerifyOptions{}, r));
  ASSERT_TRUE(r.ok()) << r.first;
  struct stat st {};
  ASSERT_EQ(::fstatat(src, "sizes/3m+17", &st, 0), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 1000000000);
  ASSERT_EQ(::fstatat(src, "sizes", &st, 0), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 1000000000);
}

TEST_F(TreeOnDisk, RemovesReadOnlyDirectoriesAndAChainDeeperThanPathMax) {
  const int src = make("src");
  // 30 levels of 200-byte names: 6,030 bytes of path.
  int at = ::dup(src);
  for (int level = 0; level < 30; ++level) {
    std::string name = "level-" + std::to_string(level) + "-";
    name.resize(200, 'x');
    ASSERT_EQ(::mkdirat(at, name.c_str(), 0755), 0);
    const int next = ::openat(at, name.c_str(), O_RDONLY | O_DIRECTORY);
    ::close(::openat(at, "file", O_CREAT | O_WRONLY | O_EXCL, 0644));
    ::close(at);
    at = next;
  }
  ::close(::openat(at, "bottom", O_CREAT | O_WRONLY, 0644));
  ::symlinkat("bottom", at, "link");
  ::close(at);
  ASSERT_EQ(::mkdirat(src, "read-only", 0755), 0);
  ::close(::openat(src, "read-only/file", O_CREAT | O_WRONLY, 0644));
  ASSERT_EQ(::mkdirat(src, "read-only/inner", 0755), 0);
  ::fchmodat(src, "read-only/inner", 0, 0);
  ::fchmodat(src, "read-only", 0500, 0);
  ::mkfifoat(src, "fifo", 0644);
  EXPECT_FALSE(remove_tree(parent_, "src", 3));
  struct stat st {};
  EXPECT_EQ(::fstatat(parent_, "src", &st, AT_SYMLINK_NOFOLLOW), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_FALSE(remove_tree(parent_, "src", 3));  // gone already: not an error
}

TEST_F(TreeOnDisk, RemovingASymlinkLeavesItsTarget) {
  const int src = make("src");
  ::close(::openat(src, "kept", O_CREAT | O_WRONLY, 0644));
  ASSERT_EQ(::symlinkat("src", parent_, "dst"), 0);
  EXPECT_FALSE(remove_tree(parent_, "dst", 2));
  struct stat st {};
  EXPECT_EQ(::fstatat(src, "kept", &st, 0), 0);
  EXPECT_EQ(::fstatat(parent_, "dst", &st, AT_SYMLINK_NOFOLLOW), -1);
}

// The mixed tree, and a copy of it made by cp -a: the copy verifies, and each change to it is
// caught with the right first message. Without deep/: cp cannot copy paths longer than PATH_MAX
// (nor can tar or rsync); MixedTreeDeeperThanPathMax checks that part.
class CopiedTree : public TreeOnDisk {
 protected:
  void SetUp() override {
    TreeOnDisk::SetUp();
    manifest_ = testing::without(plan(Shape::mixed), "deep");
    src_ = make("src");
    dst_ = make("dst");
    ASSERT_FALSE(write_tree(manifest_, src_, 11, 2, nullptr));
    cp_a();
  }
  // verify_tree() of the copy; and, in 2 and 3 parts (VerifyOptions::parts, as
  // concurrent_copy_mpi's ranks share it), each part doing less and the merged verdict the same.
  VerifyResult verify(VerifyOptions options = {}) {
    VerifyResult r;
    const Error e = verify_tree(src_, dst_, options, r);
    EXPECT_FALSE(e) << e.message();
    for (unsigned parts : {2u, 3u}) {
      std::vector<VerifyResult> each(parts);
      for (unsigned p = 0; p < parts; ++p) {
        VerifyOptions part = options;
        part.part = p;
        part.parts = parts;
        const Error pe = verify_tree(src_, dst_, part, each[p]);
        EXPECT_FALSE(pe) << pe.message();
        EXPECT_LT(each[p].entries, r.entries) << "part " << p << " of " << parts;
      }
      const VerifyResult merged = merge_verdicts(each);
      EXPECT_EQ(merged.entries, r.entries) << parts << " parts";
      EXPECT_EQ(merged.bytes, r.bytes) << parts << " parts";
      EXPECT_EQ(merged.differences, r.differences) << parts << " parts";
      EXPECT_EQ(merged.first, r.first) << parts << " parts";
    }
    return r;
  }
  void expect_first(const std::string& first, VerifyOptions options = {}) {
    const VerifyResult r = verify(options);
    EXPECT_EQ(r.first, first);
    EXPECT_EQ(r.differences, 1u);
  }
  void replace_in_copy(const char* name, const char* contents) {
    ASSERT_EQ(::unlinkat(dst_, name, 0), 0);
    const int fd = ::openat(dst_, name, O_CREAT | O_WRONLY | O_EXCL, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, contents, std::strlen(contents)),
              static_cast<ssize_t>(std::strlen(contents)));
    ::close(fd);
  }

  Manifest manifest_;
  int src_ = -1, dst_ = -1;
};

TEST_F(CopiedTree, ACopyByCpAVerifies) {
  VerifyOptions all;
  all.times = true;
  all.ownership = true;
  all.xattrs = true;
  all.threads = 4;
  const VerifyResult r = verify(all);
  EXPECT_TRUE(r.ok()) << r.first;
  EXPECT_EQ(r.entries, manifest_.entries.size() - 1);  // the roots are not entries
  std::uint64_t bytes = 0;
  for (const ManifestEntry& e : manifest_.entries) bytes += e.size;
  for (const ManifestEntry& e : manifest_.entries)
    if (e.kind == EntryKind::hardlink) bytes += manifest_.entries[e.target].size;
  EXPECT_EQ(r.bytes, bytes);
  TreeSummary a, b;
  ASSERT_FALSE(describe_tree(src_, a));
  ASSERT_FALSE(describe_tree(dst_, b));
  EXPECT_EQ(a.entries(), b.entries());
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(a.allocated, b.allocated);
  EXPECT_EQ(a.max_depth, 3u);
}

// The part of mixed no common tool can copy: 24 directories of 200-byte names, a file and a
// symlink at the bottom, 4,847 bytes of path.
TEST_F(TreeOnDisk, MixedTreeDeeperThanPathMax) {
  const Manifest m = plan(Shape::mixed);
  const int src = make("src");
  const int dst = make("dst");
  ASSERT_FALSE(write_tree(m, src, 8, 2, nullptr));
  ASSERT_FALSE(write_tree(m, dst, 8, 2, nullptr));
  TreeSummary d;
  ASSERT_FALSE(describe_tree(src, d));
  expect_summary_matches(m, d);
  EXPECT_EQ(d.max_depth, 26u);  // deep/, 24 levels, the file at the bottom
  VerifyResult r;
  ASSERT_FALSE(verify_tree(src, dst, VerifyOptions{}, r));
  EXPECT_TRUE(r.ok()) << r.first;
  // A byte changed at the bottom is found, and named by its whole path.
  std::size_t bottom = 0;
  for (std::size_t i = 0; i < m.entries.size(); ++i)
    if (m.name(m.entries[i]) == "file-at-the-bottom") bottom = i;
  int at = ::dup(dst);
  for (std::size_t depth = 1;; ++depth) {
    const std::string path = m.path(bottom);
    std::size_t from = 0;
    for (std::size_t k = 1; k < depth; ++k) from = path.find('/', from) + 1;
    const std::size_t to = path.find('/', from);
    if (to == std::string::npos) {
      const int fd = ::openat(at, path.substr(from).c_str(), O_WRONLY);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(::pwrite(fd, "!", 1, 0), 1);
      ::close(fd);
      break;
    }
    const int next = ::openat(at, path.substr(from, to - from).c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(next, 0);
    ::close(at);
    at = next;
  }
  ::close(at);
  ASSERT_FALSE(verify_tree(src, dst, VerifyOptions{}, r));
  EXPECT_EQ(r.differences, 1u);
  EXPECT_EQ(r.first, m.path(bottom) + ": byte 0 differs");
  EXPECT_GT(r.first.size(), 4096u);
  ASSERT_FALSE(remove_tree(parent_, "src", 2));
  ASSERT_FALSE(remove_tree(parent_, "dst", 2));
  struct stat st {};
  EXPECT_NE(::fstatat(parent_, "src", &st, AT_SYMLINK_NOFOLLOW), 0);
}

TEST_F(CopiedTree, CatchesAFlippedByte) {
  const int fd = ::openat(dst_, "sizes/3m+17", O_RDWR);
  ASSERT_GE(fd, 0);
  char c = 0;
  ASSERT_EQ(::pread(fd, &c, 1, (2 << 20) + 5), 1);
  c = static_cast<char>(c ^ 0x10);
  ASSERT_EQ(::pwrite(fd, &c, 1, (2 << 20) + 5), 1);
  ::close(fd);
  expect_first("sizes/3m+17: byte 2097157 differs");
}

TEST_F(CopiedTree, CatchesAMissingFile) {
  ASSERT_EQ(::unlinkat(dst_, "names/with space", 0), 0);
  expect_first("names/with space: missing in the copy");
}

TEST_F(CopiedTree, CatchesAnExtraFile) {
  ::close(::openat(dst_, "links/extra", O_CREAT | O_WRONLY, 0644));
  expect_first("links/extra: not in the source (extra in the copy)");
}

TEST_F(CopiedTree, CatchesASymlinkTurnedIntoAFile) {
  replace_in_copy("links/dangling", "does-not-exist");
  expect_first("links/dangling: a symlink in the source, a regular file in the copy");
}

TEST_F(CopiedTree, CatchesAChangedSymlinkTarget) {
  ASSERT_EQ(::unlinkat(dst_, "links/relative", 0), 0);
  ASSERT_EQ(::symlinkat("../sizes/one", dst_, "links/relative"), 0);
  expect_first(
      "links/relative: symlink to '../sizes/page' in the source, to '../sizes/one' in the copy");
}

TEST_F(CopiedTree, CatchesABrokenHardlinkGroup) {
  ASSERT_EQ(::unlinkat(dst_, "hardlinks/b/two", 0), 0);
  ASSERT_EQ(run({"/bin/cp", "-p", path("dst/hardlinks/a/one"), path("dst/hardlinks/b/two")}), 0);
  expect_first("hardlinks/a/one and hardlinks/b/two: one inode in the source, two in the copy");
  VerifyOptions no_links;
  no_links.links = false;
  EXPECT_TRUE(verify(no_links).ok());
}

TEST_F(CopiedTree, CatchesTwoFilesMadeOne) {
  ASSERT_EQ(::unlinkat(dst_, "sizes/one", 0), 0);
  ASSERT_EQ(::linkat(dst_, "names/-leading-dash", dst_, "sizes/one", 0), 0);
  // The link also makes sizes/one 14 bytes: that is the first difference in the trees' order.
  const VerifyResult r = verify();
  EXPECT_EQ(r.first,
            "names/-leading-dash and sizes/one: two inodes in the source, one in the copy");
}

TEST_F(CopiedTree, CatchesAFilledHole) {
  const int fd = ::openat(dst_, "sparse/hole-in-middle", O_RDWR);
  ASSERT_GE(fd, 0);
  std::string bytes(1 << 20, '\0');
  ASSERT_EQ(::pread(fd, bytes.data(), bytes.size(), 0), 1 << 20);
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), 0), 1 << 20);
  ::close(fd);
  expect_first("sparse/hole-in-middle: 1048576 bytes allocated in the copy, 262144 in the source");
  VerifyOptions no_holes;
  no_holes.holes = false;
  EXPECT_TRUE(verify(no_holes).ok());
}

TEST_F(CopiedTree, CatchesAWrongMode) {
  ASSERT_EQ(::fchmodat(dst_, "modes/mode-0640", 0600, 0), 0);
  expect_first("modes/mode-0640: mode 0640 in the source, 0600 in the copy");
  VerifyOptions no_mode;
  no_mode.mode = false;
  EXPECT_TRUE(verify(no_mode).ok());
}

TEST_F(CopiedTree, CatchesADirectorysMode) {
  ASSERT_EQ(::fchmodat(dst_, "modes/read-only-dir", 0700, 0), 0);
  expect_first("modes/read-only-dir: mode 0500 in the source, 0700 in the copy");
}

TEST_F(CopiedTree, ComparesTimesWhenAsked) {
  const struct timespec times[2] = {{0, UTIME_OMIT}, {1000, 5}};
  ASSERT_EQ(::utimensat(dst_, "sizes/one", times, AT_SYMLINK_NOFOLLOW), 0);
  EXPECT_TRUE(verify().ok());
  VerifyOptions with_times;
  with_times.times = true;
  const VerifyResult r = verify(with_times);
  EXPECT_TRUE(r.first.starts_with("sizes/one: modification time ")) << r.first;
  EXPECT_TRUE(r.first.ends_with(" in the source, 1000.000000005 in the copy")) << r.first;
}

TEST_F(CopiedTree, ComparesOwnershipWhenAsked) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file away";
  ASSERT_EQ(::fchownat(dst_, "sizes/one", 4321, 4321, 0), 0);
  EXPECT_TRUE(verify().ok());
  VerifyOptions with_owner;
  with_owner.ownership = true;
  expect_first("sizes/one: owner " + std::to_string(::geteuid()) + ":" +
                   std::to_string(::getegid()) + " in the source, 4321:4321 in the copy",
               with_owner);
}

TEST_F(CopiedTree, ComparesExtendedAttributesWhenAsked) {
  const int fd = ::openat(src_, "sizes/one", O_RDONLY);
  ASSERT_GE(fd, 0);
  const int rc = ::fsetxattr(fd, "user.ccopy", "1", 1, 0);
  const int err = errno;
  ::close(fd);
  if (rc != 0 && (err == ENOTSUP || err == EPERM))
    GTEST_SKIP() << "this file system takes no user.* extended attributes";
  ASSERT_EQ(rc, 0);
  EXPECT_TRUE(verify().ok());
  VerifyOptions with_xattrs;
  with_xattrs.xattrs = true;
  expect_first("sizes/one: extended attribute user.ccopy missing in the copy", with_xattrs);
}

// The first difference is the first in the trees' order, whatever the threads find first.
TEST_F(CopiedTree, TheFirstDifferenceIsTheFirstInTheTreesOrder) {
  ASSERT_EQ(::unlinkat(dst_, "sizes/page", 0), 0);
  ASSERT_EQ(::fchmodat(dst_, "names/with space", 0600, 0), 0);
  ASSERT_EQ(::unlinkat(dst_, "links/target", 0), 0);
  for (unsigned threads : {1u, 2u, 8u}) {
    VerifyOptions options;
    options.threads = threads;
    const VerifyResult r = verify(options);
    EXPECT_EQ(r.first, "links/target: missing in the copy");
    EXPECT_EQ(r.differences, 3u);
  }
}

TEST_F(CopiedTree, SkippedPathsAreLeftOutOfBothSides) {
  ASSERT_EQ(::unlinkat(dst_, "names/with space", 0), 0);
  ASSERT_EQ(::fchmodat(dst_, "modes/read-only-dir", 0700, 0), 0);
  VerifyOptions options;
  options.skip = {"names/with space", "modes/read-only-dir"};
  const VerifyResult r = verify(options);
  EXPECT_TRUE(r.ok()) << r.first;
  EXPECT_EQ(r.entries, manifest_.entries.size() - 1 - 4);  // the file, the directory and its two
}

TEST_F(TreeOnDisk, ALinuxTreeAndItsCopyVerify) {
  const Manifest m = plan(Shape::linux, 0.05);
  const int src = make("src");
  const int dst = make("dst");
  ASSERT_FALSE(write_tree(m, src, 3, 4, nullptr));
  cp_a();
  VerifyOptions options;
  options.threads = 4;
  options.times = true;
  VerifyResult r;
  ASSERT_FALSE(verify_tree(src, dst, options, r));
  EXPECT_TRUE(r.ok()) << r.first;
  EXPECT_EQ(r.entries, m.entries.size() - 1);
}

}  // namespace
}  // namespace ccopy
