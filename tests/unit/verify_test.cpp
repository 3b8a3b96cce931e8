// The verifier must catch what a bad copy looks like: a flipped byte, a truncated file, a
// missing one.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ccopy/fileset.hpp"
#include "ccopy/verify.hpp"
#include "test_dir.hpp"

namespace ccopy {
namespace {

class Verifier : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    ASSERT_FALSE(Workspace::create(dir_.path(), workspace_));
    jobs_ = plan_jobs(workspace_, 2, 3 * 1024 * 1024 + 7);
    ASSERT_FALSE(generate_sources(jobs_, 7));
    for (const CopyJob& job : jobs_) std::filesystem::copy_file(job.source, job.destination);
  }

  testing::TestDir dir_;
  Workspace workspace_;
  std::vector<CopyJob> jobs_;
};

TEST_F(Verifier, AcceptsIdenticalCopies) {
  const VerifyReport report = verify_copies(jobs_);
  EXPECT_TRUE(report.ok()) << report.first_error().message();
  EXPECT_EQ(report.failed, 0u);
}

TEST_F(Verifier, CatchesOneFlippedByteAndNamesItsOffset) {
  const std::uint64_t offset = 2 * 1024 * 1024 + 12345;
  {
    std::fstream f(jobs_[1].destination, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    const char c = static_cast<char>(f.get());
    f.seekp(static_cast<std::streamoff>(offset));
    f.put(static_cast<char>(c ^ 0x01));
  }
  const VerifyReport report = verify_copies(jobs_);
  EXPECT_EQ(report.failed, 1u);
  EXPECT_FALSE(report.files[0]);
  ASSERT_TRUE(report.files[1]);
  EXPECT_NE(report.files[1].message().find("at byte " + std::to_string(offset)), std::string::npos)
      << report.files[1].message();
}

TEST_F(Verifier, CatchesATruncatedCopy) {
  std::filesystem::resize_file(jobs_[0].destination, 1000);
  const Error e = verify_copy(jobs_[0]);
  ASSERT_TRUE(e);
  EXPECT_NE(e.message().find("is 1000 bytes"), std::string::npos) << e.message();
}

TEST_F(Verifier, CatchesALongerCopy) {
  std::ofstream(jobs_[0].destination, std::ios::app | std::ios::binary) << 'x';
  const Error e = verify_copy(jobs_[0]);
  ASSERT_TRUE(e);
  EXPECT_NE(e.message().find("differs"), std::string::npos) << e.message();
}

TEST_F(Verifier, CatchesAMissingCopy) {
  std::filesystem::remove(jobs_[0].destination);
  const Error e = verify_copy(jobs_[0]);
  ASSERT_TRUE(e);
  EXPECT_EQ(e.code, ENOENT);
  EXPECT_NE(e.message().find(jobs_[0].destination), std::string::npos);
}

TEST(GeneratedFiles, DifferFromEachOther) {
  testing::TestDir dir;
  Workspace workspace;
  ASSERT_FALSE(Workspace::create(dir.path(), workspace));
  const std::vector<CopyJob> jobs = plan_jobs(workspace, 2, 4096);
  ASSERT_FALSE(generate_sources(jobs, 7));
  // Comparing the two sources as if one were the other's copy must find a difference.
  EXPECT_TRUE(verify_copy(CopyJob{jobs[0].source, jobs[1].source, 4096}));
  EXPECT_EQ(std::filesystem::file_size(jobs[0].source), 4096u);
}

TEST(Workspaces, RemoveThemselvesUnlessKept) {
  testing::TestDir dir;
  std::string root;
  {
    Workspace workspace;
    ASSERT_FALSE(Workspace::create(dir.path(), workspace));
    root = workspace.root();
    EXPECT_TRUE(std::filesystem::is_directory(workspace.source_dir()));
  }
  EXPECT_FALSE(std::filesystem::exists(root));
  {
    Workspace workspace;
    ASSERT_FALSE(Workspace::create(dir.path(), workspace));
    root = workspace.root();
    workspace.keep();
  }
  EXPECT_TRUE(std::filesystem::exists(root));
}

}  // namespace
}  // namespace ccopy
