// Faults the system produces, on every engine: a full file system (ENOSPC), a file-size limit
// (EFBIG), the descriptor limit (EMFILE), a destination that cannot be written (EACCES), and a
// source deleted or truncated while the tree is copied. Each failing file must be reported by
// name with the errno text; every other file's result must stay honest, and nothing may leak.
// Faults that need a lowered limit, another user or a private mount run in a child process.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "fault_support.hpp"

namespace ccopy {
namespace {

using testing::ChildReport;
using testing::TestDir;

constexpr unsigned kNobody = 65534;

// Writes a file of `size` pseudo-random bytes.
void write_file(const std::string& path, std::uint64_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string data(size, '\0');
  for (char& c : data) c = static_cast<char>(random());
  std::ofstream(path, std::ios::binary) << data;
}

class SystemFaults : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine_ = testing::make_engine_or_skip(GetParam());
    if (!engine_) GTEST_SKIP() << GetParam() << " cannot run here";
    ASSERT_TRUE(dir_.ok());
    source_ = dir_.path() + "/src";
    destination_ = dir_.path() + "/dst";
    ASSERT_TRUE(std::filesystem::create_directory(source_));
  }

  // Generates the files of `sizes` in the source, as file_0, file_1, ... below `subdirectory`
  // of it (created when not empty).
  void generate(const std::vector<std::uint64_t>& sizes, const std::string& subdirectory = {}) {
    std::string where = source_;
    if (!subdirectory.empty()) {
      where += "/" + subdirectory;
      ASSERT_TRUE(std::filesystem::create_directory(where));
    }
    for (std::size_t i = 0; i < sizes.size(); ++i)
      write_file(where + "/file_" + std::to_string(i), sizes[i], static_cast<unsigned>(i + 1));
  }

  // Reports a skip from the child, or checks what every fault demands.
  void expect_honest(const ChildReport& report) {
    if (!report.skip.empty()) GTEST_SKIP() << report.skip;
    testing::expect_honest(source_, destination_, report);
  }

