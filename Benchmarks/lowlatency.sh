#!/usr/bin/env bash
# Low latency of `kerf serve` (LL-HLS over an RTMP push channel, 2 s segments, 0.5 s parts):
#  1. ffmpeg publishes a 1080p30 test pattern over RTMP for KERF_LL_SECONDS (default 50), the
#     wall-clock time burnt into each frame (drawtext, DejaVu Sans from fonts-dejavu-core,
#     installed with apt when missing): a player of the channel shows its delay against a clock.
#     - part answer latency: Kerf measures, for every video part, the time from reading the
#       packet that completes it to the requests held for it being answered; /metrics gives
#       p50/p99 (target p99 < 10 ms).
#     - end to end: a client keeps a blocking request (_HLS_msn/_HLS_part) held for the next
#       part; for each part it gets, the delay from that part's last frame being published by
#       ffmpeg (ffmpeg's start, paced by -re, plus the frame's RTMP timestamp) to the client
#       holding the part (target < 1.5 s). The start is taken when ffmpeg is launched, so the
#       figure includes ffmpeg's own start-up and encoding delay.
#  2. 10,000 blocking requests held at once on loopback for the same future part (the first
#     part of the segment after next, asked for as a segment begins: some 4.5 s ahead), sent by
#     h2load from nghttp2-client over HTTP/1.1 (10,000 connections) and over HTTP/2 with TLS (100
#     connections of 100 streams): kerf serve's extra memory while they are held (target < 200
#     MB) and the spread of the answers after the part exists (p50/p99/max; target p99 < 100 ms).
#     When the part exists is the earlier of the first answer and the first time a probe polling
#     the playlist every 5 ms (without blocking) sees it listed. A run in which the origin's
#     held-requests gauge never reached 10,000 before the part existed measures the client, not
#     the held requests: it is marked so. Beside the client's spread it prints the origin's own
#     figure (kerf_live_largest_release_seconds in /metrics): from the publication to the last
#     of the 10,000 answers written to its connection, which leaves out the client's time to
#     read them (h2load runs one thread by default, on the same two cores).
#  3. The peer: right after each of kerf's held-request runs, while ffmpeg still publishes,
#     nginx (Debian's package) with the Nchan module (libnginx-mod-nchan, installed with apt
#     when missing) holds 10,000 long-poll requests (nchan_subscriber longpoll) sent by the same
#     h2load command, and one POST publishes to them all a message of the size of kerf's answer
#     (the playlist itself): the same fan-out in a C server made for it. Its spread is taken
#     from the moment the POST is sent (or its first answer, if earlier), and the script prints
#     kerf's p99 against Nchan's (target: at most 1.2x).
#
# Run from the repository root: bash Benchmarks/lowlatency.sh
# Environment: KERF (binary, default .build/release/kerf, built if missing), KERF_LL_SECONDS,
# KERF_LL_CLIENT_THREADS (h2load threads for the held requests, default 1),
# KERF_BENCH_DIR (default /tmp/kerf-bench-ll), KERF_LL_PORT (HTTP port, default 18095; HTTPS and RTMP
# on +400 and +1300, nginx's HTTP and HTTPS on +100 and +500). On a machine busy with other work
# the figures are indicative only.
set -euo pipefail
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)
die() { echo "lowlatency.sh: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }
# shellcheck source=Benchmarks/common.sh
source "$script_dir/common.sh"
require_kerf
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
if [[ ! -f $FONT ]]; then
    log "installing fonts-dejavu-core (the burnt-in clock's font)"
    as_root apt-get install -y -q fonts-dejavu-core >&2 || die "could not install fonts-dejavu-core"
fi
if ! command -v h2load >/dev/null; then
    log "installing nghttp2-client (h2load, the client of the held-requests runs)"
    as_root apt-get install -y -q nghttp2-client >&2 || die "could not install nghttp2-client"
fi
NCHAN_MODULE=/usr/lib/nginx/modules/ngx_nchan_module.so
if [[ ! -f $NCHAN_MODULE ]] || ! { command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]]; }; then
    log "installing nginx-light and libnginx-mod-nchan (the peer of the held-requests runs)"
    as_root apt-get install -y -q nginx-light libnginx-mod-nchan >&2 || die "could not install nginx-light and libnginx-mod-nchan"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
