// verify_copy() by several ranks together: each compares its part of the trees
// (VerifyOptions::parts, by a hash of each entry's path), and the parts' verdicts are merged
// into the one a single process would give.
#pragma once

#include <atomic>
#include <string>

#include "ccopy/error.hpp"
#include "ccopy/tree.hpp"
#include "dist/comm.hpp"

namespace ccopy::dist {

/// Collective: every rank calls it with the same paths and options (`part` and `parts` are set
/// here, from the rank and the number of ranks). Returns, on every rank, the same outcome: the
/// merged verdict in `out`, or the first Error in rank order (another rank's named with its
/// rank and host; a cancellation when that rank was cancelled). Never throws.
[[nodiscard]] Error verify_copy_shared(Comm& comm, const std::string& source,
                                       const std::string& copy, const VerifyOptions& options,
                                       VerifyResult& out,
                                       const std::atomic<bool>* cancel = nullptr);

}  // namespace ccopy::dist
