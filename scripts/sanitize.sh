#!/usr/bin/env bash
# Runs the unit and cli tests under AddressSanitizer + UndefinedBehaviorSanitizer
# (built by scripts/build_instrumented.sh in build-asan; the model tests spend
# their time in LibTorch and oneDNN, which are not instrumented).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${FDIWN_ASAN_BUILD_DIR:-$ROOT/build-asan}"

FDIWN_ASAN_BUILD_DIR="$BUILD" "$ROOT/scripts/build_instrumented.sh"
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
# under ASan they take minutes, and the code they run is run here by the
# smaller tests on the same paths (and by fuzz_upscale).
# Extra arguments go to both programs (e.g. --gtest_filter=...).
echo "sanitize.sh: unit tests"
./bin/fdiwn_unit_tests --gtest_brief=1 "$@"
echo "sanitize.sh: cli tests, 2 shards"
normal_build_only="MemoryBudget.*:AllScales/CliSet5.*:Bench.Set5ChopReproducesThePaper"
normal_build_only+=":BenchShards.MergedTableEqualsASingleRun:Paths.EngineAndPlainGiveTheSamePixels"
normal_build_only+=":Interruptions.RandomKillsThenResumeEqualsAnUninterruptedRun"
pids=()
for shard in 0 1; do
  GTEST_TOTAL_SHARDS=2 GTEST_SHARD_INDEX=$shard ./bin/fdiwn_cli_tests --gtest_brief=1 \
    --gtest_filter="-${normal_build_only}" "$@" > "cli_shard$shard.log" 2>&1 &
  pids+=($!)
done
status=0
for shard in 0 1; do
  if ! wait "${pids[$shard]}"; then status=1; fi
  cat "cli_shard$shard.log"
done
exit $status