SECONDS_TOTAL="${KERF_LL_SECONDS:-50}"
WORK="${KERF_BENCH_DIR:-/tmp/kerf-bench-ll}"
PORT="${KERF_LL_PORT:-18095}"
TLS_PORT=$((PORT + 400))
RTMP=$((PORT + 1300))
NCHAN_PORT=$((PORT + 100))
NCHAN_TLS_PORT=$((PORT + 500))
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
rm -rf "$WORK" && mkdir -p "$WORK/root" "$WORK/nginx/logs"
self_signed_certificate "$WORK/key.pem" "$WORK/cert.pem"
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; kill $(jobs -p) 2>/dev/null || true' EXIT

# The peer: nginx with Nchan, long-poll subscribers on /sub and the publisher on /pub (a channel
# per run, named by its id), over HTTP/1.1 and over HTTP/2 with TLS and the same certificate.
{ echo "load_module $NCHAN_MODULE;"; nginx_main_context "$WORK/nginx"; cat <<EOF
http {
  access_log off;
  nchan_shared_memory_size 256M;
  ssl_certificate $WORK/cert.pem;
  ssl_certificate_key $WORK/key.pem;
  ssl_protocols TLSv1.3;
  server {
    listen 127.0.0.1:$NCHAN_PORT;
    listen 127.0.0.1:$NCHAN_TLS_PORT ssl http2;
    location = /sub { nchan_subscriber longpoll; nchan_channel_id \$arg_id; }
    location = /pub { nchan_publisher; nchan_channel_id \$arg_id; }
    location = /status { nchan_stub_status; }
  }
}
EOF
} > "$WORK/nginx/nginx.conf"
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!

cat > "$WORK/kerf.yaml" <<EOF
root: $WORK/root
listen: 127.0.0.1:$PORT
rtmp-listen: 127.0.0.1:$RTMP
max-connections: 20000
tls:
  certificate: $WORK/cert.pem
  key: $WORK/key.pem
  listen: 127.0.0.1:$TLS_PORT
channels:
  news:
    input: rtmp
    key: benchmark-key
    segment-duration: 2
    part-duration: 0.5
    window: 30
EOF
"$KERF" serve --config "$WORK/kerf.yaml" 2>"$WORK/kerf.log" &
SERVER=$!
sleep 1
STARTED=$(date +%s.%N)
# The clock: the wall-clock time each frame is published at (ffmpeg's start plus the frame's
# timestamp, as -re paces it), UTC to the millisecond.
CLOCK="drawtext=fontfile=$FONT:fontsize=72:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=12:x=40:y=40"
CLOCK+=":text='%{pts\\:gmtime\\:$STARTED\\:%H\\\\\\:%M\\\\\\:%S}.%{eif\\:mod(1000*(t+$STARTED)\\,1000)\\:d\\:3} UTC'"
ffmpeg -v error -re -f lavfi -i testsrc2=size=1920x1080:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 \
  -vf "$CLOCK" -t "$SECONDS_TOTAL" -c:v libx264 -preset ultrafast -tune zerolatency -g 60 -keyint_min 60 -sc_threshold 0 \
  -c:a aac -f flv "rtmp://127.0.0.1:$RTMP/live/news?key=benchmark-key" &

python3 - "$PORT" "$STARTED" "$SECONDS_TOTAL" "$SERVER" "$TLS_PORT" "$WORK" "$NCHAN_PORT" "$NCHAN_TLS_PORT" "$NGINX_PID" <<'PY'
import asyncio, calendar, os, re, sys, time
port, started, total, server = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
tls_port, work, nchan_port, nchan_tls_port, nginx = int(sys.argv[5]), sys.argv[6], int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9])
PATH = "/live/news/video_1080p/playlist.m3u8"

