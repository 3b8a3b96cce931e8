#include "copy/metadata.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "copy/context.hpp"
#include "sys/sys.hpp"

namespace ccopy::copy {
namespace {

bool unsupported(long rc) { return rc == -ENOTSUP || rc == -EOPNOTSUPP; }

// Reads every extended attribute through `get` and writes it through `set`. A destination that
// does not support one (ENOTSUP) or refuses one the process may not set (EPERM: trusted.*,
// security.* as a user) gets a note; any other refusal is the entry's error.
template <typename List, typename Get, typename Set>
MetadataFailure copy_xattrs(FileContext& context, List list, Get get, Set set) {
  std::string names;
  if (const long rc = list(names); rc < 0) {
    if (unsupported(rc)) return {};
    return {"list xattrs", static_cast<int>(-rc)};
  }
  std::string value;
  for (std::size_t at = 0; at < names.size();) {
    const char* name = names.c_str() + at;
    at += std::strlen(name) + 1;
    if (const long rc = get(name, value); rc < 0) {
      if (rc == -ENODATA) continue;  // removed since it was listed
      return {"read xattr", static_cast<int>(-rc)};
    }
    if (const long rc = set(name, value); rc < 0) {
      if (unsupported(rc) || rc == -EPERM) {
        context.note(std::string("an extended attribute could not be kept (") + name + ": " +
                     sys::error_text(static_cast<int>(-rc)) + ")");
        continue;
      }
      return {"set xattr", static_cast<int>(-rc)};
    }
  }
  return {};
}

// chown, keeping at least the group when the owner is refused, as cp does.
MetadataFailure keep_owner(FileContext& context, const struct ::stat& source,
                           const auto& change) {
  const long rc = change(source.st_uid, source.st_gid);
  if (rc == -EPERM) {
    context.ownership_refused();
    (void)change(static_cast<uid_t>(-1), source.st_gid);
    return {};
  }
  if (rc < 0) return {"chown", static_cast<int>(-rc)};
  return {};
}

}  // namespace

MetadataFailure set_file_metadata(FileContext& context, const DirNode& dir, int source_fd,
                                  int destination_fd, const struct ::stat& source,
                                  bool fix_mode) {
  const Preserve& keep = context.options().preserve;
  if (keep.ownership && context.needs_chown(source, &dir)) {
    const MetadataFailure f = keep_owner(context, source, [&](uid_t u, gid_t g) {
      return sys::change_owner(destination_fd, u, g);
    });
    if (!f.ok()) return f;
    fix_mode = fix_mode || (source.st_mode & 06000) != 0;
  }
  if (keep.xattrs) {
    const MetadataFailure f = copy_xattrs(
        context, [&](std::string& n) { return sys::list_xattrs(source_fd, n); },
        [&](const char* n, std::string& v) { return sys::get_xattr(source_fd, n, v); },
        [&](const char* n, const std::string& v) { return sys::set_xattr(destination_fd, n, v); });
    if (!f.ok()) return f;
  }
  if (fix_mode) {
    if (const long rc = sys::change_mode(destination_fd, context.wanted_mode(source)); rc < 0)
      return {"chmod", static_cast<int>(-rc)};
  }
  if (keep.timestamps) {
    const struct ::timespec times[2] = {source.st_atim, source.st_mtim};
    if (const long rc = sys::set_times(destination_fd, times); rc < 0)
      return {"set times", static_cast<int>(-rc)};
  }
  return {};
}

MetadataFailure set_directory_metadata(FileContext& context, const DirNode& dir) {
  const Preserve& keep = context.options().preserve;
  const struct ::stat& source = dir.source_stat();
  const int fd = dir.destination_fd();
  bool fix_mode = dir.created_mode() != context.wanted_mode(source);
  if (keep.ownership && context.needs_chown(source, dir.parent())) {
    const MetadataFailure f = keep_owner(
        context, source, [&](uid_t u, gid_t g) { return sys::change_owner(fd, u, g); });
    if (!f.ok()) return f;
    fix_mode = fix_mode || (source.st_mode & 06000) != 0;
  }
  if (fix_mode) {
    if (const long rc = sys::change_mode(fd, context.wanted_mode(source)); rc < 0)
      return {"chmod", static_cast<int>(-rc)};
  }
  if (keep.timestamps) {
    const struct ::timespec times[2] = {source.st_atim, source.st_mtim};
    if (const long rc = sys::set_times(fd, times); rc < 0)
      return {"set times", static_cast<int>(-rc)};
  }
  return {};
}

MetadataFailure copy_directory_xattrs(FileContext& context, int source_fd, int destination_fd) {
  return copy_xattrs(
      context, [&](std::string& n) { return sys::list_xattrs(source_fd, n); },
      [&](const char* n, std::string& v) { return sys::get_xattr(source_fd, n, v); },
      [&](const char* n, const std::string& v) { return sys::set_xattr(destination_fd, n, v); });
}

MetadataFailure set_entry_metadata(FileContext& context, const DirNode& dir,
                                   const char* source_name, const char* destination_name,
                                   const struct ::stat& source, bool symlink) {
  const Preserve& keep = context.options().preserve;
  const int to = dir.destination_fd();
  if (keep.ownership && context.needs_chown(source, &dir)) {
    const MetadataFailure f = keep_owner(context, source, [&](uid_t u, gid_t g) {
      return sys::change_owner_at(to, destination_name, u, g, AT_SYMLINK_NOFOLLOW);
    });
    if (!f.ok()) return f;
  }
  if (keep.xattrs) {
    const int from = dir.source_fd();
    const MetadataFailure f = copy_xattrs(
        context, [&](std::string& n) { return sys::list_xattrs_at(from, source_name, n); },
        [&](const char* n, std::string& v) { return sys::get_xattr_at(from, source_name, n, v); },
        [&](const char* n, const std::string& v) {
          return sys::set_xattr_at(to, destination_name, n, v);
        });
    if (!f.ok()) return f;
  }
  // A symlink's own mode means nothing on Linux; a special file's was cut by the umask.
  const unsigned mode = context.wanted_mode(source);
  if (!symlink && (mode & ~(0777u & ~context.umask())) != 0) {
    if (const long rc = sys::change_mode_at(to, destination_name, mode, 0); rc < 0)
      return {"chmod", static_cast<int>(-rc)};
  }
  if (keep.timestamps) {
    const struct ::timespec times[2] = {source.st_atim, source.st_mtim};
    if (const long rc = sys::set_times_at(to, destination_name, times, AT_SYMLINK_NOFOLLOW);
        rc < 0)
      return {"set times", static_cast<int>(-rc)};
  }
  return {};
}

}  // namespace ccopy::copy
