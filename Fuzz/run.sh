#!/usr/bin/env bash
# Runs every fuzz target (or those named) under libFuzzer for SECONDS each, one after another,
# and prints per target: executions, coverage (cov: edges, ft: features, from libFuzzer's final
# lines) and crashes. Needs the sanitizer build (`make fuzz` makes it).
#
#   Fuzz/run.sh SECONDS [target...]
#
# Each target starts from a working copy of its committed corpus (.build-fuzz/corpus/<target>)
# and adds what it finds there; crashes, leaks and timeouts go to .build-fuzz/findings/<target>/
# (not .build-fuzz/artifacts, which SwiftPM owns and empties when it builds). FUZZ_KEEP_GOING=1
# runs libFuzzer in fork mode, going on after a crash, leak or timeout (for long runs);
# FUZZ_OPTIONS adds libFuzzer options; KERF_FUZZER names another kerf-fuzz binary. A finding is
# reproduced with `.build-fuzz/debug/kerf-fuzz <target> <file>`; the defects fixed keep their
# input in Fuzz/Corpus/<target>/ (replayed by FuzzCorpusTests) and a named test.
set -u
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
fuzzer=${KERF_FUZZER:-.build-fuzz/debug/kerf-fuzz}
[ -x "$fuzzer" ] || { echo "no $fuzzer: run make fuzz" >&2; exit 2; }
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=($(ls Fuzz/Corpus))
# The Swift runtime's backtracer would answer libFuzzer's crash signals first.
export SWIFT_BACKTRACE=enable=no
status=0
keep_going=()
[ "${FUZZ_KEEP_GOING:-0}" = 1 ] && keep_going=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
printf '%-11s %12s %8s %8s %8s\n' target executions cov ft crashes
for target in "${targets[@]}"; do
  work=.build-fuzz/corpus/$target
  artifacts=.build-fuzz/findings/$target/
  rm -rf "$artifacts"
  mkdir -p "$work" "$artifacts"
  log=.build-fuzz/logs/$target.log
  mkdir -p .build-fuzz/logs
  "$fuzzer" "$target" "$work" "Fuzz/Corpus/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts" "${keep_going[@]}" ${FUZZ_OPTIONS:-} >"$log" 2>&1
  code=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  # Fork mode prints no final stats: its last status line counts the executions.
  [ -n "$executions" ] || executions=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  crashes=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  printf '%-11s %12s %8s %8s %8s\n' "$target" "${executions:-?}" "${cov:-?}" "${ft:-?}" "$crashes"
  if [ "$crashes" -gt 0 ]; then
    status=1
    grep -m1 -E 'ERROR: |Fatal error|SUMMARY' "$log" | sed 's/^/    /'
    find "$artifacts" -type f | sed 's/^/    /'
  elif [ "$code" -ne 0 ] || [ -z "$executions" ]; then
    # A fuzzer that could not start or ended without a finding is a failure too.
    status=1
    echo "    kerf-fuzz $target exited with $code after ${executions:-no} executions:"
    tail -3 "$log" | sed 's/^/    /'
  fi
done
exit $status