def rss(pid=None):
    """A process's resident memory in MiB (kerf serve's by default)."""
    for line in open(f"/proc/{pid or server}/status"):
        if line.startswith("VmRSS"): return int(line.split()[1]) / 1024

def nginx_rss():
    """nginx's workers' resident memory, summed (MiB)."""
    workers = open(f"/proc/{nginx}/task/{nginx}/children").read().split()
    return sum(rss(int(worker)) for worker in workers)

async def get(target, timeout=15, to=None):
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", to or port), timeout)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: kerf\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), timeout)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body.decode(errors="replace")

def pdt_seconds(line):
    """An #EXT-X-PROGRAM-DATE-TIME line's time, s since 1970."""
    pdt = line.split(":", 1)[1]
    return calendar.timegm(time.strptime(pdt[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + pdt[19:-1])

def state(text):
    """(msn of the segment being written, parts of it listed, epoch start s, end of the newest part, wall clock s)."""
    lines = text.split("\n")
    sequence = int(next(l for l in lines if l.startswith("#EXT-X-MEDIA-SEQUENCE:")).split(":")[1])
    epoch = int(re.findall(r'init_(\d+)\.mp4', text)[-1]) / 1000
    last = max(i for i, l in enumerate(lines) if l.startswith("seg_"))
    segments = sum(1 for l in lines if l.startswith("seg_"))
    trailing = [l for l in lines[last:] if l.startswith("#EXT-X-PART:")]
    seg_start = pdt_seconds([l for l in lines[:last] if l.startswith("#EXT-X-PROGRAM-DATE-TIME:")][-1])
    seg_duration = float(lines[last - 1][8:].rstrip(","))
    part_end = seg_start + seg_duration + sum(float(re.search(r"DURATION=([\d.]+)", l).group(1)) for l in trailing)
    return sequence + segments, len(trailing), epoch, part_end

async def main():
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            status, text = await get(PATH)
            if status == 200 and text.count("seg_") >= 2: break
        except Exception: pass
        await asyncio.sleep(0.2)
    msn, parts, epoch, _ = state(text)
    # The wall-clock time of the epoch's first frame: its first segment's program date (channel
    # time need not be Unix time).
    epoch_wall = pdt_seconds(next(l for l in text.split("\n") if l.startswith("#EXT-X-PROGRAM-DATE-TIME:")))
    # 1. one client holding the next part, over and over.
    e2e = []
    end = started + total - 24  # the held-request runs need the feed for some 24 s more
    while time.time() < end:
        status, text = await get(f"{PATH}?_HLS_msn={msn}&_HLS_part={parts}")
        now = time.time()
        if status != 200: continue
        msn, parts, _, part_end = state(text)
        # RTMP timestamp of the part's end = its time - the epoch start (first keyframe at 0).
        e2e.append(now - (started + (part_end - epoch_wall)))
    e2e.sort()
    q = lambda v, f: v[min(len(v) - 1, int(len(v) * f))]
    print(f"end to end (ffmpeg publishing a frame -> client holding its part), {len(e2e)} parts: "
          f"p50 {q(e2e, .5)*1000:.0f} ms, p99 {q(e2e, .99)*1000:.0f} ms (target < 1500 ms)")
    # 2. 10,000 held requests for the first part of the segment after next (the farthest a
    #    client may block for), asked for as a segment begins: 4.5 s ahead.
    #    Each is followed by the peer's run of the same fan-out, under the same load.
    for label, base, peer, options in [
        ("HTTP/2", f"https://127.0.0.1:{tls_port}", f"https://127.0.0.1:{nchan_tls_port}", ["-c", "100", "-m", "100"]),
        ("HTTP/1.1", f"http://127.0.0.1:{port}", f"http://127.0.0.1:{nchan_port}", ["--h1", "-c", "10000", "-m", "1"]),
    ]:
        kerf, answer = await held_requests(label, base, options)
        nchan = await peer_held_requests(label, peer, options, answer)
        if kerf and nchan:
            ratio = kerf[1] / nchan[1]
            print(f"10,000 held requests over {label}, kerf serve against nginx with Nchan: p99 {kerf[1]*1000:.0f} against "
                  f"{nchan[1]*1000:.0f} ms ({ratio:.2f}x, target <= 1.2x) {'PASS' if ratio <= 1.2 else 'MISS'}")

async def holding_count():
    _, metrics = await get("/metrics")
    return int(float(re.search(r'^kerf_live_held_requests\{channel="news"\} (\S+)', metrics, re.M).group(1)))

async def largest_release():
    """The origin's own figure for its largest recent fan-out: requests, and seconds from the
    publication to the last answer written to its connection."""
    _, metrics = await get("/metrics")
    found = [re.search(r'^kerf_live_largest_release_%s\{channel="news"\} (\S+)' % name, metrics, re.M) for name in ("requests", "seconds")]
    if not all(found): return None  # a build without these gauges
    return int(float(found[0].group(1))), float(found[1].group(1))

async def part_listed(msn):
    """When a plain reload first lists part 0 of segment msn (polled every 5 ms)."""
    while True:
        try:
            status, text = await get(PATH)
            if status == 200:
                listed_msn, parts, _, _ = state(text)
                if listed_msn > msn or (listed_msn == msn and parts >= 1): return time.time()
        except Exception: pass
        await asyncio.sleep(0.005)

async def hold(base, options, target, measure, name):
    """h2load: 10,000 requests held; returns the arrival times of the 200 answers (the end of
    each from its log)."""
    log = f"{work}/h2load-{name}-{options[0].strip('-')}.log"
    if os.path.exists(log): os.remove(log)
    h2load = await asyncio.create_subprocess_exec("h2load", "-n", "10000", "-t", os.environ.get("KERF_LL_CLIENT_THREADS", "1"), *options, "--log-file", log,
                                                  base + target, stdout=asyncio.subprocess.DEVNULL)
    await measure()
    await h2load.wait()
    times = []
    for line in open(log):
        start, status, duration = line.split()[:3]
        if status == "200": times.append((int(start) + int(duration)) / 1e6)
    return sorted(times)

async def held_requests(label, base, options):
    status, text = await get(PATH)
    first, _, _, _ = state(text)
    # Wait for the next segment to begin.
    while True:
        await asyncio.sleep(0.02)
        status, text = await get(PATH)
        msn, _, _, _ = state(text)
        if msn > first: break
    target = f"{PATH}?_HLS_msn={msn + 2}&_HLS_part=0"
    before = rss()
    release_before = await largest_release()
    seen = {"probe": asyncio.create_task(part_listed(msn + 2))}
    async def measure():
        # Memory is read once the origin holds them all (its held-requests gauge), or the part
        # exists.
        for _ in range(200):
            seen["holding"] = await holding_count()
            seen["rss"] = rss()
            if seen["holding"] >= 10000 or seen["probe"].done(): break
            await asyncio.sleep(0.05)
        seen["held at"] = time.time()
    times = await hold(base, options, target, measure, "kerf")
    listed = await seen["probe"]
    release = await largest_release()
    # The largest of the recent releases: this run's when it changed during the run.
    server = (f"kerf serve wrote the last of the {release[0]} answers {release[1]*1000:.0f} ms after the publication "
              "(its largest release, from /metrics)") if release and release[1] >= 0 and release != release_before \
        else "kerf serve's own figure not available (no largest-release gauges, or not this run's)"
    exists = min(listed, times[0]) if times else listed
    spread = [t - exists for t in times]
    q = lambda v, f: v[min(len(v) - 1, int(len(v) * f))]
    all_held = seen["holding"] >= 10000 and seen["held at"] < exists
    verdict = ("PASS" if spread and q(spread, .99) < 0.1 else "MISS") if all_held else \
        "NOT MEASURED (the part existed before all 10,000 were held)"
    print(f"10,000 held requests over {label}: {seen['holding']} held at once, {len(times)} answered 200; kerf serve RSS {before:.1f} MiB before, "
          f"{seen['rss']:.1f} MiB while held (+{seen['rss'] - before:.1f} MiB, target < 200 MB); answers after the part exists: "
          f"p50 {q(spread, .5)*1000:.0f} ms, p99 {q(spread, .99)*1000:.0f} ms, max {spread[-1]*1000:.0f} ms (target p99 < 100 ms) {verdict}; {server}")
    # The peer publishes the playlist as its message: the same bytes to every client.
    _, answer = await get(PATH)
    return ((q(spread, .5), q(spread, .99), spread[-1]) if all_held and spread else None), answer.encode()

async def peer_held_requests(label, base, options, body):
    """The same fan-out from nginx with Nchan: 10,000 long-poll requests held on a new channel,
    then one POST of `body` to it. Returns p50/p99/max of the answers after the publication."""
    channel = f"run{time.time_ns()}"
    before = nginx_rss()
    seen = {"holding": 0}
    async def measure():
        for _ in range(200):
            _, status = await get("/status", to=nchan_port)
            seen["holding"] = int(re.search(r"^subscribers: (\d+)", status, re.M).group(1))
            if seen["holding"] >= 10000: break
            await asyncio.sleep(0.05)
        seen["rss"] = nginx_rss()
        # The connections' set-up settles first, as kerf's part's lead of seconds lets it.
        await asyncio.sleep(1)
        reader, writer = await asyncio.open_connection("127.0.0.1", nchan_port)
        head = (f"POST /pub?id={channel} HTTP/1.1\r\nHost: nginx\r\nContent-Type: application/vnd.apple.mpegurl\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
        seen["published"] = time.time()
        writer.write(head.encode() + body)
        await writer.drain()
        await reader.read()
        writer.close()
    times = await hold(base, options, f"/sub?id={channel}", measure, "nchan")
    exists = min(seen["published"], times[0]) if times else seen["published"]
    spread = [t - exists for t in times]
    q = lambda v, f: v[min(len(v) - 1, int(len(v) * f))]
    all_held = seen["holding"] >= 10000
    figures = (f"p50 {q(spread, .5)*1000:.0f} ms, p99 {q(spread, .99)*1000:.0f} ms, max {spread[-1]*1000:.0f} ms" if spread else "none") + \
        ("" if all_held else " NOT MEASURED (fewer than 10,000 held)")
    print(f"10,000 held requests over {label}, nginx with Nchan (long-poll): {seen['holding']} held at once, {len(times)} answered 200; "
          f"nginx RSS {before:.1f} MiB before, {seen['rss']:.1f} MiB while held (+{seen['rss'] - before:.1f} MiB); "
          f"answers after the publication ({len(body)} bytes each): {figures}")
    return (q(spread, .5), q(spread, .99), spread[-1]) if all_held and spread else None

asyncio.run(main())
PY
METRICS=$(curl -s "http://127.0.0.1:$PORT/metrics")
p50=$(awk '/^kerf_live_part_answer_latency_p50_seconds/ {printf "%.2f", $2*1000}' <<<"$METRICS")
p99=$(awk '/^kerf_live_part_answer_latency_p99_seconds/ {printf "%.2f", $2*1000}' <<<"$METRICS")
verdict=$(awk -v v="$p99" 'BEGIN { print (v < 10 ? "PASS" : "MISS") }')
echo "part answer latency (packet completing a part read -> held requests answered): p50 ${p50} ms, p99 ${p99} ms (target p99 < 10 ms) $verdict"
