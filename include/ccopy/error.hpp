// Errors as values: the one convention of the library layer.
//
// The layers and their conventions:
//   - src/sys/ (the only code that calls the OS): a function returns what the kernel returns, a
//     count, a descriptor or 0, or a negative errno value, as liburing does. Never errno, never
//     an exception.
//   - the library (everything else under src/ and include/): a function that can fail returns an
//     Error; one that produces something as well fills an out-parameter or a result struct that
//     holds an Error. An interruption (the caller's cancel flag) is an Error whose kind says so,
//     never an errno value to be fished back out. No exception leaves a library function; the
//     allocation failures and thread refusals the standard library throws are caught where they
//     can happen and become Errors.
//   - the command line (cli/): an Error becomes one `concurrent_copy: ` line on stderr and an
//     exit code (cli/exit_codes.hpp).
#pragma once

#include <string>

namespace ccopy {

/// What went wrong, as a value. `code` is an errno value when the failure came from the
/// system, or 0 when it did not (a verification mismatch, a bad argument); `context` names the
/// operation and the file ("open /x/src/file_0001"). A default-constructed Error means success.
struct Error {
  int code = 0;
  std::string context;
  /// The work stopped because the caller asked it to (its cancel flag was set), not because
  /// something failed.
  bool interrupted = false;

  [[nodiscard]] bool ok() const { return code == 0 && context.empty() && !interrupted; }
  explicit operator bool() const { return !ok(); }
  [[nodiscard]] bool cancelled() const { return interrupted; }

  /// "open /x/src/file_0001: No such file or directory", or the context alone when code is 0.
  [[nodiscard]] std::string message() const;

  /// An error that came from the system: `err` is a positive errno value.
  static Error from_errno(int err, std::string what);
  /// An error that has no errno, such as a verification mismatch.
  static Error failure(std::string what);
  /// The work named by `what` stopped because it was cancelled.
  static Error cancelled(std::string what);
};

}  // namespace ccopy
