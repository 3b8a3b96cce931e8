// -fs on the real binary, as root: a fresh file system of each kind is made for the scenario,
// the copies run and verify inside it, the header and the JSON say which it was, on xfs and
// btrfs the kernel engine's copies are reflinks, and at the end (or on SIGTERM) nothing stays
// mounted and no image is left. Without root, or without the kind's mkfs, each case skips.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "process.hpp"
#include "test_dir.hpp"

namespace ccopy {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::entries_in;
using testing::file_text;
using testing::Process;
using testing::ProcessResult;
using testing::run_binary;
using testing::TestDir;

// Whether a loop device is still attached to a file in `dir` (loop devices are the machine's,
// whatever mount namespace the run made).
bool loop_backed_by_file_in(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/sys/block", ec)) {
    const std::string backing = file_text((e.path() / "loop" / "backing_file").string());
    if (backing.rfind(dir + "/", 0) == 0) return true;
  }
  return false;
}

std::string cannot_make(const std::string& kind) {
  if (::geteuid() != 0) return "-fs needs root";
  if (kind == "tmpfs") return {};
  for (const char* d : {"/usr/sbin/", "/sbin/", "/usr/bin/"})
    if (::access((d + ("mkfs." + kind)).c_str(), X_OK) == 0) return {};
  return "mkfs." + kind + " is not installed";
}

class FreshFs : public ::testing::TestWithParam<std::string> {};

TEST_P(FreshFs, TheCopiesRunVerifyAndLeaveNothing) {
  const std::string kind = GetParam();
  if (const std::string why = cannot_make(kind); !why.empty()) GTEST_SKIP() << why;
  TestDir dir, images, out;
  const std::string json = out.path() + "/r.json";
  const ProcessResult r = run_binary(
      {"-fs", kind, "-tree", "node_modules", "-tree-scale", "0.01", "-mode", "all", "-runs", "1",
       "-warmup", "0", "-dir", dir.path(), "-fs-image", images.path(), "-json", json, "-quiet"},
      std::vector<std::string>{}, 120s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\nFilesystem: " + kind), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nVerification: OK\n"), std::string::npos) << r.out;
  const nlohmann::json doc = nlohmann::json::parse(file_text(json));
  const nlohmann::json& s = doc["scenarios"][0];
  EXPECT_EQ(s["filesystem"]["type"], kind);
  for (const auto& e : s["engines"]) {
    EXPECT_EQ(e["verified"], true) << e["label"];
    const bool clones = (kind == "xfs" || kind == "btrfs") && e["label"] == "kernel";
    if (clones) {
      EXPECT_EQ(e["reflinked_files"], s["tree"]["files"]) << "every file a reflink on " << kind;
    } else if (e["label"] == "kernel") {
      EXPECT_EQ(e["reflinked_files"], 0);
    }
  }
  EXPECT_EQ(entries_in(dir.path()), 0u) << "the workspace was left";
  EXPECT_EQ(entries_in(images.path()), 0u) << "an image was left";
  EXPECT_FALSE(loop_backed_by_file_in(images.path())) << "a loop device is still attached";
}

INSTANTIATE_TEST_SUITE_P(Kinds, FreshFs, ::testing::Values("ext4", "xfs", "btrfs", "tmpfs"));

// A -src tree is copied onto the fresh file system first, and the copies stay inside it.
TEST(FreshFsSource, AUsersTreeIsCopiedOntoItFirst) {
  if (const std::string why = cannot_make("ext4"); !why.empty()) GTEST_SKIP() << why;
  TestDir src, dir, images;
  fs::create_directories(src.path() + "/t/a");
  std::ofstream(src.path() + "/t/a/f") << "data";
  fs::create_symlink("a/f", src.path() + "/t/l");
  const ProcessResult r = run_binary({"-fs", "ext4", "-src", src.path() + "/t", "-mode", "threads",
                                      "-runs", "1", "-warmup", "0", "-dir", dir.path(), "-fs-image",
                                      images.path(), "-quiet"},
                                     std::vector<std::string>{}, 120s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Tree: " + src.path() + "/t"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nFilesystem: ext4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nVerification: OK\n"), std::string::npos) << r.out;
  EXPECT_EQ(entries_in(src.path() + "/t"), 2u) << "the source changed";
  EXPECT_EQ(entries_in(dir.path()), 0u);
  EXPECT_EQ(entries_in(images.path()), 0u);
}

// SIGTERM while the fresh file system is mounted (in the run's private mount namespace, seen
// through /proc/PID/mounts): unmounted, the loop device detached, the image deleted, and the
// process dies of the signal.
TEST(FreshFsSignal, SigtermUnmountsAndDeletesTheImage) {
  if (const std::string why = cannot_make("ext4"); !why.empty()) GTEST_SKIP() << why;
  TestDir dir, images;
  Process p(CCOPY_BINARY, {"-fs", "ext4", "-tree", "photos", "-tree-scale", "0.1", "-mode",
                           "threads", "-runs", "100", "-warmup", "0", "-dir", dir.path(),
                           "-fs-image", images.path()});
  const std::string mounts = "/proc/" + std::to_string(p.pid()) + "/mounts";
  bool mounted = false;
  for (auto end = std::chrono::steady_clock::now() + 60s;
       !mounted && std::chrono::steady_clock::now() < end;) {
    mounted = file_text(mounts).find(dir.path() + "/") != std::string::npos;
    if (!mounted && p.wait_for_output("\x01 never printed", 10ms)) break;  // it ended
  }
  ASSERT_TRUE(mounted) << "the file system was never mounted";
  ASSERT_TRUE(loop_backed_by_file_in(images.path())) << "no loop device found for the image";
  ASSERT_EQ(::kill(p.pid(), SIGTERM), 0);
  const ProcessResult r = p.finish(60s);
  EXPECT_EQ(r.signal, SIGTERM) << r.exit_code << r.err;
  EXPECT_FALSE(loop_backed_by_file_in(images.path())) << "a loop device is still attached";
  EXPECT_EQ(entries_in(images.path()), 0u) << "the image was left";
  EXPECT_EQ(entries_in(dir.path()), 0u) << "the workspace was left";
}

}  // namespace
}  // namespace ccopy
