// The factories and probes of the built-in engines, for the registry. Each engine lives in its
// own file and shares nothing with the others but the Engine interface and the helpers below.
#pragma once

#include <memory>

#include "ccopy/engine.hpp"

namespace ccopy::engines {

std::unique_ptr<Engine> make_threads_engine();
std::unique_ptr<Engine> make_uring_engine();
std::unique_ptr<Engine> make_uv_engine();
std::unique_ptr<Engine> make_kernel_engine();

/// Whether io_uring can be set up here (seccomp and old kernels forbid it).
Availability probe_uring();
/// Engines that need nothing special are always available.
Availability always_available();

}  // namespace ccopy::engines
