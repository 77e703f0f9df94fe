#!/usr/bin/env bash
# `kerf serve` against nginx (Debian's package, sendfile on) serving the same files, side by side:
# wrk on loopback requests a 1 MB segment and a playlist with 64, 512 and 4,096 connections, over
# HTTP and over HTTPS (both servers with the same certificate, TLS 1.3, nginx with
# ssl_session_cache; wrk speaks HTTP/1.1 over TLS). Each run is repeated KERF_BENCH_REPEATS times
# (default 3), the two servers alternating; the table gives the median of each figure:
# requests/s, the ratio kerf/nginx (target >= 1.0), p50/p99/p99.9 latencies (target: kerf's
# p99 <= 1.2x nginx's), each server's CPU time per request (user + system, from /proc: how
# much of the two cores each answer costs, steadier than the tails) and its peak resident
# memory during the run (VmHWM, reset before each run; nginx's workers summed).
#
# Run from the repository root: bash Benchmarks/origin.sh
# Environment: KERF (binary, default .build/release/kerf, built if missing), KERF_BENCH_SECONDS
# (seconds per wrk run, default 10), KERF_BENCH_REPEATS (default 3), KERF_BENCH_CONNECTIONS
# (default "64 512 4096"), KERF_BENCH_SCHEMES (default "http https"), KERF_BENCH_RESOURCES
# (default "segment.m4s playlist.m3u8"; also large.m4s, a 12 MB file too large for kerf's file
# cache), KERF_BENCH_DIR (work folder, default /tmp/kerf-bench-origin), KERF_BENCH_STORM (connections
# of the connection storm that follows the table, default 4096, 0 to skip: all opened at once,
# one playlist request each, closed; each server's CPU time per connection, from /proc).
# Installs nginx-light and wrk with apt when missing.
# Both servers get the same 2 wrk threads on the same machine, each run 2 s after the previous
# one ended; the figures are loopback figures, not a network's, and on a machine busy with other
# work they are indicative only.
set -euo pipefail
KERF="${KERF:-.build/release/kerf}"
SECONDS_PER_RUN="${KERF_BENCH_SECONDS:-10}"
REPEATS="${KERF_BENCH_REPEATS:-3}"
CONNECTIONS="${KERF_BENCH_CONNECTIONS:-64 512 4096}"
SCHEMES="${KERF_BENCH_SCHEMES:-http https}"
RESOURCES="${KERF_BENCH_RESOURCES:-segment.m4s playlist.m3u8}"
WORK="${KERF_BENCH_DIR:-/tmp/kerf-bench-origin}"
STORM="${KERF_BENCH_STORM:-4096}"
NGINX_PORT=18080
KERF_PORT=18081
NGINX_TLS_PORT=18443
KERF_TLS_PORT=18444
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

die() { echo "origin.sh: $*" >&2; exit 1; }
# shellcheck source=Benchmarks/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}" >/dev/null \
    || die "cannot install ${need[*]}"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$KERF" ] || swift build -c release --product kerf
# 4,096 connections to each server, from one process: descriptors for both ends.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# ------------------------------------------------------------------ files
rm -rf "$WORK" && mkdir -p "$WORK/root/bench" "$WORK/nginx/logs" "$WORK/tls"
head -c 1000000 /dev/urandom > "$WORK/root/bench/segment.m4s"
# Over the file cache's largest entry (8 MiB): kerf sends it from the file on disk each time.
head -c 12000000 /dev/urandom > "$WORK/root/bench/large.m4s"
{
  echo "#EXTM3U"; echo "#EXT-X-VERSION:7"; echo "#EXT-X-TARGETDURATION:6"; echo "#EXT-X-PLAYLIST-TYPE:VOD"
  echo '#EXT-X-MAP:URI="init.mp4"'
  for i in $(seq 1 100); do echo "#EXTINF:6.000,"; echo "seg_$i.m4s"; done
  echo "#EXT-X-ENDLIST"
} > "$WORK/root/bench/playlist.m3u8"
# One self-signed P-256 certificate for both servers.
self_signed_certificate "$WORK/tls/key.pem" "$WORK/tls/cert.pem"

