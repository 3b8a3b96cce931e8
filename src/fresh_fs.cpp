#include "ccopy/fresh_fs.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/loop.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <utility>

#include "ccopy/size.hpp"
#include "sys/sys.hpp"

namespace ccopy {
namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

// Room beyond the data: the journal (ext4, xfs), the metadata of every entry (btrfs keeps two
// copies of it), and slack so that a copy never fails for a full disk the test did not ask for.
std::uint64_t size_for(FsKind kind, std::uint64_t bytes, std::uint64_t inodes) {
  const std::uint64_t per_entry = kind == FsKind::btrfs ? 4096 : 1024;
  std::uint64_t size = bytes + bytes / 4 + inodes * per_entry + 128 * kMiB;
  size = std::max(size, fs_minimum_bytes(kind));
  return (size + kMiB - 1) / kMiB * kMiB;
}

const char* tool_of(FsKind kind) {
  switch (kind) {
    case FsKind::ext4: return "mkfs.ext4";
    case FsKind::xfs: return "mkfs.xfs";
    case FsKind::btrfs: return "mkfs.btrfs";
    case FsKind::tmpfs: break;
  }
  return nullptr;
}

const char* package_of(FsKind kind) {
  switch (kind) {
    case FsKind::ext4: return "e2fsprogs";
    case FsKind::xfs: return "xfsprogs";
    case FsKind::btrfs: return "btrfs-progs";
    case FsKind::tmpfs: break;
  }
  return "";
}

// The mkfs command for an image of `inodes` entries: ext4 is given the inodes it needs (its
// default, one per 16 KiB, is too few for a tree of small files) and initialises its tables now,
// not in a background thread that would run during the timed copies; reserved blocks are none.
std::vector<std::string> mkfs_command(FsKind kind, std::uint64_t inodes, const std::string& image) {
  switch (kind) {
    case FsKind::ext4:
      return {"mkfs.ext4", "-q", "-F", "-m", "0", "-N", std::to_string(std::max<std::uint64_t>(inodes, 1024)),
              "-E", "lazy_itable_init=0,lazy_journal_init=0", image};
    case FsKind::xfs:
      return {"mkfs.xfs", "-q", "-f", image};
    case FsKind::btrfs:
      return {"mkfs.btrfs", "-q", "-f", image};
    case FsKind::tmpfs:
      break;
  }
  return {};
}

std::string joined(const std::vector<std::string>& argv, bool without_last) {
  std::string text;
  for (std::size_t i = 0; i + (without_last ? 1 : 0) < argv.size(); ++i)
    text += (text.empty() ? "" : " ") + argv[i];
  return text;
}

bool is_root() { return ::geteuid() == 0; }

// A free loop device, attached to `image_fd` and set to clear itself when its last user goes.
Error attach_loop(int image_fd, std::string& device, int& fd) {
  const int control = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (control < 0) return Error::from_errno(errno, "open /dev/loop-control");
  const sys::unique_fd control_fd(control);
  for (int attempt = 0; attempt < 16; ++attempt) {
    const int number = ::ioctl(control, LOOP_CTL_GET_FREE);
    if (number < 0) return Error::from_errno(errno, "find a free loop device (LOOP_CTL_GET_FREE)");
    device = fmt::format("/dev/loop{}", number);
    int loop = ::open(device.c_str(), O_RDWR | O_CLOEXEC);
    if (loop < 0 && errno == ENOENT) {
      // A container's /dev may lack the node the kernel just made: make it.
      if (::mknod(device.c_str(), S_IFBLK | 0660, makedev(7, static_cast<unsigned>(number))) == 0)
        loop = ::open(device.c_str(), O_RDWR | O_CLOEXEC);
    }
    if (loop < 0) return Error::from_errno(errno, "open " + device);
    loop_config config{};
    config.fd = static_cast<__u32>(image_fd);
    config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
    if (::ioctl(loop, LOOP_CONFIGURE, &config) == 0) {
      fd = loop;
      return {};
    }
    const int err = errno;
    if (err == EINVAL || err == ENOTTY) {
      // Before Linux 5.8: attach, then set the flags.
      if (::ioctl(loop, LOOP_SET_FD, image_fd) == 0) {
        loop_info64 info{};
        info.lo_flags = LO_FLAGS_AUTOCLEAR;
        (void)::ioctl(loop, LOOP_SET_STATUS64, &info);
        fd = loop;
        return {};
      }
    }
    ::close(loop);
    if (err != EBUSY) return Error::from_errno(err, "attach " + device);
    // Another process took it between GET_FREE and CONFIGURE: ask again.
  }
  return Error::from_errno(EBUSY, "attach a loop device");
}

}  // namespace

