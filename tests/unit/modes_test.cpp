#include <gtest/gtest.h>

#include <algorithm>

#include "ccopy/benchmark.hpp"

namespace ccopy {
namespace {

std::vector<std::string> labels(const std::vector<EngineChoice>& engines) {
  std::vector<std::string> out;
  for (const EngineChoice& e : engines) out.push_back(e.label);
  return out;
}

TEST(Modes, BothMeansTheOriginalsTwoDesigns) {
  std::vector<EngineChoice> engines;
  std::vector<std::string> notes;
  ASSERT_FALSE(resolve_modes("both", engines, notes));
  ASSERT_EQ(engines.size(), 2u);
  EXPECT_EQ(engines[0].label, "xev");
  EXPECT_EQ(engines[1].label, "goroutine");
  EXPECT_EQ(engines[1].engine, "threads");
}

TEST(Modes, ListsKeepTheirOrder) {
  std::vector<EngineChoice> engines;
  std::vector<std::string> notes;
  ASSERT_FALSE(resolve_modes("kernel,goroutine,uv", engines, notes));
  EXPECT_EQ(labels(engines), (std::vector<std::string>{"kernel", "goroutine", "uv"}));
}

// One engine named twice, in any spelling, would run twice under two names: refused, naming
// both spellings, as -files, -size and -scenarios refuse theirs.
TEST(Modes, AnEngineNamedTwiceIsRefusedNamingBothSpellings) {
  for (const auto& [spec, message] :
       {std::pair{"xev,uring", "'xev' and 'uring' both name the uring engine"},
        std::pair{"threads,goroutine", "'threads' and 'goroutine' both name the threads engine"},
        std::pair{"both,goroutine", "'both' and 'goroutine' both name the threads engine"},
        std::pair{"xev,xev", "'xev' is listed twice"},
        std::pair{"all,all", "'all' is listed twice"}}) {
    const Error e = check_mode_names(spec);
    ASSERT_TRUE(e) << spec;
    EXPECT_EQ(e.message(), message) << spec;
    std::vector<EngineChoice> engines;
    std::vector<std::string> notes;
    EXPECT_TRUE(resolve_modes(spec, engines, notes)) << spec;
  }
}

TEST(Modes, AllHoldsEveryRegisteredEngineThatCanRun) {
  std::vector<EngineChoice> engines;
  std::vector<std::string> notes;
  ASSERT_FALSE(resolve_modes("all", engines, notes));
  std::size_t runnable = 0;
  for (const EngineInfo& info : engine_registry()) runnable += info.probe().available ? 1u : 0u;
  EXPECT_EQ(engines.size(), runnable);
  EXPECT_EQ(engines.size() + notes.size(), engine_registry().size());
}

// "all" takes every engine no other name of the list names, wherever it stands in the list.
TEST(Modes, AllLeavesToTheOtherNamesTheEnginesTheyName) {
  for (const char* spec : {"xev,all", "all,xev"}) {
    std::vector<EngineChoice> engines;
    std::vector<std::string> notes;
    ASSERT_FALSE(resolve_modes(spec, engines, notes)) << spec;
    const auto uring = std::count_if(engines.begin(), engines.end(),
                                     [](const EngineChoice& c) { return c.engine == "uring"; });
    const auto xev = std::count_if(engines.begin(), engines.end(),
                                   [](const EngineChoice& c) { return c.label == "xev"; });
    EXPECT_LE(uring, 1) << spec;
    EXPECT_EQ(xev, 1) << spec;
  }
}

TEST(Modes, AllAddsOnlyTheEnginesNotChosenYet) {
  std::vector<EngineChoice> engines;
  std::vector<std::string> notes;
  ASSERT_FALSE(resolve_modes("xev,all", engines, notes));
  EXPECT_EQ(engines.front().label, "xev");
  for (const EngineInfo& info : engine_registry()) {
    const auto runs = std::count_if(engines.begin(), engines.end(),
                                    [&](const EngineChoice& c) { return c.engine == info.name; });
    EXPECT_LE(runs, 1) << info.name;
  }
}

TEST(Modes, TheNewEnginesAreNamedAndAlwaysAvailable) {
  for (const char* name : {"uv", "kernel"}) {
    const EngineInfo* info = find_engine(name);
    ASSERT_NE(info, nullptr) << name;
    EXPECT_TRUE(info->probe().available);
    std::vector<EngineChoice> engines;
    std::vector<std::string> notes;
    ASSERT_FALSE(resolve_modes(name, engines, notes));
    ASSERT_EQ(engines.size(), 1u);
    EXPECT_EQ(engines[0].engine, name);
  }
}

TEST(Modes, UnknownNamesAreRefusedWithTheKnownOnes) {
  const Error e = check_mode_names("xev,turbo");
  ASSERT_TRUE(e);
  EXPECT_NE(e.message().find("unknown mode 'turbo'"), std::string::npos);
  EXPECT_NE(e.message().find("goroutine"), std::string::npos);
  EXPECT_FALSE(check_mode_names("xev,goroutine,all,uv,kernel"));
}

}  // namespace
}  // namespace ccopy
