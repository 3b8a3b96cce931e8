// The benchmark's private directories: `<parent>/concurrent_copy.XXXXXX`, created for one
// scenario and removed with everything below it when done (unless kept), however deep the trees
// in it are.
#pragma once

#include <string>

#include "ccopy/error.hpp"

namespace ccopy {

class Workspace {
 public:
  /// Creates a private directory below `parent` (an absolute path).
  [[nodiscard]] static Error create(const std::string& parent, Workspace& out);

  Workspace() = default;
  Workspace(Workspace&& other) noexcept;
  Workspace& operator=(Workspace&& other) noexcept;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  ~Workspace();

  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  [[nodiscard]] const std::string& root() const { return root_; }
  /// A descriptor of the root directory, for work relative to it.
  [[nodiscard]] int fd() const { return fd_; }
  /// `root()/name`.
  [[nodiscard]] std::string path(const std::string& name) const { return root_ + "/" + name; }

  /// Creates the empty directory `name` in the workspace.
  [[nodiscard]] Error make(const std::string& name) const;
  /// Removes `name` and everything below it.
  [[nodiscard]] Error clear(const std::string& name) const;
  /// Leaves everything on disk when the workspace is destroyed.
  void keep() { keep_ = true; }
  [[nodiscard]] bool kept() const { return keep_; }
  /// Closes the descriptor of the root (before the file system under it is unmounted).
  void close();
  /// Opens the root again (once the file system under it is mounted again).
  [[nodiscard]] Error reopen();
  /// Removes the whole workspace now; safe to call twice.
  [[nodiscard]] Error remove();

 private:
  std::string root_;
  int fd_ = -1;
  bool keep_ = false;
};

}  // namespace ccopy
