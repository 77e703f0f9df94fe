#!/usr/bin/env bash
# Runs test lanes side by side: each line of standard input is a --filter expression (from
# `test_layers.py lanes`), run by its own process of the test binary given, its tests one after
# the other (--no-parallel). Each output line is prefixed with its lane; exits non-zero when any
# lane failed, after all have ended. Interrupted, it stops the lanes.
# Usage: test_layers.py lanes 2 realtime | run_lanes.sh .build/debug/KerfPackageTests.xctest
set -uo pipefail
binary=${1:?usage: run_lanes.sh <test binary> < filters}
[[ -x $binary ]] || { echo "run_lanes.sh: no test binary at $binary (swift build --build-tests first)" >&2; exit 2; }
filters=()
while IFS= read -r line; do
    # A blank line would be an empty filter, which matches every test.
    [[ -n $line ]] && filters+=("$line")
done
(( ${#filters[@]} > 0 )) || { echo "run_lanes.sh: no filters on standard input" >&2; exit 2; }
pids=()
# Lanes do not outlive the runner.
trap 'kill "${pids[@]}" 2>/dev/null; exit 130' INT TERM
for index in "${!filters[@]}"; do
    lane=$((index + 1))
    # The test process itself is the background job (its status is the lane's); sed prefixes
    # its lines.
    NO_COLOR=1 "$binary" --testing-library swift-testing --no-parallel --filter "${filters[$index]}" \
        > >(sed -u "s/^/[lane $lane] /") 2>&1 &
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