std::string_view fs_kind_name(FsKind kind) {
  switch (kind) {
    case FsKind::ext4: return "ext4";
    case FsKind::xfs: return "xfs";
    case FsKind::btrfs: return "btrfs";
    case FsKind::tmpfs: break;
  }
  return "tmpfs";
}

std::optional<FsKind> find_fs_kind(std::string_view name) {
  for (const FsKind kind : fs_kinds())
    if (fs_kind_name(kind) == name) return kind;
  return std::nullopt;
}

std::vector<FsKind> fs_kinds() { return {FsKind::ext4, FsKind::xfs, FsKind::btrfs, FsKind::tmpfs}; }

std::uint64_t fs_minimum_bytes(FsKind kind) {
  switch (kind) {
    case FsKind::xfs: return 300 * kMiB;
    case FsKind::btrfs: return 256 * kMiB;
    case FsKind::ext4: return 64 * kMiB;
    case FsKind::tmpfs: break;
  }
  return 16 * kMiB;
}

Error check_fresh_fs(FsKind kind) {
  if (!is_root())
    return Error::failure(fmt::format("-fs needs root, to make and mount a {} file system: run it "
                                      "as root, or without -fs",
                                      fs_kind_name(kind)));
  if (kind == FsKind::tmpfs) return {};
  if (::access("/dev/loop-control", R_OK | W_OK) != 0)
    return Error::from_errno(errno, "-fs needs loop devices: /dev/loop-control");
  std::string output;
  const long rc = sys::run_program({tool_of(kind), "-V"}, output);
  if (rc == -ENOENT)
    return Error::failure(fmt::format("-fs {} needs {}, which is not installed (Debian's {})",
                                      fs_kind_name(kind), tool_of(kind), package_of(kind)));
  return {};
}

Error enter_private_mount_namespace() {
  static bool entered = false;
  if (entered) return {};
  if (::unshare(CLONE_NEWNS) != 0) return Error::from_errno(errno, "unshare(CLONE_NEWNS)");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return Error::from_errno(errno, "make the mounts private");
  entered = true;
  return {};
}

Error FreshFilesystem::create(FsKind kind, const std::string& image_directory, std::uint64_t bytes,
                              std::uint64_t inodes, const std::string& mount_point,
                              bool keep_image, FreshFilesystem& out) {
  FreshFilesystem fs;
  fs.kind_ = kind;
  fs.mount_point_ = mount_point;
  fs.image_directory_ = image_directory;
  fs.size_ = size_for(kind, bytes, inodes);
  if (kind == FsKind::tmpfs) {
    fs.mount_data_ = fmt::format("size={},nr_inodes={}", fs.size_, std::max<std::uint64_t>(inodes * 2, 1024));
    fs.made_with_ = "mount -t tmpfs -o " + fs.mount_data_;
    if (::mount("concurrent_copy", mount_point.c_str(), "tmpfs", 0, fs.mount_data_.c_str()) != 0)
      return Error::from_errno(errno, "mount a tmpfs on " + mount_point);
    fs.mounted_ = true;
    out = std::move(fs);
    return {};
  }
  std::string image = image_directory;
  while (image.size() > 1 && image.back() == '/') image.pop_back();
  image += fmt::format("/concurrent_copy-{}.XXXXXX", fs_kind_name(kind));
  const int image_fd = ::mkostemp(image.data(), O_CLOEXEC);
  if (image_fd < 0) return Error::from_errno(errno, "create an image in " + image_directory);
  sys::unique_fd image_owner(image_fd);
  // Until the loop device holds it, the image is removed on every way out.
  struct Unlink {
    std::string path;
    bool armed = true;
    ~Unlink() {
      if (armed) (void)::unlink(path.c_str());
    }
  } unlink_image{image};
  if (::ftruncate(image_fd, static_cast<off_t>(fs.size_)) != 0)
    return Error::from_errno(errno, fmt::format("size the image {} to {}", image, format_bytes(fs.size_)));
  const std::vector<std::string> argv = mkfs_command(kind, inodes, image);
  fs.made_with_ = joined(argv, true);
  std::string output;
  const long rc = sys::run_program(argv, output);
  if (rc != 0) {
    while (!output.empty() && output.back() == '\n') output.pop_back();
    if (rc < 0) return Error::from_errno(static_cast<int>(-rc), "run " + argv[0]);
    return Error::failure(fmt::format("{} failed (exit {}): {}", fs.made_with_, rc, output));
  }
  if (Error e = attach_loop(image_fd, fs.loop_device_, fs.loop_fd_)) return e;
  if (keep_image) {
    fs.kept_image_ = image;
    unlink_image.armed = false;
  }
  if (::mount(fs.loop_device_.c_str(), mount_point.c_str(), std::string(fs_kind_name(kind)).c_str(),
              0, nullptr) != 0) {
    const int err = errno;
    (void)fs.destroy();
    return Error::from_errno(err, fmt::format("mount {} ({}) on {}", fs.loop_device_, fs_kind_name(kind),
                                              mount_point));
  }
  fs.mounted_ = true;
  out = std::move(fs);
  return {};
}

