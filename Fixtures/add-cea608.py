#!/usr/bin/env python3
"""Adds CEA-608 pop-on captions (channel CC1, field 1) to an H.264 Annex B stream.

Usage: add-cea608.py <in.h264> <out.h264> <fps> <start:end:text>...

Every access unit gets an SEI NAL unit (user_data_registered_itu_t_t35, ATSC A/53 "GA94"
cc_data with two 608 byte pairs: field 1 and a field 2 null pair) before its first slice,
as broadcast encoders write them. Each caption is loaded (RCL, PAC row 15, its characters)
in the frames before `start` and shown by EOC at `start`; EDM erases it at `end`. The input
must have no B-frames (decode order = presentation order), so caption bytes reach a decoder
in the frames they were written for. Standard library only.
"""
import sys


def odd_parity(byte):
    byte &= 0x7F
    return byte | (0x80 if bin(byte).count("1") % 2 == 0 else 0)


def pairs_for(text):
    """The byte pairs that load `text` into the non-displayed memory of CC1."""
    codes = [(0x14, 0x20), (0x14, 0x20), (0x14, 0x60), (0x14, 0x60)]  # RCL, PAC row 15 col 0
    chars = [ord(c) for c in text.upper()]
    if len(chars) % 2:
        chars.append(0x00)
    codes += [(chars[i], chars[i + 1]) for i in range(0, len(chars), 2)]
    return codes


def schedule(captions, fps, frames):
    """The field 1 byte pair of each frame (None: a null pair)."""
    plan = [None] * frames
    for start, end, text in captions:
        show, erase = round(start * fps), round(end * fps)
        load = pairs_for(text)
        first = show - len(load) - 1
        if first < 0:
            raise SystemExit(f"caption at {start} s starts too early to be loaded")
        for i, pair in enumerate(load):
            plan[first + i] = pair
        plan[show - 1], plan[show] = (0x14, 0x2F), (0x14, 0x2F)  # EOC, twice
        if erase < frames:
            plan[erase] = (0x14, 0x2C)  # EDM
            if erase + 1 < frames:
                plan[erase + 1] = (0x14, 0x2C)
    return plan


def escape(rbsp):
    """Emulation prevention: 0x03 after two zero bytes followed by a byte <= 3."""
    out, zeros = bytearray(), 0
    for b in rbsp:
        if zeros >= 2 and b <= 3:
            out.append(3)
            zeros = 0
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def sei(pair):
    one = pair if pair else (0x00, 0x00)
    cc = bytes([0xFC, odd_parity(one[0]), odd_parity(one[1]), 0xFD, 0x80, 0x80])
    payload = bytes([0xB5, 0x00, 0x31]) + b"GA94" + bytes([0x03, 0xC0 | 2, 0xFF]) + cc + bytes([0xFF])
    message = bytes([4, len(payload)]) + payload
    return b"\x00\x00\x00\x01" + bytes([0x06]) + escape(message + b"\x80")


def nal_units(data):
    """(start offset of the start code, NAL type) of each NAL unit."""
    i, found = 0, []
    while True:
        j = data.find(b"\x00\x00\x01", i)
        if j < 0:
            return found
        start = j - 1 if j > 0 and data[j - 1] == 0 else j
        found.append((start, data[j + 3] & 0x1F))
        i = j + 3


def main():
    source, target, fps = sys.argv[1], sys.argv[2], float(sys.argv[3])
    captions = []
    for spec in sys.argv[4:]:
        start, end, text = spec.split(":", 2)
        captions.append((float(start), float(end), text))
    data = open(source, "rb").read()
    units = nal_units(data)
    # The first slice of each access unit (first_mb_in_slice == 0: the byte after the header
    # starts with a 1 bit in exp-Golomb).
    firsts = [start for start, kind in units if kind in (1, 5) and data[data.find(b"\x00\x01", start) + 3] & 0x80]
    plan = schedule(captions, fps, len(firsts))
    out, last = bytearray(), 0
    for frame, start in enumerate(firsts):
        out += data[last:start] + sei(plan[frame])
        last = start
    out += data[last:]
    open(target, "wb").write(out)


if __name__ == "__main__":
    main()