{ nginx_main_context "$WORK/nginx"; cat <<EOF
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { application/vnd.apple.mpegurl m3u8; video/mp4 m4s; }
  ssl_certificate $WORK/tls/cert.pem;
  ssl_certificate_key $WORK/tls/key.pem;
  ssl_protocols TLSv1.3;
  ssl_session_cache shared:SSL:10m;
  ssl_session_timeout 10m;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    listen 127.0.0.1:$NGINX_TLS_PORT ssl http2;
    location /vod/ { alias $WORK/root/; }
  }
}
EOF
} > "$WORK/nginx/nginx.conf"
cat > "$WORK/kerf.yaml" <<EOF
root: $WORK/root
listen: 127.0.0.1:$KERF_PORT
max-connections: 16384
tls:
  certificate: $WORK/tls/cert.pem
  key: $WORK/tls/key.pem
  listen: 127.0.0.1:$KERF_TLS_PORT
EOF
# wrk's summary: requests/s and the latency percentiles in ms, errors counted.
cat > "$WORK/summary.lua" <<'EOF'
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("SUMMARY %.1f %.3f %.3f %.3f %d %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, summary.errors.status, errors,
    summary.requests))
end
EOF

# ------------------------------------------------------------------ servers
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
"$KERF" serve --config "$WORK/kerf.yaml" 2>"$WORK/kerf.log" &
KERF_PID=$!
trap 'kill $NGINX_PID $KERF_PID 2>/dev/null; wait 2>/dev/null' EXIT
for url in http://127.0.0.1:$NGINX_PORT https://127.0.0.1:$NGINX_TLS_PORT http://127.0.0.1:$KERF_PORT https://127.0.0.1:$KERF_TLS_PORT; do
  for _ in $(seq 50); do curl -sfk -o /dev/null "$url/vod/bench/playlist.m3u8" && break; sleep 0.1; done
  curl -sfk -o /dev/null "$url/vod/bench/playlist.m3u8" || die "server at $url does not answer"
done
cmp <(curl -s "http://127.0.0.1:$NGINX_PORT/vod/bench/segment.m4s") <(curl -sk "https://127.0.0.1:$KERF_TLS_PORT/vod/bench/segment.m4s") \
  || die "the servers answer different bytes"

