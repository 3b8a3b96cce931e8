#!/usr/bin/env bash
# The second of the README's two commands: sets up everything on a fresh Debian 12 machine,
# builds, and runs the whole test suite with ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" -DCCOPY_TESTS=ON -DCCOPY_WERROR=ON
cd "${BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc)" --timeout 300
