// The engine and directory rows: the original's names first and in agreement with -mode, what
// -mode and -dir select at start, and what cannot be chosen.
#include "menu_settings.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "ccopy/engine.hpp"
#include "test_dir.hpp"

namespace ccopy::cli::menu {
namespace {

const EngineRow* row_named(const std::vector<EngineRow>& rows, const std::string& label) {
  const auto it = std::find_if(rows.begin(), rows.end(),
                               [&](const EngineRow& r) { return r.choice.label == label; });
  return it == rows.end() ? nullptr : &*it;
}

std::vector<std::string> selected_labels(const std::vector<EngineRow>& rows) {
  std::vector<std::string> out;
  for (const EngineChoice& c : chosen_engines(rows)) out.push_back(c.label);
  return out;
}

// Sets an environment variable for one test and puts the old value back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(EngineRows, TheOriginalsTwoComeFirstThenEveryOtherEngineOnce) {
  const std::vector<EngineRow> rows = engine_rows();
  ASSERT_EQ(rows.size(), engine_registry().size());
  EXPECT_EQ(rows[0].choice.label, "xev");
  EXPECT_EQ(rows[0].choice.engine, "uring");
  EXPECT_EQ(rows[1].choice.label, "goroutine");
  EXPECT_EQ(rows[1].choice.engine, "threads");
  for (const EngineInfo& info : engine_registry())
    EXPECT_EQ(std::count_if(rows.begin(), rows.end(),
                            [&](const EngineRow& r) { return r.choice.engine == info.name; }),
              1)
        << info.name;
}

TEST(EngineRows, TheirNamesAreTheOnesModeKnows) {
  for (const EngineRow& row : engine_rows()) {
    EXPECT_FALSE(check_mode_names(row.choice.label)) << row.choice.label;
    if (!row.availability.available) continue;
    std::vector<EngineChoice> engines;
    std::vector<std::string> notes;
    ASSERT_FALSE(resolve_modes(row.choice.label, engines, notes)) << row.choice.label;
    ASSERT_EQ(engines.size(), 1u);
    EXPECT_EQ(engines[0].engine, row.choice.engine) << row.choice.label;
  }
}

TEST(EngineRows, UnavailableOnesSayWhy) {
  for (const EngineRow& row : engine_rows()) {
    if (!row.availability.available) {
      EXPECT_FALSE(row.availability.reason.empty()) << row.choice.label;
    }
  }
}

TEST(SelectEngines, BothChoosesXevAndGoroutine) {
  std::vector<EngineRow> rows = engine_rows();
  std::vector<std::string> notes;
  ASSERT_FALSE(select_engines("both", rows, notes));
  if (!row_named(rows, "xev")->availability.available) {
    // As the benchmark does, xev then runs on the uv engine, and a note says so.
    EXPECT_EQ(selected_labels(rows), (std::vector<std::string>{"goroutine", "uv"}));
    EXPECT_FALSE(notes.empty());
    return;
  }
  EXPECT_EQ(selected_labels(rows), (std::vector<std::string>{"xev", "goroutine"}));
}

TEST(SelectEngines, AnEngineByItsName) {
  std::vector<EngineRow> rows = engine_rows();
  std::vector<std::string> notes;
  ASSERT_FALSE(select_engines("kernel", rows, notes));
  EXPECT_EQ(selected_labels(rows), (std::vector<std::string>{"kernel"}));
  ASSERT_FALSE(select_engines("threads,uv", rows, notes));
  EXPECT_EQ(selected_labels(rows), (std::vector<std::string>{"goroutine", "uv"}));
}

TEST(SelectEngines, AllChoosesEveryEngineThatCanRun) {
  std::vector<EngineRow> rows = engine_rows();
  std::vector<std::string> notes;
  ASSERT_FALSE(select_engines("all", rows, notes));
  for (const EngineRow& row : rows)
    EXPECT_EQ(row.selected, row.availability.available) << row.choice.label;
}

TEST(SelectEngines, NeverSelectsARowThatCannotRun) {
  std::vector<EngineRow> rows = engine_rows();
  rows[1].availability = {false, "taken away for the test"};
  std::vector<std::string> notes;
  ASSERT_FALSE(select_engines("goroutine,kernel", rows, notes));
  EXPECT_EQ(selected_labels(rows), (std::vector<std::string>{"kernel"}));
}

TEST(SelectEngines, AnUnknownModeIsTheBenchmarksError) {
  std::vector<EngineRow> rows = engine_rows();
  std::vector<std::string> notes;
  const Error e = select_engines("fastest", rows, notes);
  ASSERT_TRUE(e);
  EXPECT_NE(e.message().find("unknown mode 'fastest'"), std::string::npos) << e.message();
}

TEST(DirectoryRows, OfferShmTmpdirAndATypedOne) {
  testing::TestDir dir;
  const ScopedEnv env("TMPDIR", dir.path().c_str());
  const std::vector<DirectoryRow> rows = directory_rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].path, "/dev/shm");
  EXPECT_EQ(rows[1].label, "$TMPDIR");
  EXPECT_EQ(rows[1].path, dir.path());
  EXPECT_TRUE(rows[1].problem.empty());
  EXPECT_TRUE(rows[2].typed);
  EXPECT_TRUE(rows[2].path.empty());
}

TEST(DirectoryRows, WithoutTmpdirTheSecondIsSlashTmp) {
  const ScopedEnv env("TMPDIR", nullptr);
  const std::vector<DirectoryRow> rows = directory_rows();
  EXPECT_EQ(rows[1].label, "/tmp");
  EXPECT_EQ(rows[1].path, "/tmp");
}

TEST(DirectoryRows, ARowThatCannotBeWrittenSaysWhy) {
  const ScopedEnv env("TMPDIR", "/nonexistent-ccopy-dir");
  const std::vector<DirectoryRow> rows = directory_rows();
  EXPECT_EQ(rows[1].problem, "/nonexistent-ccopy-dir: No such file or directory");
}

TEST(SelectDirectory, TheRowWithThePathElseTheTypedOne) {
  testing::TestDir dir;
  const ScopedEnv env("TMPDIR", nullptr);
  std::vector<DirectoryRow> rows = directory_rows();
  EXPECT_EQ(select_directory("/tmp", rows), 1u);
  EXPECT_EQ(select_directory(dir.path(), rows), 2u);
  EXPECT_EQ(rows[2].path, dir.path());
  EXPECT_TRUE(rows[2].problem.empty());
}

}  // namespace
}  // namespace ccopy::cli::menu
