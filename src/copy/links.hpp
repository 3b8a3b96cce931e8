// Hardlinks: the names of one source inode stay one inode in the copy. The first name found is
// copied as a file; every later name becomes a link to that copy, made as soon as the copy is
// complete (at once when it already is). A later name holds a unit of its directory's work until
// its link is made, so the directory's times are set after it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "copy/dir.hpp"

namespace ccopy::copy {

class FileContext;

class HardlinkRegistry {
 public:
  explicit HardlinkRegistry(FileContext& context) : context_(context) {}
  HardlinkRegistry(const HardlinkRegistry&) = delete;
  HardlinkRegistry& operator=(const HardlinkRegistry&) = delete;
  ~HardlinkRegistry();

  /// A name of inode (`device`, `inode`), which has more than one link: `name` in `dir`'s
  /// source, `destination_name` in its destination. Returns true when it is the first name seen
  /// (the caller copies it, then calls copied() or failed()); false when it will be, or has
  /// been, linked to the first name's copy (the registry does that and reports it).
  bool claim(dev_t device, ino_t inode, DirNode& dir, const std::string& name,
             const std::string& destination_name);
  /// The first name's copy is complete in `dir`: links every later name to it.
  void copied(dev_t device, ino_t inode);
  /// The first name's copy failed: every later name fails with it.
  void failed(dev_t device, ino_t inode);
  /// Forgets everything (at the end of the copy, or when it stops): later names still waiting
  /// fail as not copied.
  void clear();

 private:
  struct Later {
    DirRef dir;
    std::string name, destination_name;
  };
  struct Group {
    DirNode* dir = nullptr;  // the first name's directory (a reference is held)
    std::string destination_name;
    enum class State : std::uint8_t { copying, copied, failed } state = State::copying;
    std::vector<Later> waiting;
  };
  struct Key {
    dev_t device;
    ino_t inode;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<std::uint64_t>()(static_cast<std::uint64_t>(k.inode) * 0x9e3779b97f4a7c15ULL ^
                                        static_cast<std::uint64_t>(k.device));
    }
  };

  void link(const Group& group, Later& later);
  void fail(Later& later);

  FileContext& context_;
  std::mutex mutex_;
  std::unordered_map<Key, Group, KeyHash> groups_;
};

}  // namespace ccopy::copy
