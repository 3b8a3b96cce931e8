#!/usr/bin/env bash
# Configures and builds into BUILD_DIR (default: build), release unless BUILD_TYPE says
# otherwise. Extra arguments go to cmake.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "$@" >&2
cmake --build "$build_dir" -j "$(nproc)" >&2
