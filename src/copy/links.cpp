#include "copy/links.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "copy/context.hpp"
#include "sys/sys.hpp"

namespace ccopy::copy {

HardlinkRegistry::~HardlinkRegistry() { clear(); }

bool HardlinkRegistry::claim(dev_t device, ino_t inode, DirNode& dir, const std::string& name,
                             const std::string& destination_name) {
  std::unique_lock lock(mutex_);
  auto [it, inserted] = groups_.try_emplace(Key{device, inode});
  Group& group = it->second;
  if (inserted) {
    group.dir = &dir;
    dir.add_reference();
    group.destination_name = destination_name;
    return true;
  }
  Later later{DirRef(&dir), name, destination_name};
  switch (group.state) {
    case Group::State::copying:
      group.waiting.push_back(std::move(later));
      return false;
    case Group::State::copied: {
      const Group snapshot{group.dir, group.destination_name, group.state, {}};
      lock.unlock();
      link(snapshot, later);
      return false;
    }
    case Group::State::failed:
      lock.unlock();
      fail(later);
      return false;
  }
  return false;
}

void HardlinkRegistry::copied(dev_t device, ino_t inode) {
  std::vector<Later> waiting;
  Group snapshot;
  {
    std::lock_guard lock(mutex_);
    const auto it = groups_.find(Key{device, inode});
    if (it == groups_.end()) return;
    it->second.state = Group::State::copied;
    waiting.swap(it->second.waiting);
    snapshot.dir = it->second.dir;
    snapshot.destination_name = it->second.destination_name;
  }
  for (Later& later : waiting) link(snapshot, later);
}

void HardlinkRegistry::failed(dev_t device, ino_t inode) {
  std::vector<Later> waiting;
  {
    std::lock_guard lock(mutex_);
    const auto it = groups_.find(Key{device, inode});
    if (it == groups_.end()) return;
    it->second.state = Group::State::failed;
    waiting.swap(it->second.waiting);
  }
  for (Later& later : waiting) fail(later);
}

void HardlinkRegistry::clear() {
  std::unordered_map<Key, Group, KeyHash> groups;
  {
    std::lock_guard lock(mutex_);
    groups.swap(groups_);
  }
  for (auto& [key, group] : groups) {
    for (Later& later : group.waiting) fail(later);
    group.dir->release_reference();
  }
}

// Links `later` to the group's first name: through the first name's directory, reopened if its
// own descriptors are closed by now. Into a destination directory the copy did not create, the
// link is made under a temporary name and renamed over whatever holds the name.
void HardlinkRegistry::link(const Group& group, Later& later) {
  DirNode& dir = *later.dir;
  if (context_.options().dry_run) {
    context_.entry_kept(EntryType::hardlink, dir, later.name, later.destination_name);
    return;
  }
  const long target_dir = group.dir->reopen_destination();
  if (target_dir < 0) {
    context_.entry_failed(dir, later.name, "link", static_cast<int>(-target_dir), true);
    return;
  }
  const char* target = group.destination_name.c_str();
  long rc;
  if (dir.fresh()) {
    rc = sys::make_link_at(static_cast<int>(target_dir), target, dir.destination_fd(),
                           later.destination_name.c_str(), 0);
  } else {
    const std::string temp = context_.temporary_name();
    rc = sys::make_link_at(static_cast<int>(target_dir), target, dir.destination_fd(),
                           temp.c_str(), 0);
    if (rc == 0) {
      rc = sys::rename_at(dir.destination_fd(), temp.c_str(), dir.destination_fd(),
                          later.destination_name.c_str(), 0);
      if (rc < 0) (void)sys::remove_at(dir.destination_fd(), temp.c_str(), 0);
    }
  }
  (void)::close(static_cast<int>(target_dir));
  if (rc < 0) {
    context_.entry_failed(dir, later.name, "link", static_cast<int>(-rc), true);
    return;
  }
  context_.entry_copied(EntryType::hardlink, dir, later.name, later.destination_name);
}

void HardlinkRegistry::fail(Later& later) {
  if (context_.stopping()) return;  // the copy stopped: not an error of this name
  context_.entry_failed(*later.dir, later.name, "link", 0, true,
                        "the first name of its inode could not be copied");
}

}  // namespace ccopy::copy
