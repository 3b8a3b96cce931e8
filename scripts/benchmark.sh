#!/usr/bin/env bash
# The first of the README's two commands: sets up everything on a fresh Debian 12 machine,
# builds a release binary, and runs the default benchmark. Arguments go to concurrent_copy.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" -DCCOPY_TESTS=OFF
exec "${BUILD_DIR:-$root/build}/cli/concurrent_copy" "$@"
