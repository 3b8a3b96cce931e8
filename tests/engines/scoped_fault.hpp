// Helpers for engine-specific tests: a fault hook installed for one scope, and what a copy's
// result says (its notes, the files left in a destination).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>

#include "ccopy/copy.hpp"
#include "sys/sys.hpp"
#include "tree_fixture.hpp"

namespace ccopy::testing {

/// Passes every syscall result through `filter` until destroyed. `filter` is called from every
/// engine thread at once and must be thread-safe.
class ScopedFault {
 public:
  using Filter = std::function<long(sys::Op op, long result)>;
  explicit ScopedFault(Filter filter) : filter_(std::move(filter)) {
    sys::set_fault_hook(&ScopedFault::call, this);
  }
  ~ScopedFault() { sys::set_fault_hook(nullptr, nullptr); }
  ScopedFault(const ScopedFault&) = delete;
  ScopedFault& operator=(const ScopedFault&) = delete;

 private:
  static long call(sys::Op op, long result, void* self) {
    return static_cast<ScopedFault*>(self)->filter_(op, result);
  }
  Filter filter_;
};

/// Whether one of the copy's notes contains `text`.
inline bool has_note(const CopyResult& result, const std::string& text) {
  return std::any_of(result.notes.begin(), result.notes.end(),
                     [&](const std::string& note) { return note.find(text) != std::string::npos; });
}

/// Checks that a flat tree's copy is whole: nothing failed, every file counted with all its
/// bytes, and the copy verifies entry by entry.
inline void expect_whole_copy(const TreeFixture& tree, const CopyResult& result) {
  ASSERT_TRUE(result.ok()) << first_error(result);
  std::uint64_t files = 0, bytes = 0;
  for (const ManifestEntry& e : tree.manifest().entries) {
    if (e.kind != EntryKind::regular) continue;
    ++files;
    bytes += e.size;
  }
  EXPECT_EQ(result.copied.files, files);
  EXPECT_EQ(result.copied.bytes, bytes);
  const VerifyResult verdict = tree.verify();
  EXPECT_TRUE(verdict.ok()) << verdict.first;
}

/// Checks that every file left in a flat tree's destination is complete (a copy that stopped or
/// failed removes what it left partial) and returns how many there are.
inline std::size_t expect_only_complete_files(const TreeFixture& tree) {
  std::size_t files = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(tree.destination(), ec)) {
    const std::string name = entry.path().filename();
    EXPECT_EQ(std::filesystem::file_size(entry.path()),
              std::filesystem::file_size(tree.source() + "/" + name))
        << name << " was left partial";
    VerifyResult verdict;
    EXPECT_FALSE(verify_copy(tree.source() + "/" + name, entry.path(), {}, verdict));
    EXPECT_TRUE(verdict.ok()) << verdict.first;
    ++files;
  }
  return files;
}

}  // namespace ccopy::testing