FreshFilesystem::FreshFilesystem(FreshFilesystem&& other) noexcept { *this = std::move(other); }

FreshFilesystem& FreshFilesystem::operator=(FreshFilesystem&& other) noexcept {
  if (this == &other) return *this;
  (void)destroy();
  kind_ = other.kind_;
  mount_point_ = std::move(other.mount_point_);
  loop_device_ = std::move(other.loop_device_);
  made_with_ = std::move(other.made_with_);
  image_directory_ = std::move(other.image_directory_);
  kept_image_ = std::move(other.kept_image_);
  mount_data_ = std::move(other.mount_data_);
  size_ = other.size_;
  loop_fd_ = std::exchange(other.loop_fd_, -1);
  mounted_ = std::exchange(other.mounted_, false);
  return *this;
}

FreshFilesystem::~FreshFilesystem() { (void)destroy(); }

std::string FreshFilesystem::description() const {
  if (kind_ == FsKind::tmpfs) return fmt::format("tmpfs of {} ({})", format_bytes(size_), made_with_);
  return fmt::format("{}, a {} image in {} on {} ({})", fs_kind_name(kind_), format_bytes(size_),
                     image_directory_, loop_device_, made_with_);
}

Error FreshFilesystem::remount() {
  if (!mounted_) return Error::failure("remount: not mounted");
  if (::umount2(mount_point_.c_str(), 0) != 0)
    return Error::from_errno(errno, "unmount " + mount_point_);
  mounted_ = false;
  const bool tmpfs = kind_ == FsKind::tmpfs;
  if (tmpfs) return Error::failure("remount: a tmpfs holds nothing once unmounted");
  if (::mount(loop_device_.c_str(), mount_point_.c_str(), std::string(fs_kind_name(kind_)).c_str(), 0,
              nullptr) != 0)
    return Error::from_errno(errno, "mount " + loop_device_ + " again on " + mount_point_);
  mounted_ = true;
  return {};
}

Error FreshFilesystem::destroy() {
  Error e;
  if (mounted_) {
    if (::umount2(mount_point_.c_str(), 0) != 0) {
      // Something still holds it: detach it now; the kernel frees it when that ends.
      const int err = errno;
      if (::umount2(mount_point_.c_str(), MNT_DETACH) != 0)
        e = Error::from_errno(err, "unmount " + mount_point_);
    }
    mounted_ = false;
  }
  if (loop_fd_ >= 0) {
    // Without a mount, closing the last descriptor clears the device (LO_FLAGS_AUTOCLEAR);
    // LOOP_CLR_FD says so at once.
    (void)::ioctl(loop_fd_, LOOP_CLR_FD, 0);
    (void)::close(std::exchange(loop_fd_, -1));
  }
  return e;
}

}  // namespace ccopy
