#!/usr/bin/env bash
# Runs test lanes side by side: each line of standard input is a --filter expression (from
# `test_layers.py lanes`), run by its own process of the test binary given, its tests one after
# the other (--no-parallel). Each output line is prefixed with its lane; exits non-zero when any
# lane failed, after all have ended.
# Usage: test_layers.py lanes 2 realtime | run_lanes.sh .build/debug/KerfPackageTests.xctest
set -uo pipefail
binary=${1:?usage: run_lanes.sh <test binary> < filters}
[[ -x $binary ]] || { echo "run_lanes.sh: no test binary at $binary (swift build --build-tests first)" >&2; exit 2; }
mapfile -t filters
(( ${#filters[@]} > 0 )) || { echo "run_lanes.sh: no filters on standard input" >&2; exit 2; }
pids=()
for index in "${!filters[@]}"; do
    lane=$((index + 1))
    ( NO_COLOR=1 "$binary" --testing-library swift-testing --no-parallel --filter "${filters[$index]}" 2>&1 \
        | sed -u "s/^/[lane $lane] /" ) &
    pids+=($!)
done
status=0
for index in "${!pids[@]}"; do
    if ! wait "${pids[$index]}"; then
        echo "[lane $((index + 1))] failed" >&2
        status=1
    fi
done
exit $status
