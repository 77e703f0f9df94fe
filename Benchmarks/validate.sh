#!/usr/bin/env bash
# Times `kerf validate` (no --deep) on large generated manifests and reports parse speed:
#   - a media playlist with 20,000 segments   (target: under 100 ms)
#   - an MPD with 1,000 Representations        (target: under 200 ms)
# Run from the repository root: bash Benchmarks/validate.sh
# Environment: KERF (binary, default .build/release/kerf, built if missing), KERF_BENCH_RUNS (default 10).
set -euo pipefail
KERF="${KERF:-.build/release/kerf}"
RUNS="${KERF_BENCH_RUNS:-10}"
WORK="${KERF_BENCH_DIR:-/tmp/kerf-bench-validate}"
mkdir -p "$WORK"
[ -x "$KERF" ] || swift build -c release --product kerf

# Segment URIs are absolute URLs, so the run measures parsing and rules, not file lookups.
python3 - "$WORK" <<'PY'
import sys
work = sys.argv[1]
with open(f"{work}/media-20000.m3u8", "w") as f:
    f.write("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n")
    f.write('#EXT-X-MAP:URI="https://cdn.example/v/init.mp4"\n')
    for i in range(20000):
        f.write(f"#EXTINF:5.994667,\nhttps://cdn.example/v/seg_{i + 1}.m4s\n")
    f.write("#EXT-X-ENDLIST\n")
with open(f"{work}/mpd-1000.mpd", "w") as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" '
            'profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT600S" minBufferTime="PT2S">\n'
            '  <Period id="0">\n')
    for a in range(100):
        f.write(f'    <AdaptationSet id="{a}" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">\n')
        for r in range(10):
            f.write(f'      <Representation id="v{a}_{r}" bandwidth="{(r + 1) * 300000}" codecs="avc1.64001f" width="1280" height="720">\n'
                    f'        <SegmentTemplate timescale="90000" initialization="v{a}_{r}/init.mp4" media="v{a}_{r}/$Number$.m4s" startNumber="1">\n'
                    f'          <SegmentTimeline><S t="0" d="540000" r="99"/></SegmentTimeline>\n'
                    f'        </SegmentTemplate>\n      </Representation>\n')
        f.write('    </AdaptationSet>\n')
    f.write('  </Period>\n</MPD>\n')
PY

median_ms() {  # runs "$@" RUNS times, prints the median wall time in milliseconds
  local times=() start end
  for _ in $(seq "$RUNS"); do
    start=$EPOCHREALTIME; "$@" > /dev/null || [ $? -eq 1 ]; end=$EPOCHREALTIME
    times+=("$(echo "($end - $start) * 1000" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}

startup=$(median_ms "$KERF" --version)
printf '%-34s %10s %10s %12s %s\n' "manifest" "size MB" "wall ms" "parse MB/s" "target"
for spec in "media-20000.m3u8:100" "mpd-1000.mpd:200"; do
  file="$WORK/${spec%%:*}"; target="${spec##*:}"
  ms=$(median_ms "$KERF" validate "$file")
  mb=$(echo "$(stat -c %s "$file") / 1048576" | bc -l)
  speed=$(echo "$mb / (($ms - $startup) / 1000)" | bc -l 2>/dev/null || echo 0)
  verdict=$(echo "$ms < $target" | bc -l | sed 's/1/PASS/;s/0/MISS/')
  printf '%-34s %10.2f %10.1f %12.1f < %s ms %s\n' "${spec%%:*}" "$mb" "$ms" "$speed" "$target" "$verdict"
done
echo "(wall includes process start-up, ${startup} ms for kerf --version; MB/s excludes it)"
