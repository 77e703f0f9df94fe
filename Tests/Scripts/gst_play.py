#!/usr/bin/python3
"""Plays a URI in GStreamer (playbin or playbin3) with synchronising sinks and reports what happened.

Usage: gst_play.py <uri> <playbin|playbin3> <seconds>

The video and audio sinks are fakesinks with sync=true, so buffers are rendered at their
running time against the pipeline clock, as a real player's sinks are. Every 0.25 s the
position is queried; the whole run is printed as one JSON object on stdout:
  {"positions": [[wall seconds, position seconds or null], ...],
   "video_buffers": n, "audio_buffers": n, "errors": ["..."], "eos": bool,
   "streams": [caps of the decoded pads]}
Run with the system Python (/usr/bin/python3), which has GStreamer's introspection (python3-gi).
"""
import json
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


def main():
    uri, element, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    Gst.init(None)
    player = Gst.ElementFactory.make(element, "player")
    if player is None:
        print(json.dumps({"errors": [f"no {element} element"], "positions": [], "video_buffers": 0,
                          "audio_buffers": 0, "eos": False, "streams": []}))
        return
    player.set_property("uri", uri)
    if element == "playbin":
        # playbin's hlsdemux/dashdemux expose new pads when they switch variants, and playbin
        # (GStreamer 1.22) can deadlock when that happens before the sinks have prerolled (the
        # new decoder's allocation query waits on a sink that waits for preroll; seen under
        # load, about one play in a hundred). A fixed connection speed keeps it on the top
        # variant; playbin3 (decodebin3) switches variants and is measured as it comes.
        player.set_property("connection-speed", 1_000_000)
    counts = {"video": 0, "audio": 0}
    caps = set()

    def sink(kind):
        fake = Gst.ElementFactory.make("fakesink", kind)
        fake.set_property("sync", True)
        fake.set_property("signal-handoffs", True)

        def handoff(_sink, _buffer, pad):
            if counts[kind] == 0:
                current = pad.get_current_caps()
                if current is not None:
                    caps.add(current.get_structure(0).get_name())
            counts[kind] += 1

        fake.connect("handoff", handoff)
        return fake

    player.set_property("video-sink", sink("video"))
    player.set_property("audio-sink", sink("audio"))
    # No subtitles overlay: text goes nowhere rather than needing a video overlay.
    player.set_property("text-sink", Gst.ElementFactory.make("fakesink", "text"))
    player.set_state(Gst.State.PLAYING)
    bus = player.get_bus()
    start = time.monotonic()
    positions, errors, eos = [], [], False
    while time.monotonic() - start < seconds:
        message = bus.timed_pop_filtered(250 * Gst.MSECOND, Gst.MessageType.ERROR | Gst.MessageType.EOS)
        if message is not None:
            if message.type == Gst.MessageType.ERROR:
                error, debug = message.parse_error()
                errors.append(f"{message.src.get_name()}: {error.message} ({debug})")
                break
            eos = True
            break
        ok, position = player.query_position(Gst.Format.TIME)
        positions.append([round(time.monotonic() - start, 3), position / Gst.SECOND if ok and position >= 0 else None])
    _, state, pending = player.get_state(0)
    player.set_state(Gst.State.NULL)
    print(json.dumps({"state": state.value_nick, "pending": pending.value_nick, "positions": positions, "video_buffers": counts["video"], "audio_buffers": counts["audio"],
                      "errors": errors, "eos": eos, "streams": sorted(caps)}))


if __name__ == "__main__":
    main()
