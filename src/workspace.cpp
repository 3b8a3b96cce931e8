#include "ccopy/workspace.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

#include "ccopy/tree.hpp"
#include "sys/sys.hpp"

namespace ccopy {

Error Workspace::create(const std::string& parent, Workspace& out) {
  std::string pattern = parent;
  while (pattern.size() > 1 && pattern.back() == '/') pattern.pop_back();
  pattern += "/concurrent_copy.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr)
    return Error::from_errno(errno, "create a directory in " + parent);
  const long fd = sys::open_directory_at(AT_FDCWD, pattern.c_str(), O_NOFOLLOW);
  if (fd < 0) {
    (void)::rmdir(pattern.c_str());
    return Error::from_errno(static_cast<int>(-fd), "open " + pattern);
  }
  Workspace created;
  created.root_ = std::move(pattern);
  created.fd_ = static_cast<int>(fd);
  out = std::move(created);
  return {};
}

Workspace::Workspace(Workspace&& other) noexcept
    : root_(std::exchange(other.root_, {})),
      fd_(std::exchange(other.fd_, -1)),
      keep_(other.keep_) {}

Workspace& Workspace::operator=(Workspace&& other) noexcept {
  if (this != &other) {
    (void)remove();
    root_ = std::exchange(other.root_, {});
    fd_ = std::exchange(other.fd_, -1);
    keep_ = other.keep_;
  }
  return *this;
}

Workspace::~Workspace() { (void)remove(); }

Error Workspace::make(const std::string& name) const {
  if (const long rc = sys::make_directory_at(fd_, name.c_str(), 0700); rc < 0)
    return Error::from_errno(static_cast<int>(-rc), "mkdir " + path(name));
  return {};
}

Error Workspace::clear(const std::string& name) const {
  if (Error e = remove_tree(fd_, name.c_str())) return e;
  return {};
}

void Workspace::close() {
  if (fd_ >= 0) (void)::close(std::exchange(fd_, -1));
}

Error Workspace::reopen() {
  close();
  const long fd = sys::open_directory_at(AT_FDCWD, root_.c_str(), O_NOFOLLOW);
  if (fd < 0) return Error::from_errno(static_cast<int>(-fd), "open " + root_);
  fd_ = static_cast<int>(fd);
  return {};
}

Error Workspace::remove() {
  if (root_.empty()) return {};
  Error e;
  if (!keep_) {
    const std::string parent = root_.substr(0, root_.rfind('/'));
    const std::string name = root_.substr(root_.rfind('/') + 1);
    const long parent_fd = sys::open_directory_at(AT_FDCWD, parent.empty() ? "/" : parent.c_str(), 0);
    if (parent_fd < 0) {
      e = Error::from_errno(static_cast<int>(-parent_fd), "remove " + root_);
    } else {
      e = remove_tree(static_cast<int>(parent_fd), name.c_str());
      (void)::close(static_cast<int>(parent_fd));
    }
  }
  if (fd_ >= 0) (void)::close(std::exchange(fd_, -1));
  root_.clear();
  return e;
}

}  // namespace ccopy
