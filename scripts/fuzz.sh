#!/usr/bin/env bash
# Runs each libFuzzer target (clang, ASan + UBSan; built by
# scripts/build_instrumented.sh in build-asan, with the sanitizer tests) for
# SECONDS (default 60) on a copy of the seed corpus and of the regression
# inputs: fuzz_weights (the weights reader), fuzz_image (header checks and
# decoding) and fuzz_upscale (the command's whole path for one file, network
# and safe write included). Exits non-zero if a target crashes; the input
# that did it is left in build-asan/findings/<target>/, or if a target left
# a file in OpenCV's temporary folder (cv::imdecode copies inputs there for
# decoders that read only files; nothing may be left behind).
#
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_EACH="${1:-60}"
BUILD="${FDIWN_ASAN_BUILD_DIR:-$ROOT/build-asan}"

FDIWN_ASAN_BUILD_DIR="$BUILD" "$ROOT/scripts/build_instrumented.sh"
# Leaks inside uninstrumented libraries are theirs (see the file).
export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"

status=0
for target in weights image upscale; do
  # fuzz_upscale starts from the image seeds: the same files, the whole path.
  seeds=$target
  [[ $target == upscale ]] && seeds=image
  work="$(mktemp -d)"
  cp "$ROOT/tests/fuzz/corpus/$seeds/"* "$work/"
  cp "$ROOT/tests/fuzz/regressions/$seeds/"* "$work/" 2>/dev/null || true
  findings="$BUILD/findings/$target"
  mkdir -p "$findings"
  opencv_temp="$(mktemp -d)"
  echo "fuzz.sh: fuzz_$target for ${SECONDS_EACH}s"
  if ! OPENCV_TEMP_PATH="$opencv_temp" "$BUILD/bin/fuzz_$target" "$work" -max_total_time="$SECONDS_EACH" \
        -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$findings/" > "$BUILD/fuzz_$target.log" 2>&1; then
    echo "fuzz.sh: fuzz_$target FAILED; input(s) in $findings:" >&2
    ls -1 "$findings" >&2
    tail -40 "$BUILD/fuzz_$target.log" >&2
    status=1
  fi
  if [[ -n "$(ls -A "$opencv_temp")" ]]; then
    echo "fuzz.sh: fuzz_$target left temporary copies of its inputs; kept in $findings:" >&2
    cp "$opencv_temp"/* "$findings/"
    ls -1 "$opencv_temp" >&2
    status=1
  fi
  grep -E "stat::number_of_executed_units|cov:" "$BUILD/fuzz_$target.log" | tail -2 | sed 's/^/  /'
  rm -rf "$work" "$opencv_temp"
done
exit $status
