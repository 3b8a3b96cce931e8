// Errors as values. Library code never throws across an engine boundary and never prints:
// it returns an Error that names what was being done and why it failed.
#pragma once

#include <string>

namespace ccopy {

/// What went wrong, as a value. `code` is an errno value when the failure came from the
/// system, or 0 when it did not (a verification mismatch, a bad argument); `context` names the
/// operation and the file ("open /x/src/file_0001"). A default-constructed Error means success.
struct Error {
  int code = 0;
  std::string context;

  [[nodiscard]] bool ok() const { return code == 0 && context.empty(); }
  explicit operator bool() const { return !ok(); }

  /// "open /x/src/file_0001: No such file or directory", or the context alone when code is 0.
  [[nodiscard]] std::string message() const;

  /// An error that came from the system: `err` is a positive errno value.
  static Error from_errno(int err, std::string what);
  /// An error that has no errno, such as a verification mismatch.
  static Error failure(std::string what);
};

}  // namespace ccopy
