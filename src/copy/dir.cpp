#include "copy/dir.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "copy/context.hpp"
#include "sys/sys.hpp"

namespace ccopy::copy {

DirNode* DirNode::create(FileContext& context, Init init) {
  return new DirNode(context, std::move(init));
}

DirNode::DirNode(FileContext& context, Init init)
    : context_(context),
      parent_(init.parent),
      name_(std::move(init.name)),
      source_prefix_(std::move(init.source_prefix)),
      destination_prefix_(std::move(init.destination_prefix)),
      relative_prefix_(std::move(init.relative_prefix)),
      source_fd_(init.source_fd),
      destination_fd_(init.destination_fd),
      source_(init.source),
      created_mode_(init.created_mode),
      fresh_(init.fresh),
      apply_metadata_(init.apply_metadata),
      hands_down_group_(init.hands_down_group),
      depth_(init.parent == nullptr ? 0 : init.parent->depth_ + 1) {
  if (parent_ != nullptr) parent_->add_reference();
}

DirNode::~DirNode() {
  if (source_fd_ >= 0) (void)::close(source_fd_);
  if (destination_fd_ >= 0) (void)::close(destination_fd_);
}

namespace {

std::string joined(std::string path, std::string_view child) {
  if (child.empty()) return path;
  if (!path.empty() && path.back() != '/') path += '/';
  path += child;
  return path;
}

}  // namespace

std::string DirNode::source_path(std::string_view child) const {
  if (parent_ == nullptr) return joined(source_prefix_, child);
  return joined(parent_->source_path(name_), child);
}

std::string DirNode::destination_path(std::string_view child) const {
  if (parent_ == nullptr) return joined(destination_prefix_, child);
  return joined(parent_->destination_path(name_), child);
}

std::string DirNode::relative_path(std::string_view child) const {
  if (parent_ == nullptr) return joined(relative_prefix_, child);
  return joined(parent_->relative_path(name_), child);
}

void DirNode::finish_work() {
  if (work_.fetch_sub(1, std::memory_order_acq_rel) == 1) complete();
}

bool DirNode::try_add_work() {
  int now = work_.load(std::memory_order_relaxed);
  while (now > 0) {
    if (work_.compare_exchange_weak(now, now + 1, std::memory_order_acq_rel)) return true;
  }
  return false;
}

void DirNode::complete() {
  context_.directory_done(*this);
  if (source_fd_ >= 0) (void)sys::close(std::exchange(source_fd_, -1));
  if (destination_fd_ >= 0) (void)sys::close(std::exchange(destination_fd_, -1));
  release_reference();
}

void DirNode::release_reference() {
  if (references_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  DirNode* parent = parent_;
  delete this;
  if (parent != nullptr) parent->release_reference();
}

long DirNode::reopen_destination() const {
  // The names from the nearest ancestor whose descriptors are open down to this directory.
  std::vector<const DirNode*> chain;
  DirNode* base = const_cast<DirNode*>(this);
  while (base != nullptr && !base->try_add_work()) {
    chain.push_back(base);
    base = base->parent_;
  }
  if (base == nullptr) return -ENOENT;
  const DirRef hold = DirRef::adopt(base);
  long fd = ::fcntl(base->destination_fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return -errno;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const long next = sys::open_directory_at(static_cast<int>(fd), (*it)->name_.c_str(), O_NOFOLLOW);
    (void)::close(static_cast<int>(fd));
    if (next < 0) return next;
    fd = next;
  }
  return fd;
}

}  // namespace ccopy::copy
