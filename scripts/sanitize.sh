#!/usr/bin/env bash
# Runs the unit and cli tests under AddressSanitizer + UndefinedBehaviorSanitizer
# (built by scripts/build_instrumented.sh in build-asan; the model tests spend
# their time in LibTorch and oneDNN, which are not instrumented).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${FDIWN_ASAN_BUILD_DIR:-$ROOT/build-asan}"
NORMAL="${FDIWN_BUILD_DIR:-$ROOT/build}"

FDIWN_ASAN_BUILD_DIR="$BUILD" "$ROOT/scripts/build_instrumented.sh"
# The cli tests only start fdiwn and read what it wrote: the normal build's
# test program runs the instrumented fdiwn (FDIWN_TEST_CLI), which saves
# compiling it again with the sanitizers (a few minutes on 2 cores).
# (Configured with the tests on: scripts/setup.sh alone leaves them off.)
{ cmake -S "$ROOT" -B "$NORMAL" -DFDIWN_BUILD_TESTS=ON &&
  cmake --build "$NORMAL" --parallel "$(nproc)" --target fdiwn_cli_tests; } \
  > "$BUILD/cli_tests_build.log" 2>&1 || { tail -60 "$BUILD/cli_tests_build.log"; exit 1; }
# Leaks: LibTorch and its dependencies keep global state until exit, which
# LeakSanitizer reports; suppress those libraries, not ours.
export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$BUILD"
# Each program runs once, not once per test case as under ctest: starting an
# instrumented process that loads LibTorch costs seconds, which made this
# stage take half an hour. The cli program runs as two gtest shards side by
# side (its tests mostly wait on the fdiwn processes they start).
# MemoryBudget measures peak resident memory against --max-memory; under ASan
# the shadow memory and the quarantine of freed blocks add a few hundred MB
# that the tool cannot plan for, so that one test runs in the normal build only.
# The cli tests that compare whole Set5 runs with the authors' pixels or the
# paper's table (or resume after random kills) run in the normal build only:
# under ASan they take minutes (1.5 to 3 each for the plain path's table and
# the three scales' bicubic rows), and the code they run is run here by the
# smaller tests on the same paths (and by fuzz_upscale). So do the SIGTERM
# and SIGKILL cases of the interrupted batch (1.5 to 2 minutes each): SIGINT
# takes the same handler as SIGTERM and the same resume as SIGKILL.
# Extra arguments go to both programs (e.g. --gtest_filter=...).
echo "sanitize.sh: unit tests"
./bin/fdiwn_unit_tests --gtest_brief=1 "$@"
echo "sanitize.sh: cli tests, 2 shards"
normal_build_only="MemoryBudget.*:AllScales/CliSet5.*:Bench.Set5ChopReproducesThePaper"
normal_build_only+=":BenchShards.MergedTableEqualsASingleRun:Paths.EngineAndPlainGiveTheSamePixels"
normal_build_only+=":Interruptions.RandomKillsThenResumeEqualsAnUninterruptedRun"
normal_build_only+=":Methods.BaselineRowsMatchTheInterpolationScoredAsAMethod"
normal_build_only+=":Bench.Set5WholeImageOnThePlainPathGivesTheSameNumbers"
normal_build_only+=":Signals/CliInterrupt.*/SIGTERM:Signals/CliInterrupt.*/SIGKILL"
pids=()
for shard in 0 1; do
  FDIWN_TEST_CLI="$BUILD/bin/fdiwn" GTEST_TOTAL_SHARDS=2 GTEST_SHARD_INDEX=$shard \
    "$NORMAL/bin/fdiwn_cli_tests" --gtest_brief=1 \
    --gtest_filter="-${normal_build_only}" "$@" > "cli_shard$shard.log" 2>&1 &
  pids+=($!)
done
status=0
for shard in 0 1; do
  if ! wait "${pids[$shard]}"; then status=1; fi
  cat "cli_shard$shard.log"
done
exit $status
