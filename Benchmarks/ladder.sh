#!/usr/bin/env bash
# Benchmarks/ladder.sh: `kerf package --transcode always` against one ffmpeg command encoding
# the same ABR ladder, side by side.
#
# What it does
#   1. Generates test media once, cached in $KERF_BENCH_DIR (default /tmp/kerf-bench-ladder),
#      with ffmpeg's lavfi sources: a 20 s 1080p30 H.264 (8 Mb/s, 2 s GOPs) + AAC stereo clip,
#      and a 60 s one made the same way (for the memory check).
#   2. Installs GNU time (`/usr/bin/time`, apt; sudo only when not root) when missing.
#   3. Uses the kerf binary $KERF (default .build/release/kerf, built when missing).
#   4. Runs each tool once as a warm-up, then $KERF_BENCH_RUNS times round-robin on the 20 s
#      clip, each run into a fresh directory, under `/usr/bin/time -f '%e %M %U %S'`:
#        kerf    kerf package IN -o OUT --transcode always --encoder x264 --formats hls
#                  --ladder 1080p:5000k,720p:3000k,480p:1200k --segment-duration 2
#        ffmpeg  ffmpeg -i IN -filter_complex split=3 + scale (720p, 480p), libx264 veryfast,
#                  same bitrates, maxrate 1.2x and bufsize 2x (kerf's defaults), 2 s closed GOPs
#                  without scene cuts, AAC 128k, -f hls fMP4 with a master playlist
#      then kerf once on the 60 s clip.
#   5. Prints median wall time and peak RSS per tool, the ratio kerf/ffmpeg (target <= 0.9) and
#      whether kerf's peak RSS is below ffmpeg's, frames per second per rung (frames encoded /
#      kerf's wall time), and kerf's peak RSS on 60 s against 20 s (target: within 10%), each
#      marked PASS or MISS.
#
# It is a report, not a test: it exits 0 when targets are missed, non-zero only when something
# cannot run.
#
# Usage (from anywhere):
#   Benchmarks/ladder.sh
#   KERF_BENCH_RUNS=1 Benchmarks/ladder.sh       # quick run
#
# Environment
#   KERF              path to the kerf binary            (default .build/release/kerf)
#   KERF_BENCH_DIR    work directory (inputs are cached)  (default /tmp/kerf-bench-ladder)
#   KERF_BENCH_RUNS   measured runs per tool              (default 3)

set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)
if [[ -n "${KERF:-}" && "$KERF" != /* && "$KERF" == */* ]]; then
    KERF="$PWD/$KERF"
fi
cd "$repo_root"

work_dir=${KERF_BENCH_DIR:-/tmp/kerf-bench-ladder}
runs=${KERF_BENCH_RUNS:-3}
ladder="1080p:5000k,720p:3000k,480p:1200k"

