#!/usr/bin/env bash
# Live channels of `kerf serve`:
#  1. listing latency: ffmpeg sends a 1080p30 test pattern over UDP MPEG-TS in real time for
#     KERF_LATENCY_SECONDS (default 60); Kerf measures, for every segment, the time from reading
#     the packet that completes it to the playlists listing it, and /metrics reports p50/p99
#     (target p99 < 20 ms). The script also polls the playlist every 2 ms from outside and prints
#     how evenly segments appear: listing time minus media end time, relative to the earliest
#     (that figure also holds the MPEG-TS demuxer's wait for the next frame and the encoder's
#     own pacing).
#  2. soak: 4 channels, each looping a fixture at real-time pace with a 60 s window, for
#     KERF_SOAK_SECONDS (default 600); prints RSS once the windows are full and at the end
#     (target: flat).
#
# Run from the repository root: bash Benchmarks/live.sh
# Environment: KERF (binary, default .build/release/kerf, built if missing), KERF_BENCH_DIR.
set -euo pipefail
KERF="${KERF:-.build/release/kerf}"
LATENCY_SECONDS="${KERF_LATENCY_SECONDS:-60}"
SOAK_SECONDS="${KERF_SOAK_SECONDS:-600}"
WORK="${KERF_BENCH_DIR:-/tmp/kerf-bench-live}"
PORT=18090
UDP=19090
[ -x "$KERF" ] || swift build -c release --product kerf
rm -rf "$WORK" && mkdir -p "$WORK/root"
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; kill $(jobs -p) 2>/dev/null || true' EXIT

# ------------------------------------------------------------------ 1. listing latency
printf 'root: %s\nlisten: 127.0.0.1:%s\nchannels:\n  news:\n    input: udp://127.0.0.1:%s\n    segment-duration: 2\n    window: 30\n' \
  "$WORK/root" "$PORT" "$UDP" > "$WORK/latency.yaml"
"$KERF" serve --config "$WORK/latency.yaml" 2>"$WORK/latency.log" &
SERVER=$!
ffmpeg -v error -re -f lavfi -i testsrc2=size=1920x1080:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 \
  -t "$LATENCY_SECONDS" -c:v libx264 -preset ultrafast -tune zerolatency -g 60 -keyint_min 60 -sc_threshold 0 \
  -c:a aac -f mpegts "udp://127.0.0.1:$UDP?pkt_size=1316" &
FEED=$!
python3 - "$PORT" "$LATENCY_SECONDS" <<'PY' &
import calendar, http.client, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port)
seen, delays, deadline = set(), [], time.time() + seconds
while time.time() < deadline:
    try:
        conn.request("GET", "/live/news/video_1080p/playlist.m3u8")
        response = conn.getresponse()
        body = response.read().decode()
    except Exception:
        conn = http.client.HTTPConnection("127.0.0.1", port); time.sleep(0.05); continue
    now = time.time()
    lines = body.split("\n") if response.status == 200 else []
    for i, line in enumerate(lines):
        if line.startswith("seg_") and line not in seen:
            seen.add(line)
            pdt = [l for l in lines[:i] if l.startswith("#EXT-X-PROGRAM-DATE-TIME:")][-1].split(":", 1)[1]
            duration = float([l for l in lines[:i] if l.startswith("#EXTINF:")][-1][8:].rstrip(","))
            start = calendar.timegm(time.strptime(pdt[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + pdt[19:-1])
            if len(seen) > 1:  # the first ones were listed before polling began
                delays.append(now - (start + duration))
    time.sleep(0.002)
# The channel clock starts when the first keyframe leaves the demuxer, after libavformat's
# stream probing: listing times are compared with media times relative to the earliest pair,
# which shows how evenly segments are listed as they arrive.
if delays:
    first = min(delays)
    spread = sorted((d - first) * 1000 for d in delays)
    q = lambda f: spread[min(len(spread) - 1, int(len(spread) * f))]
    print(f"external poll every 2 ms: {len(spread)} segments; listing time minus media end time, relative to the earliest: p50 {q(0.5):.1f} ms, p99 {q(0.99):.1f} ms")
PY
POLLER=$!
wait $FEED || true
wait $POLLER || true
metrics=$(curl -s "http://127.0.0.1:$PORT/metrics")
p50=$(echo "$metrics" | awk '/^kerf_live_listing_latency_p50_seconds/ {printf "%.3f", $2*1000}')
p99=$(echo "$metrics" | awk '/^kerf_live_listing_latency_p99_seconds/ {printf "%.3f", $2*1000}')
segments=$(echo "$metrics" | awk '/^kerf_live_segments_total/ {print $2}')
verdict=$(awk -v p="$p99" 'BEGIN { print (p != "" && p >= 0 && p < 20) ? "PASS" : "MISS" }')
echo "listing latency (reading the packet that completes a segment -> listed), $segments segments: p50 $p50 ms, p99 $p99 ms (target p99 < 20 ms: $verdict)"
kill $SERVER; wait $SERVER 2>/dev/null || true

# ------------------------------------------------------------------ 2. soak
{
  printf 'root: %s\nlisten: 127.0.0.1:%s\nchannels:\n' "$WORK/root" "$PORT"
  i=0
  for fixture in ladder_720p.mp4 ladder_540p.mp4 h264_aac_10s.mp4 hevc_aac.mp4; do
    i=$((i + 1))
    printf '  ch%s:\n    input: %s\n    segment-duration: 2\n    window: 60\n' "$i" "$PWD/Fixtures/$fixture"
  done
} > "$WORK/soak.yaml"
"$KERF" serve --config "$WORK/soak.yaml" 2>"$WORK/soak.log" &
SERVER=$!
full=$(( SOAK_SECONDS < 300 ? SOAK_SECONDS / 2 : 150 ))
sleep "$full"
start=$(rss $SERVER)
peak=$start
for _ in $(seq 1 $(( (SOAK_SECONDS - full) / 10 ))); do
  sleep 10
  now=$(rss $SERVER); peak=$(awk -v a="$peak" -v b="$now" 'BEGIN { print (b > a) ? b : a }')
  for i in 1 2 3 4; do curl -s "http://127.0.0.1:$PORT/live/ch$i/master.m3u8" >/dev/null; done
done
end=$(rss $SERVER)
segments=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^kerf_live_segments_total/ {s += $2} END {print s}')
growth=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%+.1f", (b - a) / a * 100 }')
verdict=$(awk -v a="$start" -v b="$end" 'BEGIN { print ((b - a) / a < 0.05) ? "PASS" : "MISS" }')
echo "soak: 4 channels x 60 s window for ${SOAK_SECONDS} s, $segments segments: RSS ${start} MiB at ${full} s (windows full), ${end} MiB at the end (peak ${peak} MiB), ${growth}% (flat within 5%: $verdict)"