# ------------------------------------------------------------------ runs
# CPU time (user + system, in clock ticks) of the processes given so far.
TICKS_PER_SECOND=$(getconf CLK_TCK)
cpu_ticks() { local total=0 pid; for pid in "$@"; do total=$(( total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat") )); done; echo "$total"; }
# Peak resident memory (MiB) of the processes given since `reset_peak` (Linux's VmHWM).
reset_peak() { local pid; for pid in "$@"; do echo 5 > "/proc/$pid/clear_refs" 2>/dev/null || true; done; }
peak_mib() { local pid; for pid in "$@"; do awk '/VmHWM/ { print $2 }' "/proc/$pid/status"; done | awk '{ t += $1 } END { printf "%.0f", t / 1024 }'; }
# Prints "requests/s p50_ms p99_ms p99.9_ms cpu_us_per_request peak_rss_mib" for one wrk run.
measure() {  # url connections server_pids...
  local out url=$1 connections=$2 before after
  shift 2
  # The previous run's connections close first (neither server pays for the other's).
  sleep 2
  reset_peak "$@"
  before=$(cpu_ticks "$@")
  out=$(wrk -t2 -c"$connections" -d"${SECONDS_PER_RUN}s" --timeout 10s -s "$WORK/summary.lua" "$url")
  after=$(cpu_ticks "$@")
  read -r _ rps p50 p99 p999 status errors requests < <(grep '^SUMMARY' <<<"$out")
  [ "$status" = 0 ] || die "$status non-2xx answers from $url ($connections connections)"
  [ "$errors" -le $(( connections / 100 )) ] || echo "origin.sh: $errors socket errors from $url ($connections connections)" >&2
  echo "$rps $p50 $p99 $p999 $(awk -v t=$(( after - before )) -v hz="$TICKS_PER_SECOND" -v n="$requests" 'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }') $(peak_mib "$@")"
}
# Sets nginx_base and kerf_base, the two servers' URLs for a scheme (http or https).
bases() {
  if [ "$1" = https ]; then nginx_base="https://127.0.0.1:$NGINX_TLS_PORT"; kerf_base="https://127.0.0.1:$KERF_TLS_PORT"
  else nginx_base="http://127.0.0.1:$NGINX_PORT"; kerf_base="http://127.0.0.1:$KERF_PORT"; fi
}
# Prints "cpu_us_per_connection seconds" for one connection storm (connection_storm.py) against
# a URL, the server's PIDs given, after the previous run's connections have closed.
storm() {  # url server_pids...
  sleep 2
  python3 "$(dirname "${BASH_SOURCE[0]}")/connection_storm.py" "$1" "$STORM" "${@:2}" || die "the connection storm against $1 failed"
}
# The median of the arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

echo "kerf serve vs nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'): wrk -t2, ${SECONDS_PER_RUN} s per run, medians of $REPEATS runs, loopback, $(nproc) cores"
printf "%-14s %-5s %5s %11s %11s %6s  %-22s %-22s %-11s %-9s %s\n" "resource" "" "conns" "nginx req/s" "kerf req/s" "ratio" \
  "nginx p50/p99/p99.9 ms" "kerf p50/p99/p99.9 ms" "CPU us/req" "peak MiB" "targets (ratio >= 1, p99 <= 1.2x)"
# nginx's work is done by its worker processes.
NGINX_WORKERS=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')
[ -n "$NGINX_WORKERS" ] || die "nginx has no worker processes"
for scheme in $SCHEMES; do
  bases "$scheme"
  for resource in $RESOURCES; do
    for connections in $CONNECTIONS; do
      n_rps=(); n_p50=(); n_p99=(); n_p999=(); n_cpu=(); n_mem=(); k_rps=(); k_p50=(); k_p99=(); k_p999=(); k_cpu=(); k_mem=()
      for _ in $(seq "$REPEATS"); do
        # shellcheck disable=SC2086
        read -r a b c d e f < <(measure "$nginx_base/vod/bench/$resource" "$connections" $NGINX_WORKERS)
        n_rps+=("$a"); n_p50+=("$b"); n_p99+=("$c"); n_p999+=("$d"); n_cpu+=("$e"); n_mem+=("$f")
        read -r a b c d e f < <(measure "$kerf_base/vod/bench/$resource" "$connections" "$KERF_PID")
        k_rps+=("$a"); k_p50+=("$b"); k_p99+=("$c"); k_p999+=("$d"); k_cpu+=("$e"); k_mem+=("$f")
      done
      nr=$(median "${n_rps[@]}"); kr=$(median "${k_rps[@]}")
      np99=$(median "${n_p99[@]}"); kp99=$(median "${k_p99[@]}")
      ratio=$(awk -v k="$kr" -v n="$nr" 'BEGIN { printf "%.2f", k / n }')
      verdict=$(awk -v r="$ratio" -v k="$kp99" -v n="$np99" 'BEGIN { print (r >= 1.0 ? "PASS" : "MISS") " " (k <= 1.2 * n ? "PASS" : "MISS") }')
      printf "%-14s %-5s %5s %11.0f %11.0f %6s  %-22s %-22s %-11s %-9s %s\n" "$resource" "$scheme" "$connections" "$nr" "$kr" "$ratio" \
        "$(median "${n_p50[@]}")/$np99/$(median "${n_p999[@]}")" "$(median "${k_p50[@]}")/$kp99/$(median "${k_p999[@]}")" \
        "$(median "${n_cpu[@]}")/$(median "${k_cpu[@]}")" "$(median "${n_mem[@]}")/$(median "${k_mem[@]}")" "$verdict"
    done
  done
done
# A connection storm per scheme: STORM connections opened at once, each answered one playlist
# request and closed, the two servers alternating; each server's CPU time per connection.
if [ "$STORM" -gt 0 ]; then
  for scheme in $SCHEMES; do
    bases "$scheme"
    n_cpu=(); k_cpu=(); n_time=(); k_time=()
    for _ in $(seq "$REPEATS"); do
      # A failed storm ends the script (set -e: the assignment fails with it).
      # shellcheck disable=SC2086
      out=$(storm "$nginx_base/vod/bench/playlist.m3u8" $NGINX_WORKERS)
      read -r a b <<<"$out"
      n_cpu+=("$a"); n_time+=("$b")
      out=$(storm "$kerf_base/vod/bench/playlist.m3u8" "$KERF_PID")
      read -r a b <<<"$out"
      k_cpu+=("$a"); k_time+=("$b")
    done
    nc=$(median "${n_cpu[@]}"); kc=$(median "${k_cpu[@]}")
    echo "connection storm over $scheme ($STORM connections opened, one playlist answer each, closed; medians): server CPU per connection nginx $nc us, kerf $kc us ($(awk -v k="$kc" -v n="$nc" 'BEGIN { printf "%.2f", k / n }')x); first connect to last answer nginx $(median "${n_time[@]}") s, kerf $(median "${k_time[@]}") s"
  done
fi
rss() { awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' /proc/$KERF_PID/status; }
right_after=$(rss)
# kerf serve hands the heap back once the connections have fallen (it looks every 2 s).
sleep 6
echo "kerf serve RSS after the runs: $(rss) (target <= 100 MiB; $right_after as the last run ended)"
