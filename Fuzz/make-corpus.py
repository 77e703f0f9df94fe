#!/usr/bin/env python3
"""Makes the seed corpora of the fuzz targets (Fuzz/Corpus/<target>/) from the fixtures.

    python3 Fuzz/make-corpus.py <kerf binary>

Valid samples, kept small: an RTMP publish by ffmpeg captured between ffmpeg and `kerf serve`,
AMF0 commands, FLV streams (ffmpeg's, and an Enhanced RTMP HEVC one made from the HEVC fixture's
configuration record), request heads, Range headers, signed URLs, playlists and MPDs Kerf
writes, MP4 init and media segments of a small clear and a small cenc package, YAML
configurations. The fuzzers add what they find to copies under .build-fuzz, never here.
"""
import hashlib, hmac, os, shutil, socket, struct, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "Fuzz", "Corpus")
KERF = os.path.abspath(sys.argv[1])
FIXTURE = os.path.join(ROOT, "Fixtures", "h264_aac_10s.mp4")
# FuzzTarget.signingSecret and FuzzTarget.contentKey.
SECRET = b"kerf-fuzz-secret"
KID, KEY = "00112233445566778899aabbccddeeff", "0123456789abcdef0123456789abcdef"


def put(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- AMF0 ---------------------------------------------------------------------------------

def amf_string(s):
    b = s.encode()
    return b"\x02" + struct.pack(">H", len(b)) + b


def amf_number(n):
    return b"\x00" + struct.pack(">d", n)


def amf_properties(items):
    out = b""
    for k, v in items:
        out += struct.pack(">H", len(k.encode())) + k.encode() + v
    return out + b"\x00\x00\x09"


def amf_object(items):
    return b"\x03" + amf_properties(items)


def amf_ecma(items):
    return b"\x08" + struct.pack(">I", len(items)) + amf_properties(items)


def make_amf0():
    put("amf0", "connect", amf_string("connect") + amf_number(1) + amf_object([
        ("app", amf_string("live")), ("type", amf_string("nonprivate")), ("flashVer", amf_string("FMLE/3.0")),
        ("tcUrl", amf_string("rtmp://127.0.0.1:1935/live?key=secret"))]))
    put("amf0", "publish", amf_string("publish") + amf_number(5) + b"\x05" + amf_string("news?key=key-of-news") + amf_string("live"))
    put("amf0", "create-stream", amf_string("createStream") + amf_number(4) + b"\x05")
    put("amf0", "metadata", amf_string("@setDataFrame") + amf_string("onMetaData") + amf_ecma([
        ("duration", amf_number(10)), ("width", amf_number(640)), ("height", amf_number(360)), ("framerate", amf_number(30)),
        ("videocodecid", amf_number(7)), ("audiocodecid", amf_number(10)), ("stereo", b"\x01\x01"),
        ("encoder", amf_string("Lavf59.27.100"))]))
    put("amf0", "arrays-and-dates", b"\x0a" + struct.pack(">I", 3) + amf_number(1) + b"\x06" + b"\x0b" + struct.pack(">dh", 1.7e12, 0)
        + b"\x0c" + struct.pack(">I", 5) + b"hello")


# --- FLV ----------------------------------------------------------------------------------

def flv_tag(kind, timestamp, payload):
    size = len(payload)
    head = bytes([kind]) + size.to_bytes(3, "big") + (timestamp & 0xFFFFFF).to_bytes(3, "big") + bytes([timestamp >> 24]) + b"\0\0\0"
    return head + payload + struct.pack(">I", size + 11)


def box(data, kind):
    at = data.find(kind)
    size = struct.unpack(">I", data[at - 4:at])[0]
    return data[at + 4:at - 4 + size]


def make_flv():
    with tempfile.TemporaryDirectory() as tmp:
        legacy = os.path.join(tmp, "legacy.flv")
        run("ffmpeg", "-v", "error", "-i", FIXTURE, "-t", "0.1", "-c", "copy", "-f", "flv", legacy)
        put("flv", "h264-aac", open(legacy, "rb").read()[:12000])
    hevc = open(os.path.join(ROOT, "Fixtures", "hevc_aac.mp4"), "rb").read()
    hvcc = box(hevc, b"hvcC")
    esds = box(hevc, b"esds")
    # DecoderSpecificInfo (tag 5, length in ffmpeg's 4-byte form): the AudioSpecificConfig.
    at = esds.find(b"\x05\x80\x80\x80")
    asc = esds[at + 5:at + 5 + esds[at + 4]]
    stream = b"FLV\x01\x05\0\0\0\x09\0\0\0\0"
    stream += flv_tag(18, 0, amf_string("onMetaData") + amf_ecma([("framerate", amf_number(30))]))
    stream += flv_tag(9, 0, bytes([0x90]) + b"hvc1" + hvcc)
    stream += flv_tag(8, 0, b"\xaf\x00" + asc)
    stream += flv_tag(9, 0, bytes([0x91]) + b"hvc1" + b"\0\0\x21" + b"\0\0\0\x05\x26\x01\xaf\x00\x11")
    stream += flv_tag(8, 0, b"\xaf\x01" + b"\x21\x10\x05\x00")
    stream += flv_tag(9, 33, bytes([0xa3]) + b"hvc1" + b"\0\0\0\x05\x02\x01\xd0\x00\x11")
    stream += flv_tag(9, 66, bytes([0x80 | 0x10 | 2]) + b"hvc1")
    put("flv", "enhanced-hevc-aac", stream)


# --- RTMP: ffmpeg publishing through a recording proxy to kerf serve ----------------------

def make_rtmp():
    with tempfile.TemporaryDirectory() as tmp:
        http, rtmp, proxy_port = free_port(), free_port(), free_port()
        config = os.path.join(tmp, "kerf.yaml")
        with open(config, "w") as f:
            f.write(f"root: {tmp}\nlisten: 127.0.0.1:{http}\nrtmp-listen: 127.0.0.1:{rtmp}\n"
                    "channels:\n  news:\n    input: rtmp\n    key: key-of-news\n    segment-duration: 2\n")
        server = subprocess.Popen([KERF, "serve", "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        captured = bytearray()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", proxy_port))
        listener.listen(1)

        def relay():
            client, _ = listener.accept()
            for _ in range(100):
                try:
                    upstream = socket.create_connection(("127.0.0.1", rtmp))
                    break
                except OSError:
                    time.sleep(0.1)

            def back():
                while data := upstream.recv(65536):
                    client.sendall(data)
            threading.Thread(target=back, daemon=True).start()
            while data := client.recv(65536):
                captured.extend(data)
                upstream.sendall(data)
            upstream.shutdown(socket.SHUT_WR)

        thread = threading.Thread(target=relay, daemon=True)
        thread.start()
        try:
            run("ffmpeg", "-v", "error", "-i", FIXTURE, "-t", "0.5", "-c", "copy", "-f", "flv",
                f"rtmp://127.0.0.1:{proxy_port}/live/news?key=key-of-news")
            thread.join(10)
        finally:
            server.terminate()
            server.wait()
        data = bytes(captured)
        assert data[0] == 3 and len(data) > 3073 + 4096, "no RTMP publish captured"
        put("rtmp", "ffmpeg-publish", data[:16384])
        chunks = data[1 + 2 * 1536:]
        # The first byte sets the read size: 1 + 37 × byte (9436 and 38 bytes).
        put("rtmp", "ffmpeg-chunks", b"\xff" + chunks[:8192])
        put("rtmp", "ffmpeg-chunks-small-reads", b"\x01" + chunks[:4096])


# --- HTTP, Range, signed URLs -------------------------------------------------------------

def make_origin():
    heads = {
        "get-vod": "GET /vod/demo/master.m3u8 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
        "head-gzip": "HEAD /vod/demo/video_360p/playlist.m3u8 HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n",
        "range": "GET /vod/demo/video_360p/seg_1.m4s HTTP/1.1\r\nHost: a\r\nRange: bytes=0-99\r\nIf-Range: \"abc\"\r\n\r\n",
        "live": "GET /live/news/manifest.mpd?_HLS_msn=4&_HLS_part=1 HTTP/1.1\r\nHost: a\r\n\r\n",
        "percent": "GET /vod/demo/%76ideo_360p/seg_%31.m4s#frag HTTP/1.1\r\nHost: a\r\n\r\n",
        "post-body": "POST /vod/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
        "http10-close": "GET /vod/a/b HTTP/1.0\r\nConnection: close\r\n\r\n",
        "pipelined": "GET /vod/a/1 HTTP/1.1\r\nHost: a\r\n\r\nGET /vod/a/2 HTTP/1.1\r\nHost: a\r\n\r\n",
        "token": "GET /token/1800000000/0123456789abcdef0123456789abcdef/vod/demo/master.m3u8 HTTP/1.1\r\nHost: a\r\n\r\n",
    }
    for name, text in heads.items():
        put("http-head", name, text)
    for name, text in {"first-100": "bytes=0-99", "open": "bytes=500-", "suffix": "bytes=-500", "upper": "BYTES= 7-7",
                       "two": "bytes=0-1,4-5", "huge": "bytes=0-999999999999999999", "bad": "items=1-2"}.items():
        put("range", name, text)
    def sign(path, expires):
        scope = "/".join(path.split("/")[:3]) + "/"
        sig = hmac.new(SECRET, f"{expires}{scope}".encode(), hashlib.sha256).hexdigest()[:32]
        return f"/token/{expires}/{sig}{path}"
    put("signed-url", "vod", sign("/vod/demo/master.m3u8", 1_800_000_000))
    put("signed-url", "live", sign("/live/news/video_360p/seg_12.m4s", 1_800_000_000))
    put("signed-url", "expired", sign("/vod/demo/manifest.mpd", 1_600_000_000))
    put("signed-url", "path", "/vod/demo/video_720p/playlist.m3u8")


# --- Manifests and MP4 --------------------------------------------------------------------

def make_packages():
    with tempfile.TemporaryDirectory() as tmp:
        small = os.path.join(tmp, "small.mp4")
        run("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x36:rate=10", "-f", "lavfi", "-i",
            "sine=frequency=440:sample_rate=8000", "-t", "4", "-c:v", "libx264", "-g", "10", "-b:v", "20k",
            "-c:a", "aac", "-b:a", "8k", "-ac", "1", small)
        clear, cenc, ll = os.path.join(tmp, "clear"), os.path.join(tmp, "cenc"), os.path.join(tmp, "ts")
        run(KERF, "package", small, "-o", clear, "--segment-duration", "1", "--formats", "hls,dash")
        run(KERF, "package", small, "-o", cenc, "--segment-duration", "1", "--formats", "hls,dash",
            "--encrypt", "cenc", "--key", f"{KID}:{KEY}", "--drm", "common,widevine,playready")
        run(KERF, "package", FIXTURE, "-o", ll, "--formats", "hls-ts", "--encrypt", "aes-128", "--key", KEY)
        for package, prefix in ((clear, "clear"), (cenc, "cenc"), (ll, "ts")):
            for folder, _, files in os.walk(package):
                for name in files:
                    path = os.path.join(folder, name)
                    rel = os.path.relpath(path, package).replace("/", "-")
                    if name.endswith(".m3u8"):
                        put("hls", f"{prefix}-{rel}", open(path, "rb").read())
                    elif name.endswith(".mpd"):
                        put("mpd", f"{prefix}-{rel}", open(path, "rb").read())
            for folder in sorted(os.listdir(package)):
                init = os.path.join(package, folder, "init.mp4")
                first = os.path.join(package, folder, "seg_1.m4s")
                if os.path.exists(init) and os.path.exists(first):
                    data = open(init, "rb").read() + open(first, "rb").read()
                    put("mp4", f"{prefix}-{folder}", data[:24000])
    # A few of the standard's example MPDs: segment lists, multiple periods, live templates.
    for name in ("example_G1", "example_G4", "example_G11", "example_G15", "example_H2"):
        path = os.path.join(ROOT, "Tests", "Conformance", "dash", "examples", f"{name}.mpd")
        if os.path.exists(path):
            put("mpd", f"conformance-{name}", open(path, "rb").read())


def make_live_playlists():
    # Live and low-latency media playlists as a channel publishes them.
    put("hls", "live-playlist.m3u8", "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:897790476\n"
        "#EXT-X-DISCONTINUITY-SEQUENCE:1\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init_1.mp4\"\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T23:55:15.233Z\n#EXTINF:2.000,\nseg_0.m4s\n#EXT-X-DISCONTINUITY\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T23:55:17.233Z\n#EXTINF:2.000,\nseg_180000.m4s\n")
    put("hls", "low-latency-playlist.m3u8", "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n"
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.5,CAN-SKIP-UNTIL=12\n#EXT-X-PART-INF:PART-TARGET=0.5\n"
        "#EXT-X-MEDIA-SEQUENCE:897790477\n#EXT-X-MAP:URI=\"init_1.mp4\"\n#EXTINF:2.000,\nseg_161602286150608.m4s\n"
        "#EXT-X-PART:DURATION=0.480,URI=\"part_161602286150610_0.m4s\",INDEPENDENT=YES\n"
        "#EXT-X-PART:DURATION=0.480,URI=\"part_161602286150610_1.m4s\"\n"
        "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part_161602286150610_2.m4s\"\n"
        "#EXT-X-RENDITION-REPORT:URI=\"../audio_und_aac/playlist.m3u8\",LAST-MSN=897790478,LAST-PART=0\n")


def make_yaml():
    configs = {
        "vod": "root: out\nlisten: 127.0.0.1:8080\nvod-manifest-max-age: 60\ncors: true\ngzip: true\nfile-cache: 64\n",
        "channel": "channels:\n  news:\n    input: udp://127.0.0.1:9000\n    segment-duration: 2\n    window: 60\n    formats: hls, dash\n",
        "rtmp": "rtmp-listen: 0.0.0.0:1935\nrtmp-max-publishers: 64\nrtmp-max-bitrate: 50000000\nchannels:\n  studio:\n    input: rtmp\n    key: a-long-random-secret\n    segment-duration: 2\n",
        "encryption": "channels:\n  news:\n    input: x.mp4\n    encryption:\n      scheme: cbcs\n      keys: [video=00112233445566778899aabbccddeeff:0f1e2d3c4b5a69788796a5b4c3d2e1f0,\n             audio=11112233445566778899aabbccddeeff:0f1e2d3c4b5a69788796a5b4c3d2e1f0]\n      drm: [widevine, playready]\n      license-url: https://license.example.com/\n",
        "rotation": "channels:\n  news:\n    input: x.mp4\n    segment-duration: 2\n    encryption: {scheme: cenc, rotation: 5, root-key: 000102030405060708090a0b0c0d0e0f, drm: widevine}\n",
        "low-latency": "token-secret: s3cret-s3cret\nadmin-token: adm1n-adm1n\nmax-url-length: 2048\nchannels:\n  a:\n    input: x.mp4\n    segment-duration: 2\n    part-duration: 0.5\n    formats: hls, hls-ts\n",
        "anchors": "defaults: &d\n  segment-duration: 2\nchannels:\n  a:\n    <<: *d\n    input: x.mp4\n  b: {input: 'y.mp4', window: 30}\n",
    }
    for name, text in configs.items():
        put("yaml", name, text)


if __name__ == "__main__":
    shutil.rmtree(CORPUS, ignore_errors=True)
    make_amf0()
    make_flv()
    make_origin()
    make_yaml()
    make_live_playlists()
    make_packages()
    make_rtmp()
    for target in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, target))
        size = sum(os.path.getsize(os.path.join(CORPUS, target, f)) for f in files)
        print(f"{target}: {len(files)} files, {size} bytes")
