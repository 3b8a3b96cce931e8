// Setting what a copy preserves (Preserve) on a destination entry: owner, mode, extended
// attributes and times, in that order (a chown clears set-user-ID bits, so the mode comes after
// it; every other change moves the times, so they come last). A refused chown (EPERM) is a note,
// as it is for cp -a run by a user; an unsupported xattr (ENOTSUP) is a note too; anything else
// is the entry's error.
#pragma once

#include <sys/stat.h>

#include "copy/job.hpp"

namespace ccopy::copy {

class FileContext;

/// A step that failed: which, and its errno. `operation` is nullptr when all went well.
struct MetadataFailure {
  const char* operation = nullptr;
  int code = 0;
  [[nodiscard]] bool ok() const { return operation == nullptr; }
};

/// For a file open as `destination_fd`, copied from `source_fd` whose stat is `source`.
/// `fix_mode` asks for the mode even when ownership and the rest are not preserved (the umask
/// took bits the mode must have).
[[nodiscard]] MetadataFailure set_file_metadata(FileContext& context, const DirNode& dir,
                                                int source_fd, int destination_fd,
                                                const struct ::stat& source, bool fix_mode);

/// For a directory, once everything in it is done.
[[nodiscard]] MetadataFailure set_directory_metadata(FileContext& context, const DirNode& dir);

/// Extended attributes of a directory, when it is created (its times are set later anyway).
[[nodiscard]] MetadataFailure copy_directory_xattrs(FileContext& context, int source_fd,
                                                    int destination_fd);

/// For a symlink or a special file `name` in `dir`, reached by path without following it.
[[nodiscard]] MetadataFailure set_entry_metadata(FileContext& context, const DirNode& dir,
                                                 const char* source_name,
                                                 const char* destination_name,
                                                 const struct ::stat& source, bool symlink);

}  // namespace ccopy::copy