  TestDir dir_;
  std::string source_, destination_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(SystemFaults, AFullFileSystemIsNamedAsEnospc) {
  // Eight files of 96 KiB copied onto a 256 KiB tmpfs: the first ones fit, a later one cannot,
  // and the copy stops there.
  generate(std::vector<std::uint64_t>(8, 96 * 1024));
  const std::string mount_point = dir_.path() + "/small";
  ASSERT_TRUE(std::filesystem::create_directory(mount_point));
  destination_ = mount_point + "/dst";
  const ChildReport report =
      testing::copy_in_child(*engine_, source_, destination_, {}, [&]() -> std::string {
        if (::unshare(CLONE_NEWNS) < 0)
          return "a private mount namespace needs CAP_SYS_ADMIN (unshare: " +
                 sys::error_text(errno) + ")";
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
          return "mount --make-rprivate /: " + sys::error_text(errno);
        if (::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=256k") < 0)
          return "mounting a small tmpfs is not permitted here: " + sys::error_text(errno);
        return {};
      });
  expect_honest(report);
  if (!report.skip.empty()) return;
  // How many fail depends on how many files the engine writes at once: all of them may.
  EXPECT_GE(report.failed_with(ENOSPC), 1u) << "the tmpfs never filled up";
  for (const testing::ChildError& e : report.errors) {
    if (e.code == ENOSPC) {
      EXPECT_NE(e.reason.find("No space left on device"), std::string::npos) << e.reason;
    }
  }
  EXPECT_EQ(report.fatal_code, ENOSPC) << report.fatal;
  EXPECT_NE(report.fatal.find("the destination is full"), std::string::npos) << report.fatal;
  EXPECT_LT(report.files_copied, 8u);
}

TEST_P(SystemFaults, AFileSizeLimitIsNamedAsEfbig) {
  // RLIMIT_FSIZE of 100 000 bytes: the 300 000-byte files hit it, the small one does not.
  generate({300'000, 50'000, 300'000});
  const ChildReport report =
      testing::copy_in_child(*engine_, source_, destination_, {}, []() -> std::string {
        ::signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{100'000, 100'000};
        if (::setrlimit(RLIMIT_FSIZE, &limit) < 0)
          return "setrlimit(RLIMIT_FSIZE): " + sys::error_text(errno);
        return {};
      });
  expect_honest(report);
  ASSERT_EQ(report.files.size(), 3u);
  EXPECT_TRUE(report.fatal.empty()) << report.fatal;
  for (const char* big : {"file_0", "file_2"}) {
    const testing::ChildError* e = report.error_of(source_, big);
    ASSERT_NE(e, nullptr) << big << " was not reported";
    EXPECT_EQ(e->code, EFBIG) << e->reason;
    EXPECT_NE(e->reason.find("File too large"), std::string::npos) << e->reason;
  }
  EXPECT_EQ(report.failed, 2u);
  EXPECT_TRUE(report.files[1].verified) << report.files[1].path;
}

TEST_P(SystemFaults, TheDescriptorLimitIsNamedAsEmfile) {
#ifdef CCOPY_UBSAN
  // UBSan's vptr check probes memory through a pipe (IsAccessibleMemoryRange in
  // sanitizer_common); with no descriptor free the probe fails and it reports a false
  // "invalid vptr". The plain and TSan builds run this test.
  GTEST_SKIP() << "UBSan needs a free descriptor for its own checks";
#endif
  // Descriptors to spare: the root of the copy holds two (its source and its destination
  // directory), and checking that it is not copied into itself opens two more for a moment;
  // then a file's source may open, its destination cannot (and an event loop's own
  // descriptors take the spare ones first). libuv's loop needs four of its own (epoll, its
  // signal pipe, an eventfd), and libuv 1.44 leaks one when uv_loop_init fails with EMFILE
  // (measured with a ten-line C program), so uv gets five more: its loop starts and its twenty
  // concurrent opens still run out.
  const std::size_t spare = GetParam() == "uv" ? 8 : 3;
  generate(std::vector<std::uint64_t>(20, 10'000));
  rlimit saved{};
  ::getrlimit(RLIMIT_NOFILE, &saved);
  EngineOptions options;
  options.inflight = 20;
  const ChildReport report = testing::copy_in_child(
      *engine_, source_, destination_, options,
      [spare]() -> std::string {
        rlimit limit{};
        ::getrlimit(RLIMIT_NOFILE, &limit);
        limit.rlim_cur = static_cast<rlim_t>(testing::open_descriptors() + 12);
        if (::setrlimit(RLIMIT_NOFILE, &limit) < 0)
          return "setrlimit(RLIMIT_NOFILE): " + sys::error_text(errno);
        // Descriptor numbers below the limit may be free between open ones: fill every free
        // number, then give exactly `spare` back.
        std::vector<int> taken;
        for (int fd; (fd = ::open("/dev/null", O_RDONLY)) >= 0;) taken.push_back(fd);
        if (errno != EMFILE || taken.size() < spare)
          return "could not use up the descriptors: " + sys::error_text(errno);
        for (std::size_t i = 0; i < spare; ++i) ::close(taken[taken.size() - 1 - i]);
        return {};
      },
      [saved] { ::setrlimit(RLIMIT_NOFILE, &saved); });  // looking at the copy needs descriptors
  expect_honest(report);
  const bool engine_refused = report.fatal.find("Too many open files") != std::string::npos;
  EXPECT_TRUE(engine_refused || report.failed_with(EMFILE) > 0)
      << "no EMFILE reported; fatal error: " << report.fatal;
  for (const testing::ChildError& e : report.errors) {
    if (e.code == EMFILE) {
      EXPECT_NE(e.reason.find("Too many open files"), std::string::npos) << e.reason;
    }
  }
}

TEST_P(SystemFaults, AnUnwritableDestinationIsNamedAsEacces) {
  // The tree is copied into a destination that exists (merged into, as cp does): its `closed`
  // directory may not be written to, its `open` one may. The child copies as an unprivileged
  // user (nobody, when the test runs as root, who bypasses permissions), who owns them all.
  generate(std::vector<std::uint64_t>(3, 20'000), "closed");
  generate(std::vector<std::uint64_t>(3, 20'000), "open");
  ::chmod(dir_.path().c_str(), 0755);
  const bool root = ::geteuid() == 0;
  for (const char* d : {"", "/closed", "/open"}) {
    ASSERT_EQ(::mkdir((destination_ + d).c_str(), 0755), 0) << d;
    if (root) {
      ASSERT_EQ(::chown((destination_ + d).c_str(), kNobody, kNobody), 0) << d;
    }
  }
  ::chmod((destination_ + "/closed").c_str(), 0555);
  const ChildReport report =
      testing::copy_in_child(*engine_, source_, destination_, {}, [root]() -> std::string {
        if (root) {
          if (::setgroups(0, nullptr) < 0 || ::setgid(kNobody) < 0 || ::setuid(kNobody) < 0)
            return "cannot drop root privileges to test permissions: " + sys::error_text(errno);
        }
        return {};
      });
  expect_honest(report);
  ASSERT_EQ(report.files.size(), 6u);
  EXPECT_EQ(report.failed, 3u);
  for (const testing::ChildFile& f : report.files) {
    if (f.path.rfind("closed/", 0) == 0) {
      const testing::ChildError* e = report.error_of(source_, f.path);
      ASSERT_NE(e, nullptr) << f.path << " was not reported";
      EXPECT_EQ(e->code, EACCES) << e->reason;
      EXPECT_NE(e->reason.find("Permission denied"), std::string::npos) << e->reason;
      EXPECT_EQ(e->destination, destination_ + "/" + f.path) << e->reason;
    } else {
      EXPECT_TRUE(f.verified) << f.path;
    }
  }
}

// Between the walk and the copy, one source is deleted (once the root's listing has named it)
// and another truncated (once its size was read and its destination created): the first fails
// to open, the second ends early, each named; the others are copied.
struct DeleteAndTruncate {
  std::string deleted, truncated;
  std::atomic<bool> listed{false}, cut{false};
  static long hook(sys::Op op, long result, void* context) {
    auto& self = *static_cast<DeleteAndTruncate*>(context);
    if (op == sys::Op::list_directory && result > 0 && !self.listed.exchange(true))
      (void)::unlink(self.deleted.c_str());
    if (op == sys::Op::create_destination && result >= 0) {
      // Which file's destination this is: its descriptor's path.
      char path[4096];
      const std::string fd = "/proc/self/fd/" + std::to_string(result);
      const ssize_t n = ::readlink(fd.c_str(), path, sizeof path - 1);
      if (n > 0 && std::string(path, static_cast<std::size_t>(n)).ends_with("/file_3") &&
          !self.cut.exchange(true))
        (void)::truncate(self.truncated.c_str(), 70'000);
    }
    return result;
  }
};

TEST_P(SystemFaults, ASourceDeletedOrTruncatedWhileTheTreeIsCopiedIsNamed) {
  generate(std::vector<std::uint64_t>(5, 200'000));
  DeleteAndTruncate faults;
  faults.deleted = source_ + "/file_1";
  faults.truncated = source_ + "/file_3";
  const std::size_t fds_before = testing::open_descriptors();
  CopyObserver quiet;
  CopyResult result;
  {
    testing::ScopedFaultHook hook(DeleteAndTruncate::hook, &faults);
    result =
        copy_tree({{source_, destination_}}, *engine_, {}, testing::benchmark_options(), quiet);
  }
  ASSERT_TRUE(faults.listed.load());
  ASSERT_TRUE(faults.cut.load()) << "file_3's destination was never created";
  EXPECT_EQ(testing::open_descriptors(), fds_before) << "descriptors leaked";
  ASSERT_EQ(result.failed, 2u) << testing::first_error(result);
  for (const CopyError& e : result.errors) {
    if (e.path == faults.deleted) {
      EXPECT_EQ(e.code, ENOENT) << e.reason();
      // The uv engine stats and opens a source at once on its pool: either step may be the
      // one that finds the file gone first.
      EXPECT_TRUE(e.reason() == "open: No such file or directory" ||
                  (GetParam() == "uv" && e.reason() == "stat: No such file or directory"))
          << e.reason();
    } else {
      EXPECT_EQ(e.path, faults.truncated);
      EXPECT_NE(e.detail.find("ended at byte 70000, expected 200000"), std::string::npos)
          << e.reason();
    }
  }
  EXPECT_EQ(testing::expect_honest_result(source_, destination_, result), 3u);
}

INSTANTIATE_TEST_SUITE_P(Every, SystemFaults, ::testing::ValuesIn(testing::every_engine()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace ccopy