die() { echo "ladder.sh: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }
[[ "$runs" =~ ^[0-9]+$ && "$runs" -ge 1 ]] || die "KERF_BENCH_RUNS must be a positive integer"
bench_name=ladder.sh
# shellcheck source=Benchmarks/common.sh
source "$script_dir/common.sh"

command -v ffmpeg >/dev/null || die "ffmpeg is not installed (apt-get install ffmpeg)"
command -v python3 >/dev/null || die "python3 is needed to read kerf's JSON summary"
require_gnu_time
require_kerf

# ---------------------------------------------------------------- inputs

mkdir -p "$work_dir"
make_input() {
    local seconds=$1 path="$work_dir/input-1080p30-$1s.mp4"
    if [[ ! -s "$path" ]]; then
        log "generating $path (${seconds} s 1080p30 H.264 8 Mb/s + AAC; once)"
        ffmpeg -nostdin -v error -y \
            -f lavfi -i "testsrc2=size=1920x1080:rate=30" \
            -f lavfi -i "sine=frequency=440:beep_factor=4:sample_rate=48000" \
            -t "$seconds" -map 0:v -map 1:a \
            -c:v libx264 -preset ultrafast -pix_fmt yuv420p -b:v 8M -maxrate 8M -bufsize 16M \
            -g 60 -keyint_min 60 -sc_threshold 0 -c:a aac -b:a 128k -ac 2 \
            -movflags +faststart -f mp4 "$path.part" || die "could not generate $path"
        mv "$path.part" "$path"
    fi
    echo "$path"
}
input20=$(make_input 20)
input60=$(make_input 60)

# ---------------------------------------------------------------- tools

cmd_kerf() {
    cmd=("$KERF" package "$1" -o "$2" --transcode always --encoder x264 --ladder "$ladder"
         --segment-duration 2 --formats hls --json --force)
}
cmd_ffmpeg() {
    cmd=(ffmpeg -nostdin -v error -y -i "$1"
        -filter_complex "[0:v]split=3[v0][s1][s2];[s1]scale=-2:720[v1];[s2]scale=-2:480[v2]"
        -map "[v0]" -map "[v1]" -map "[v2]" -map 0:a
        -c:v libx264 -preset veryfast -pix_fmt yuv420p
        -b:v:0 5000k -maxrate:v:0 6000k -bufsize:v:0 10000k
        -b:v:1 3000k -maxrate:v:1 3600k -bufsize:v:1 6000k
        -b:v:2 1200k -maxrate:v:2 1440k -bufsize:v:2 2400k
        -g 60 -keyint_min 60 -sc_threshold 0 -flags +cgop
        -c:a aac -b:a 128k -ac 2
        -f hls -hls_time 2 -hls_playlist_type vod -hls_segment_type fmp4
        -var_stream_map "v:0,agroup:aud v:1,agroup:aud v:2,agroup:aud a:0,agroup:aud,default:yes"
        -master_pl_name master.m3u8 -hls_segment_filename "$2/stream_%v/seg_%d.m4s" "$2/stream_%v/playlist.m3u8")
}

runs_dir="$work_dir/runs"
results="$work_dir/results.txt"   # lines: label wall_s rss_kib cpu_s time_%e_s
rm -rf "$runs_dir"
mkdir -p "$runs_dir"
: > "$results"

log "warm-up"
measure kerf kerf-warmup "$input20"
measure ffmpeg ffmpeg-warmup "$input20"
for tool in kerf ffmpeg; do
    [[ -s "$runs_dir/$tool-warmup/out/master.m3u8" ]] || die "$tool did not write master.m3u8 (see $runs_dir/$tool-warmup)"
done
for ((i = 1; i <= runs; i++)); do
    log "run $i of $runs"
    measure kerf "kerf-$i" "$input20" record
    measure ffmpeg "ffmpeg-$i" "$input20" record
done
log "kerf on the 60 s clip"
measure kerf kerf60 "$input60" record

# ---------------------------------------------------------------- report

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
figure() { grep -E "^$1-[0-9]+ " "$results" | awk -v c="$2" '{ print $c }' | median; }

kerf_wall=$(figure kerf 2); ffmpeg_wall=$(figure ffmpeg 2)
kerf_rss=$(figure kerf 3); ffmpeg_rss=$(figure ffmpeg 3)
kerf_cpu=$(figure kerf 4); ffmpeg_cpu=$(figure ffmpeg 4)
rss60=$(awk '$1 == "kerf60" { print $3 }' "$results")

verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t ? "PASS" : "MISS") }'; }
ratio=$(awk -v a="$kerf_wall" -v b="$ffmpeg_wall" 'BEGIN { printf "%.2f", a / b }')
rss_ratio=$(awk -v a="$kerf_rss" -v b="$ffmpeg_rss" 'BEGIN { printf "%.2f", a / b }')
growth=$(awk -v a="$rss60" -v b="$kerf_rss" 'BEGIN { printf "%.3f", a / b }')

echo
echo "Ladder $ladder from a 20 s 1080p30 H.264 clip, libx264 veryfast, 2 s segments, $runs run(s), medians"
printf '  %-8s %9s %9s %12s\n' tool wall_s cpu_s peak_rss_MiB
printf '  %-8s %9s %9s %12.1f\n' kerf "$kerf_wall" "$kerf_cpu" "$(awk -v k="$kerf_rss" 'BEGIN { print k / 1024 }')"
printf '  %-8s %9s %9s %12.1f\n' ffmpeg "$ffmpeg_wall" "$ffmpeg_cpu" "$(awk -v k="$ffmpeg_rss" 'BEGIN { print k / 1024 }')"
echo
echo "  wall kerf/ffmpeg      $ratio   target <= 0.90   $(verdict "$ratio" 0.90)"
echo "  peak RSS kerf/ffmpeg  $rss_ratio   target <  1.00   $(verdict "$rss_ratio" 0.9999)"
echo "  kerf peak RSS 60 s / 20 s  $growth   target <= 1.10   $(verdict "$growth" 1.10)   ($(awk -v k="$rss60" 'BEGIN { printf "%.1f", k / 1024 }') MiB vs $(awk -v k="$kerf_rss" 'BEGIN { printf "%.1f", k / 1024 }') MiB)"
echo
echo "  frames per second per rung (kerf, frames encoded / median wall time):"
python3 - "$runs_dir/kerf-1/stdout" "$kerf_wall" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))
wall = float(sys.argv[2])
for rung in summary.get("transcoding", {}).get("rungs", []):
    print(f"    {rung['name']:>6} {rung['width']}x{rung['height']}  {rung['frames']} frames  {rung['frames'] / wall:6.1f} fps")
PY
