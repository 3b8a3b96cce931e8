// Byte-for-byte verification of copies.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "ccopy/engine.hpp"
#include "ccopy/error.hpp"

namespace ccopy {

/// Compares one destination with its source, byte for byte. Returns an empty Error when they
/// are identical; otherwise says how they differ: a missing file, different sizes, or the
/// offset of the first differing byte.
[[nodiscard]] Error verify_copy(const CopyJob& job);

/// The verdict on a whole set of copies.
struct VerifyReport {
  std::vector<Error> files;  ///< files[i] belongs to jobs[i]; empty when it verified
  std::size_t failed = 0;
  [[nodiscard]] bool ok() const { return failed == 0; }
  [[nodiscard]] Error first_error() const;
};

/// Verifies every job, on up to `threads` threads.
[[nodiscard]] VerifyReport verify_copies(std::span<const CopyJob> jobs, unsigned threads = 2);

}  // namespace ccopy
