#!/usr/bin/env bash
# `kerf serve` against nginx (Debian's package, sendfile on) serving the same files, side by side:
# wrk on loopback requests a 1 MB segment and a playlist with 64 and 512 connections.
# Prints requests/s of each, the ratio kerf/nginx (target >= 1.0 on both) and p99 latencies.
#
# Run from the repository root: bash Benchmarks/origin.sh
# Environment: KERF (binary, default .build/release/kerf, built if missing), KERF_BENCH_SECONDS
# (seconds per wrk run, default 10), KERF_BENCH_DIR (work folder, default /tmp/kerf-bench-origin).
# Installs nginx-light and wrk with apt when missing. Both servers get the same 2 wrk threads on
# the same machine, each run 2 s after the previous one ended; the figures are loopback figures,
# not a network's.
set -euo pipefail
KERF="${KERF:-.build/release/kerf}"
SECONDS_PER_RUN="${KERF_BENCH_SECONDS:-10}"
WORK="${KERF_BENCH_DIR:-/tmp/kerf-bench-origin}"
NGINX_PORT=18080
KERF_PORT=18081
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

die() { echo "origin.sh: $*" >&2; exit 1; }
need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}" >/dev/null \
    || die "cannot install ${need[*]}"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$KERF" ] || swift build -c release --product kerf

# ------------------------------------------------------------------ files
rm -rf "$WORK" && mkdir -p "$WORK/root/bench" "$WORK/nginx/logs"
head -c 1000000 /dev/urandom > "$WORK/root/bench/segment.m4s"
{
  echo "#EXTM3U"; echo "#EXT-X-VERSION:7"; echo "#EXT-X-TARGETDURATION:6"; echo "#EXT-X-PLAYLIST-TYPE:VOD"
  echo '#EXT-X-MAP:URI="init.mp4"'
  for i in $(seq 1 100); do echo "#EXTINF:6.000,"; echo "seg_$i.m4s"; done
  echo "#EXT-X-ENDLIST"
} > "$WORK/root/bench/playlist.m3u8"

cat > "$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
error_log $WORK/nginx/logs/error.log error;
pid $WORK/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { application/vnd.apple.mpegurl m3u8; video/mp4 m4s; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location /vod/ { alias $WORK/root/; }
  }
}
EOF

# ------------------------------------------------------------------ servers
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
"$KERF" serve --root "$WORK/root" --listen "127.0.0.1:$KERF_PORT" 2>"$WORK/kerf.log" &
KERF_PID=$!
trap 'kill $NGINX_PID $KERF_PID 2>/dev/null; wait 2>/dev/null' EXIT
for port in $NGINX_PORT $KERF_PORT; do
  for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/vod/bench/playlist.m3u8" && break; sleep 0.1; done
  curl -sf -o /dev/null "http://127.0.0.1:$port/vod/bench/playlist.m3u8" || die "server on port $port does not answer"
done
cmp <(curl -s "http://127.0.0.1:$NGINX_PORT/vod/bench/segment.m4s") <(curl -s "http://127.0.0.1:$KERF_PORT/vod/bench/segment.m4s") \
  || die "the servers answer different bytes"

# ------------------------------------------------------------------ runs
# Prints "requests/s p99_ms" for one wrk run.
measure() {  # url connections
  local out
  # The previous run's connections close first (neither server pays for the other's).
  sleep 2
  out=$(wrk -t2 -c"$2" -d"${SECONDS_PER_RUN}s" --timeout 10s --latency "$1")
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}' <<<"$out")
  grep -q "Non-2xx" <<<"$out" && die "non-2xx answers from $1"
  echo "$rps $p99"
}

echo "kerf serve vs nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'): wrk -t2, ${SECONDS_PER_RUN} s per run, loopback, $(nproc) cores"
printf "%-22s %6s %14s %14s %8s %10s %10s  %s\n" "resource" "conns" "nginx req/s" "kerf req/s" "ratio" "nginx p99" "kerf p99" "target"
for resource in segment.m4s playlist.m3u8; do
  for connections in 64 512; do
    read -r n_rps n_p99 < <(measure "http://127.0.0.1:$NGINX_PORT/vod/bench/$resource" "$connections")
    read -r k_rps k_p99 < <(measure "http://127.0.0.1:$KERF_PORT/vod/bench/$resource" "$connections")
    ratio=$(awk -v k="$k_rps" -v n="$n_rps" 'BEGIN { printf "%.2f", k / n }')
    verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 1.0 ? "PASS" : "MISS") }')
    printf "%-22s %6s %14s %14s %8s %8.2fms %8.2fms  >= 1.0 %s\n" "$resource" "$connections" "$n_rps" "$k_rps" "$ratio" "$n_p99" "$k_p99" "$verdict"
  done
done
echo "kerf serve RSS after the runs: $(awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' /proc/$KERF_PID/status)"
