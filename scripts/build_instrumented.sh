#!/usr/bin/env bash
# Builds fdiwn, its unit tests and its libFuzzer targets once, with
# clang, AddressSanitizer + UndefinedBehaviorSanitizer and libFuzzer's
# coverage, in build-asan (or $FDIWN_ASAN_BUILD_DIR). scripts/sanitize.sh and
# scripts/fuzz.sh both run from this one build: an instrumented build of
# LibTorch code takes ten minutes, too long to do twice in the test command.
# The cli tests need no build of their own here: sanitize.sh runs the normal
# build's against this fdiwn.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${FDIWN_ASAN_BUILD_DIR:-$ROOT/build-asan}"

mkdir -p "$BUILD"
cmake -S "$ROOT" -B "$BUILD" -DFDIWN_FUZZ=ON -DFDIWN_BUILD_TESTS=ON \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
      > "$BUILD/configure.log" 2>&1 || { cat "$BUILD/configure.log"; exit 1; }
cmake --build "$BUILD" --parallel "$(nproc)" --target fdiwn fdiwn_unit_tests \
      fuzz_weights fuzz_image fuzz_upscale > "$BUILD/build.log" 2>&1 \
  || { tail -60 "$BUILD/build.log"; exit 1; }
echo "build_instrumented.sh: built $BUILD"
