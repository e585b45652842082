#!/usr/bin/env bash
# Builds fdiwn and its tests with AddressSanitizer + UndefinedBehaviorSanitizer
# in build-asan and runs the unit and cli tests under them (the model tests
# spend their time in LibTorch and oneDNN, which are not instrumented).
# Extra arguments go to ctest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${FDIWN_ASAN_BUILD_DIR:-$ROOT/build-asan}"

mkdir -p "$BUILD"
cmake -S "$ROOT" -B "$BUILD" -DFDIWN_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DFDIWN_BUILD_TESTS=ON > "$BUILD/configure.log" 2>&1 \
  || { cat "$BUILD/configure.log"; exit 1; }
cmake --build "$BUILD" --parallel "$(nproc)" --target fdiwn fdiwn_unit_tests fdiwn_cli_tests
# Leaks: LibTorch and its dependencies keep global state until exit, which
# LeakSanitizer reports; suppress those libraries, not ours.
export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$BUILD"
# MemoryBudget measures peak resident memory against --max-memory; under ASan
# the shadow memory and the quarantine of freed blocks add a few hundred MB
# that the tool cannot plan for, so that one test runs in the normal build only.
ctest --output-on-failure --no-tests=error -L "unit|cli" -E "^MemoryBudget\\." "$@"
