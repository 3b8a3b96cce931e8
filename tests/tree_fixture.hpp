// A source tree for a test: generated from a recipe into a fresh directory, copied with an
// engine through the copy path (the one every caller runs), and compared with its copy.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "ccopy/copy.hpp"
#include "ccopy/engine.hpp"
#include "ccopy/tree.hpp"
#include "test_dir.hpp"

namespace ccopy::testing {

/// The options the benchmark copies with: a new destination, modes and hardlinks kept.
inline CopyOptions benchmark_options() { return CopyOptions{}; }

/// What `cp -a` keeps, into a new destination.
inline CopyOptions archive_options() {
  CopyOptions o;
  o.preserve = Preserve{true, true, true, true, true};
  return o;
}

class TreeFixture {
 public:
  explicit TreeFixture(const TreeRecipe& recipe) { build(recipe); }
  /// A flat tree: `files` files of `size` bytes.
  TreeFixture(std::uint64_t files, std::uint64_t size) {
    TreeRecipe recipe;
    recipe.files = files;
    recipe.file_size = size;
    build(recipe);
  }

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] const std::string& error() const { return error_; }
  [[nodiscard]] const Manifest& manifest() const { return manifest_; }
  [[nodiscard]] std::string source() const { return dir_.path() + "/src"; }
  [[nodiscard]] std::string destination() const { return dir_.path() + "/dst"; }
  [[nodiscard]] const std::string& directory() const { return dir_.path(); }

  /// Removes the destination, for another copy.
  [[nodiscard]] bool reset() const {
    const int fd = ::open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool removed = !remove_tree(fd, "dst");
    ::close(fd);
    return removed;
  }

  [[nodiscard]] CopyResult copy(Engine& engine, const EngineOptions& engine_options,
                                const CopyOptions& options = benchmark_options(),
                                CopyObserver* observer = nullptr) const {
    CopyObserver quiet;
    return copy_tree({{source(), destination()}}, engine, engine_options, options,
                     observer != nullptr ? *observer : quiet);
  }

  [[nodiscard]] VerifyResult verify(const VerifyOptions& options = {}) const {
    VerifyResult result;
    if (Error e = verify_copy(source(), destination(), options, result)) {
      result.differences = 1;
      result.first = "cannot verify: " + e.message();
    }
    return result;
  }

 private:
  void build(const TreeRecipe& recipe) {
    if (!dir_.ok()) return fail("no test directory");
    if (Error e = plan_tree(recipe, manifest_)) return fail(e.message());
    const std::string src = source();
    if (::mkdir(src.c_str(), 0755) != 0) return fail("mkdir " + src);
    const int fd = ::open(src.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fail("open " + src);
    Error e = write_tree(manifest_, fd, recipe.seed, 2, nullptr);
    ::close(fd);
    if (e) return fail(e.message());
    ok_ = true;
  }
  void fail(std::string why) { error_ = std::move(why); }

  TestDir dir_;
  Manifest manifest_;
  bool ok_ = false;
  std::string error_;
};

/// How many descriptors this process holds open now.
inline std::size_t open_descriptors() { return entries_in("/proc/self/fd"); }

/// The first error of a copy, for a test's failure message.
inline std::string first_error(const CopyResult& r) {
  if (r.fatal) return r.fatal.message();
  if (!r.errors.empty()) return r.errors.front().path + ": " + r.errors.front().reason();
  return {};
}

}  // namespace ccopy::testing
