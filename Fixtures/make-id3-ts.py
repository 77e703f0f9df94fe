#!/usr/bin/env python3
"""Writes an MPEG-TS holding only timed ID3 metadata: one PES per tag on PID 0x102, stream_type
0x15 with a metadata_descriptor naming "ID3 " (ISO/IEC 13818-1 §2.6.60), which FFmpeg reads as
a timed_id3 stream. Each PES payload here is a metadata access unit cell (ISO/IEC 13818-1
§2.12.4: a 5-byte header, then the tag), the layout FFmpeg 5.1's demuxer expects of stream_type
0x15; muxed again by ffmpeg with audio and video (both inputs mapped, `-c copy`), the tags are
written as Apple's HLS timed metadata has them, the ID3 tag first in the PES payload.

Usage: make-id3-ts.py <out.ts> <seconds:text>...
Each tag is an ID3v2.4 tag with one TXXX frame (description "kerf", value `text`), at `seconds`
(the first at 0: ffmpeg aligns the starts of its inputs). Standard library only.
"""
import struct
import sys

PMT_PID, ID3_PID = 0x1000, 0x102


def crc32_mpeg(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc


def syncsafe(n):
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def id3_tag(text):
    body = b"\x03" + b"kerf\x00" + text.encode()
    frame = b"TXXX" + syncsafe(len(body)) + b"\x00\x00" + body
    return b"ID3\x04\x00\x00" + syncsafe(len(frame)) + frame


def section(table_id, table_ext, payload):
    length = 5 + len(payload) + 4
    data = bytes([table_id, 0xB0 | (length >> 8), length & 0xFF]) + struct.pack(">H", table_ext) + bytes([0xC1, 0, 0]) + payload
    return data + struct.pack(">I", crc32_mpeg(data))


def packets(pid, payload, counter, is_section=False):
    """TS packets carrying `payload`: a section after a pointer field, padded with 0xFF; a PES
    with adaptation-field stuffing in its last packet."""
    out, first = [], True
    data = (b"\x00" if is_section else b"") + payload
    while data:
        header = bytes([0x47, (0x40 if first else 0) | (pid >> 8), pid & 0xFF])
        chunk, data = data[:184], data[184:]
        if len(chunk) == 184:
            out.append(header + bytes([0x10 | counter[pid]]) + chunk)
        elif is_section:
            out.append(header + bytes([0x10 | counter[pid]]) + chunk + b"\xff" * (184 - len(chunk)))
        else:
            stuffing = 184 - len(chunk)
            adaptation = bytes([stuffing - 1]) + (b"\x00" + b"\xff" * (stuffing - 2) if stuffing >= 2 else b"")
            out.append(header + bytes([0x30 | counter[pid]]) + adaptation + chunk)
        counter[pid] = (counter[pid] + 1) & 0x0F
        first = False
    return out


def pes(tag, seconds, sequence):
    pts = int(round(seconds * 90000)) + 90000  # 1 s of headroom, as muxers leave
    pts_bytes = bytes([0x21 | ((pts >> 29) & 0x0E), (pts >> 22) & 0xFF, 0x01 | ((pts >> 14) & 0xFE),
                       (pts >> 7) & 0xFF, 0x01 | ((pts << 1) & 0xFE)])
    # metadata_service_id, sequence_number, cell_fragment_indication '11' (whole unit),
    # decoder_config_flag 0, random_access_indicator 1, reserved, AU_cell_data_length.
    cell = bytes([0, sequence & 0xFF, 0xDF]) + struct.pack(">H", len(tag)) + tag
    header = bytes([0x80, 0x80, 5]) + pts_bytes
    return b"\x00\x00\x01\xbd" + struct.pack(">H", len(header) + len(cell)) + header + cell


def main():
    out, tags = sys.argv[1], []
    for spec in sys.argv[2:]:
        seconds, text = spec.split(":", 1)
        tags.append((float(seconds), text))
    counter = {0: 0, PMT_PID: 0, ID3_PID: 0}
    pat = section(0x00, 1, struct.pack(">HH", 1, 0xE000 | PMT_PID))
    descriptor = bytes([0x26, 13]) + b"\xff\xff" + b"ID3 " + b"\xff" + b"ID3 " + b"\x00" + b"\x0f"
    stream = bytes([0x15, 0xE0 | (ID3_PID >> 8), ID3_PID & 0xFF, 0xF0, len(descriptor)]) + descriptor
    pmt = section(0x02, 1, struct.pack(">HH", 0xFFFF, 0xF000) + stream)  # no PCR PID
    result = []
    for sequence, (seconds, text) in enumerate(tags):
        result += packets(0, pat, counter, is_section=True)
        result += packets(PMT_PID, pmt, counter, is_section=True)
        result += packets(ID3_PID, pes(id3_tag(text), seconds, sequence), counter)
    with open(out, "wb") as f:
        f.write(b"".join(result))


if __name__ == "__main__":
    main()
