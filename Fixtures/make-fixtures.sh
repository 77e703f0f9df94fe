#!/usr/bin/env bash
# Regenerates the committed test fixtures from FFmpeg's lavfi sources.
# Deterministic settings: bit-exact muxing, no metadata, single-threaded encoders,
# fixed keyframe placement. Usage: Fixtures/make-fixtures.sh [output-dir]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$(dirname "$0")}"
mkdir -p "$out"
cd "$out"

ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
# Common flags: no encoder/muxer version strings, no creation time, no global metadata.
exact=(-fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1 -map_chapters -1)
x264=(-c:v libx264 -threads 1 -preset veryfast -pix_fmt yuv420p -x264-params "sliced-threads=0:threads=1")
aac=(-c:a aac -b:a 96k)

# 1. H.264/AAC, 10 s, 640x360, 25 fps, 2 s GOP (keyframe every 50 frames, no scene cuts).
ff -f lavfi -i "testsrc2=size=640x360:rate=25:duration=10" \
   -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=10" \
   "${x264[@]}" -b:v 400k -maxrate 500k -bufsize 800k -g 50 -keyint_min 50 -sc_threshold 0 \
   "${aac[@]}" -ac 2 "${exact[@]}" -movflags +faststart h264_aac_10s.mp4

# 2. HEVC/AAC, 6 s, 640x360, 30 fps, 2 s closed GOPs (IDR every 2 s), tagged hvc1.
ff -f lavfi -i "testsrc2=size=640x360:rate=30:duration=6" \
   -f lavfi -i "sine=frequency=660:sample_rate=48000:duration=6" \
   -c:v libx265 -preset ultrafast -pix_fmt yuv420p -b:v 300k \
   -x265-params "keyint=60:min-keyint=60:scenecut=0:open-gop=0:pools=1:frame-threads=1:log-level=error" \
   -tag:v hvc1 "${aac[@]}" -ac 2 "${exact[@]}" -movflags +faststart hevc_aac.mp4

# 3. H.264 with irregular (scene-cut style) keyframes, 10 s, 25 fps.
ff -f lavfi -i "testsrc2=size=640x360:rate=25:duration=10" \
   -f lavfi -i "sine=frequency=330:sample_rate=48000:duration=10" \
   "${x264[@]}" -b:v 400k -g 250 -keyint_min 1 -sc_threshold 0 \
   -force_key_frames "0,1.32,2.08,4.76,5.2,7.96,9.4" \
   "${aac[@]}" -ac 2 "${exact[@]}" -movflags +faststart h264_irregular_gop.mp4

# 4. MPEG-2 video + MP2 audio in MPEG-TS (needs transcoding for HLS/DASH).
ff -f lavfi -i "testsrc2=size=640x360:rate=25:duration=6" \
   -f lavfi -i "sine=frequency=550:sample_rate=48000:duration=6" \
   -c:v mpeg2video -b:v 600k -g 12 -c:a mp2 -b:a 128k -ac 2 "${exact[@]}" \
   -mpegts_flags +resend_headers mpeg2_mp2.ts

# 5. H.264 + two AAC languages (eng, fra) + a mov_text subtitle track, 8 s.
cat > /tmp/kerf-fixture-subs.srt <<'SRT'
1
00:00:00,500 --> 00:00:02,500
Hello from Kerf.

2
00:00:03,000 --> 00:00:05,000
Second line of the test subtitles.

3
00:00:05,500 --> 00:00:07,500
Goodbye.
SRT
ff -f lavfi -i "testsrc2=size=640x360:rate=25:duration=8" \
   -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=8" \
   -f lavfi -i "sine=frequency=880:sample_rate=48000:duration=8" \
   -i /tmp/kerf-fixture-subs.srt \
   -map 0:v -map 1:a -map 2:a -map 3:s \
   "${x264[@]}" -b:v 300k -g 50 -keyint_min 50 -sc_threshold 0 \
   "${aac[@]}" -ac 2 -c:s mov_text \
   -metadata:s:a:0 language=eng -metadata:s:a:1 language=fra -metadata:s:s:0 language=eng \
   "${exact[@]}" -movflags +faststart two_languages_subs.mp4
