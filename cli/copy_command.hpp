// `concurrent_copy copy`: runs a parsed CopyCommand and turns its outcome into messages and an
// exit code. cp's rules for what SOURCE and DEST mean, a progress line, errors as they happen,
// the summary, --verify and --json live here; the copying itself is the library's copy_tree().
#pragma once

#include <atomic>
#include <functional>
#include <vector>

#include "ccopy/tree.hpp"
#include "copy_options.hpp"

namespace ccopy::cli {

/// cp's shapes: which path each source is copied to. Fills `roots`, or returns a message (cp's
/// 9.1 wording: "target 'x': Not a directory") and leaves it empty.
[[nodiscard]] std::string resolve_roots(const CopyCommand& command, std::vector<CopyRoot>& roots);

/// Runs the copy; `cancel` is set by the signal thread. Returns the exit code: 0, 1 (something
/// was not copied), or 2 (the command could not be run as given).
[[nodiscard]] int run_copy(const CopyCommand& command, const std::atomic<bool>& cancel);

/// What run_copy() copies and verifies with: copy_tree() and verify_copy() unless set;
/// concurrent_copy_mpi's ranks give their shared ones (src/dist/shared_copy.hpp,
/// shared_verify.hpp).
struct CopyFunctions {
  std::function<CopyResult(const std::vector<CopyRoot>&, Engine&, const EngineOptions&,
                           const CopyOptions&, CopyObserver&, CopyProgress*)>
      copy;
  std::function<Error(const std::string& source, const std::string& copy, const VerifyOptions&,
                      VerifyResult&)>
      verify;
};
/// run_copy() with `functions` instead of copy_tree() and verify_copy().
[[nodiscard]] int run_copy(const CopyCommand& command, const std::atomic<bool>& cancel,
                           const CopyFunctions& functions);

}  // namespace ccopy::cli
