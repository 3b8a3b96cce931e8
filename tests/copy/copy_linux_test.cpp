// The Linux source tree (Debian's linux-source-6.1), unpacked once into a scratch directory:
// `copy -a` with the auto engine and with uring (threads where io_uring cannot run) gives what
// `cp -a` gives, entry for entry. Release builds only: under a sanitizer the copies of 80,000
// files would take most of an hour.
#include <gtest/gtest.h>

#include "copy/copy_support.hpp"
#include "test_dir.hpp"

namespace ccopy {
namespace {

constexpr const char* kTarball = "/usr/src/linux-source-6.1.tar.xz";

TEST(LinuxSource, CopyDashAEqualsCpDashA) {
#ifdef CCOPY_SANITIZED
  GTEST_SKIP() << "sanitized build: the Linux tree is copied in release builds only";
#endif
  if (!std::filesystem::exists(kTarball))
    GTEST_SKIP() << kTarball << " is missing (apt-get install linux-source-6.1)";
  testing::TestDir dir;
  ASSERT_TRUE(dir.ok());
  const testing::ProcessResult unpacked = testing::run_program(
      "/usr/bin/tar", {"-xJf", kTarball, "-C", dir.path()}, std::chrono::seconds(240));
  ASSERT_EQ(unpacked.exit_code, 0) << unpacked.err;
  const std::string src = dir.path() + "/linux-source-6.1";
  const std::string by_cp = dir.path() + "/by-cp";
  const testing::ProcessResult cp = testing::run_cp({"-a", src, by_cp});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  testing::Listing listing;
  ASSERT_EQ(testing::list_tree(by_cp, listing), "");
  ASSERT_GT(listing.size(), 70000u);
  std::string other = "uring";
  if (!testing::engine_unavailable(other, dir.path()).empty()) other = "threads";
  for (const std::string& engine : {std::string("auto"), other}) {
    const std::string copy = dir.path() + "/by-" + engine;
    const testing::ProcessResult r =
        testing::run_copy({"-a", "--engine", engine, src, copy}, {}, std::chrono::seconds(120));
    ASSERT_EQ(r.exit_code, 0) << engine << ": " << r.err;
    EXPECT_EQ(testing::tree_differences(by_cp, copy), "") << engine;
    std::filesystem::remove_all(copy);
  }
}

}  // namespace
}  // namespace ccopy