rm -f /tmp/kerf-fixture-subs.srt

# 6. Audio only, AAC-LC stereo, 10 s.
ff -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=10" \
   "${aac[@]}" -ac 2 "${exact[@]}" -movflags +faststart audio_only.m4a

# 7. A three-rung pre-encoded ladder with aligned 2 s GOPs (video only) plus its audio.
for rung in 360:640:250k 540:960:450k 720:1280:700k; do
  IFS=: read -r h w rate <<<"$rung"
  ff -f lavfi -i "testsrc2=size=${w}x${h}:rate=25:duration=10" \
     "${x264[@]}" -b:v "$rate" -maxrate "$rate" -bufsize "$rate" \
     -g 50 -keyint_min 50 -sc_threshold 0 "${exact[@]}" -movflags +faststart "ladder_${h}p.mp4"
done
ff -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=10" \
   "${aac[@]}" -ac 2 "${exact[@]}" -movflags +faststart ladder_audio.m4a

# 8. Broken inputs: an MP4 cut at 60 % (index at the end, so it is lost) and random bytes.
ff -f lavfi -i "testsrc2=size=320x180:rate=25:duration=4" \
   "${x264[@]}" -b:v 200k -g 50 "${exact[@]}" /tmp/kerf-fixture-full.mp4
size=$(stat -c %s /tmp/kerf-fixture-full.mp4)
head -c $((size * 6 / 10)) /tmp/kerf-fixture-full.mp4 > truncated.mp4
rm -f /tmp/kerf-fixture-full.mp4
# Seeded, reproducible "random" bytes: AES-CTR keystream of a fixed key.
head -c 65536 /dev/zero | openssl enc -aes-128-ctr -nosalt \
  -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 > random.bin

# 9. H.264 with CEA-608 captions (CC1, pop-on, in A/53 SEI) + AAC, 8 s, no B-frames: two
#    captions, 0.96-3.0 s and 3.96-6.48 s (Fixtures/add-cea608.py writes the SEI).
ff -f lavfi -i "testsrc2=size=640x360:rate=25:duration=8" \
   "${x264[@]}" -bf 0 -b:v 300k -g 50 -keyint_min 50 -sc_threshold 0 "${exact[@]}" -f h264 /tmp/kerf-fixture-plain.h264
python3 "$here/add-cea608.py" /tmp/kerf-fixture-plain.h264 /tmp/kerf-fixture-cc.h264 25 \
  "1:3:Kerf captions one" "4:6.5:Second caption"
ff -framerate 25 -i /tmp/kerf-fixture-cc.h264 -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=8" \
   -map 0:v -map 1:a -c:v copy "${aac[@]}" -ac 2 "${exact[@]}" -movflags +faststart captions_608.mp4
rm -f /tmp/kerf-fixture-plain.h264 /tmp/kerf-fixture-cc.h264

# 10. Timed ID3 metadata in MPEG-TS: the 10 s H.264/AAC fixture with three ID3v2.4 tags (TXXX
#     "kerf" = "first tag", "second tag", "third tag" at 0, 2.5 and 6 s) on a stream_type 0x15
#     PID (Fixtures/make-id3-ts.py writes them; ffmpeg muxes them in, ID3 tag first in each PES).
python3 "$here/make-id3-ts.py" /tmp/kerf-fixture-id3.ts "0:first tag" "2.5:second tag" "6:third tag"
ff -i h264_aac_10s.mp4 -i /tmp/kerf-fixture-id3.ts -map 0 -map 1 -c copy "${exact[@]}" -f mpegts id3_h264_aac.ts
rm -f /tmp/kerf-fixture-id3.ts

ls -l "$PWD"
