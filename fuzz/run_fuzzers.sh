#!/usr/bin/env bash
# Runs every libFuzzer target (built by `make fuzz` into BUILD/fuzz/) for a bounded time, and
# fails if any of them finds a crash, leak, sanitizer report, timeout or OOM.
#
#   bash fuzz/run_fuzzers.sh [BUILD]       (BUILD defaults to build-fuzz)
#   FUZZ_SECONDS=60   seconds per target (-max_total_time)
#   FUZZ_JOBS=2       targets run at once
#   FUZZ_TARGETS="router jwt"   a subset
#
# Each target reads the committed seeds (fuzz/corpus/<t>) and regression inputs
# (fuzz/regressions/<t>) read-only and writes what it finds new to BUILD/fuzz-work/<t>, so the
# repository needs no write bits. Crash inputs land in BUILD/fuzz-artifacts/<t>/; once fixed,
# keep them as fuzz/regressions/<t>/<name> (`make test` replays them).
set -uo pipefail
cd "$(dirname "$0")/.."

build=${1:-build-fuzz}
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}
targets=${FUZZ_TARGETS:-router key_json jwk_import jwt base64url request_target iso_duration backup_restore}

# Largest useful input per target: a few requests with JWK bodies; an RSA-4096 JWK; tokens;
# a duration is at most 64 characters; backup blobs of several RSA versions.
declare -A max_len=([router]=8192 [key_json]=4096 [jwk_import]=4096 [jwt]=4096 [base64url]=2048
  [request_target]=2048 [iso_duration]=96 [backup_restore]=12288)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:print_stacktrace=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0}

mkdir -p "$build/fuzz-logs"
run_one() {
  local t=$1
  local bin=$build/fuzz/fuzz_$t
  local work=$build/fuzz-work/$t
  local artifacts=$build/fuzz-artifacts/$t/
  mkdir -p "$work" "$artifacts"
  local args=(-max_total_time="$seconds" -max_len="${max_len[$t]:-4096}" -timeout=30
    -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$artifacts")
  [ -f "fuzz/dict/$t.dict" ] && args+=(-dict="fuzz/dict/$t.dict")
  local dirs=("$work" "fuzz/corpus/$t")
  [ -d "fuzz/regressions/$t" ] && dirs+=("fuzz/regressions/$t")
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin is missing (run: make fuzz)" > "$build/fuzz-logs/$t.log"
    echo 127 > "$build/fuzz-logs/$t.rc"
    return
  fi
  "$bin" "${args[@]}" "${dirs[@]}" > "$build/fuzz-logs/$t.log" 2>&1
  echo $? > "$build/fuzz-logs/$t.rc"
}

echo "fuzz: ${seconds}s per target, $jobs at a time: $targets"
running=0
for t in $targets; do
  rm -f "$build/fuzz-logs/$t.rc"
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

passed=0
failed=0
for t in $targets; do
  rc=$(cat "$build/fuzz-logs/$t.rc" 2>/dev/null || echo 1)
  stats=$(grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' \
    "$build/fuzz-logs/$t.log" | sed 's/^stat:://' | tr -s ' \n' ' ')
  cov=$(grep -oE 'cov: [0-9]+' "$build/fuzz-logs/$t.log" | tail -1)
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1))
    echo "fuzz: $t ok ($cov; $stats)"
  else
    failed=$((failed + 1))
    echo "fuzz: $t FAILED (exit $rc); log $build/fuzz-logs/$t.log, inputs in $build/fuzz-artifacts/$t/"
    grep -vE '^#[0-9]+' "$build/fuzz-logs/$t.log" | tail -80
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
