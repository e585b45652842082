#!/usr/bin/env bash
# Installs what the tests need, builds, and runs the whole test suite.
# Extra arguments go to ctest, e.g. `scripts/test.sh -L unit`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${FDIWN_BUILD_DIR:-$ROOT/build}"

"$ROOT/scripts/setup.sh" --tests
cd "$BUILD_DIR"
# One test at a time: each test program already uses every core, and two
# OpenMP programs spinning on the same cores slow each other down ~10x.
ctest --output-on-failure --no-tests=error "$@"
