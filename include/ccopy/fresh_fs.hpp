// Fresh file systems for honest conditions (-fs): a new ext4, xfs, btrfs or tmpfs made for a
// scenario, loop-mounted inside the run's workspace, and gone when the scenario ends.
//
// Nothing may outlive the process, whatever ends it: the process first enters a private mount
// namespace (enter_private_mount_namespace), so every mount it makes disappears with it, even
// after SIGKILL; the loop device is set to clear itself when its last user goes
// (LO_FLAGS_AUTOCLEAR); and the image file is unlinked as soon as the device holds it, so the
// kernel frees it with the device. Making one needs root (CAP_SYS_ADMIN).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ccopy/error.hpp"

namespace ccopy {

enum class FsKind : std::uint8_t { ext4, xfs, btrfs, tmpfs };

/// "ext4", "xfs", "btrfs", "tmpfs".
[[nodiscard]] std::string_view fs_kind_name(FsKind kind);
/// The kind -fs calls `name`, or nullopt.
[[nodiscard]] std::optional<FsKind> find_fs_kind(std::string_view name);
/// Every kind, in the order -fs lists them.
[[nodiscard]] std::vector<FsKind> fs_kinds();

/// The smallest file system of this kind its mkfs accepts, in bytes (xfs: 300 MiB).
[[nodiscard]] std::uint64_t fs_minimum_bytes(FsKind kind);

/// Whether fresh file systems can be made here, and why not ("-fs needs root: ..."; "mkfs.xfs
/// is not installed (Debian's xfsprogs)"). Checks privileges, the loop devices and the tool.
[[nodiscard]] Error check_fresh_fs(FsKind kind);

/// Moves the calling thread, and every thread it starts from then on, into a mount namespace
/// of its own whose mounts are private: they vanish when the process ends. Call once, before
/// the first FreshFilesystem is made; safe to call again.
[[nodiscard]] Error enter_private_mount_namespace();

/// One fresh file system, mounted.
class FreshFilesystem {
 public:
  /// Makes a file system of `kind` big enough for `bytes` of data and `inodes` entries (and at
  /// least its minimum) in an image file in `image_directory`, and mounts it on the existing,
  /// empty directory `mount_point`. With `keep_image`, the image file stays (its path is
  /// image()) instead of being unlinked once the loop device holds it.
  [[nodiscard]] static Error create(FsKind kind, const std::string& image_directory,
                                    std::uint64_t bytes, std::uint64_t inodes,
                                    const std::string& mount_point, bool keep_image,
                                    FreshFilesystem& out);

  FreshFilesystem() = default;
  FreshFilesystem(FreshFilesystem&& other) noexcept;
  FreshFilesystem& operator=(FreshFilesystem&& other) noexcept;
  FreshFilesystem(const FreshFilesystem&) = delete;
  FreshFilesystem& operator=(const FreshFilesystem&) = delete;
  ~FreshFilesystem();

  [[nodiscard]] bool mounted() const { return mounted_; }
  [[nodiscard]] FsKind kind() const { return kind_; }
  [[nodiscard]] const std::string& mount_point() const { return mount_point_; }
  [[nodiscard]] std::uint64_t size_bytes() const { return size_; }
  /// The mkfs command line ("mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0"), or the
  /// mount options for tmpfs ("size=1073741824").
  [[nodiscard]] const std::string& made_with() const { return made_with_; }
  /// "ext4, 1.2 GiB image in /dev/shm (mkfs.ext4 -q -F ...)": for the context block.
  [[nodiscard]] std::string description() const;
  /// The image file when kept, else empty.
  [[nodiscard]] const std::string& image() const { return kept_image_; }

  /// Unmounts and mounts it again: nothing of it (data, inodes, dentries) stays cached. Every
  /// descriptor on it must be closed first.
  [[nodiscard]] Error remount();
  /// Unmounts it and lets the loop device and the image go; safe to call twice.
  [[nodiscard]] Error destroy();

 private:
  FsKind kind_ = FsKind::tmpfs;
  std::string mount_point_;
  std::string loop_device_;
  std::string made_with_;
  std::string image_directory_;
  std::string kept_image_;
  std::string mount_data_;
  std::uint64_t size_ = 0;
  int loop_fd_ = -1;  // held so that the device outlives a remount (it clears itself on the last close)
  bool mounted_ = false;
};

}  // namespace ccopy
