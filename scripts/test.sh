#!/usr/bin/env bash
# Installs what the tests need, builds, and runs every test:
#   1. the CTest suite (labels unit, model, cli, slurm) in build/;
#   2. the unit and cli tests again under AddressSanitizer + UBSan
#      (scripts/sanitize.sh, in build-asan/, built with clang);
#   3. a short libFuzzer run of each fuzz target (scripts/fuzz.sh 60, from
#      the same instrumented build).
# With arguments, only step 1 runs and the arguments go to ctest, e.g.
# `scripts/test.sh -L unit` or `scripts/test.sh -R Cli`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${FDIWN_BUILD_DIR:-$ROOT/build}"
start=$SECONDS

"$ROOT/scripts/setup.sh" --tests

# Says why the Slurm test was skipped, if it was: a skip must never look like a pass.
report_slurm() {
  local log="$BUILD_DIR/Testing/Temporary/LastTest.log"
  if [[ -f $log ]] && grep -q "^SKIPPED: the Slurm test" "$log"; then
    echo "test.sh: NOTE: $(grep -m1 '^SKIPPED: the Slurm test' "$log")"
  fi
}

cd "$BUILD_DIR"
# Two tests at a time: most of a unit or cli test is starting processes and
# waiting on files. The model tests use every core and are marked RUN_SERIAL
# (tests/CMakeLists.txt): two OpenMP programs spinning on the same cores slow
# each other down ~10x.
status=0
ctest --output-on-failure --no-tests=error --parallel 2 "$@" || status=$?
report_slurm
if (($# > 0)) || ((status != 0)); then exit $status; fi

echo "test.sh: the unit and cli tests under AddressSanitizer + UBSan"
"$ROOT/scripts/sanitize.sh"
echo "test.sh: fuzzing, 60 s per target"
"$ROOT/scripts/fuzz.sh" 60
echo "test.sh: all passed in $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s"
