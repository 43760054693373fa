"""An independent RTSP player for tests: GStreamer's ``rtspsrc``, decoding with libav.

Run it with the SYSTEM Python (``/usr/bin/python3``), which has the GObject
introspection bindings, never with the project's virtualenv::

    /usr/bin/python3 gst_rtsp_play.py URL [--frames N] [--protocols tcp|udp] [--timeout S]

It plays ``rtspsrc ! rtph264depay ! h264parse ! avdec_h264 ! appsink`` (what
``gst-launch-1.0`` would run) until ``N`` pictures were decoded, then prints
one JSON line on stdout: ``{"frames": N, "width": W, "height": H, "framerate":
"F/D"}``; on an error message from the pipeline (e.g. the server's 401) it
prints ``{"error": "..."}`` and exits 1; after ``--timeout`` seconds without
``N`` pictures it prints what it got and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

PIPELINE = (
    "rtspsrc name=source latency=200 ! rtph264depay ! h264parse ! avdec_h264 "
    "! appsink name=sink sync=false max-buffers=4"
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--protocols", choices=("tcp", "udp"), default="tcp")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    Gst.init(None)
    pipeline = Gst.parse_launch(PIPELINE)
    source = pipeline.get_by_name("source")
    # Set as a property, not in the launch line: the URL's query would need quoting there.
    source.set_property("location", args.url)
    source.set_property("protocols", args.protocols)
    sink = pipeline.get_by_name("sink")
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    frames = 0
    caps: dict[str, object] = {}
    deadline = time.monotonic() + args.timeout
    try:
        while frames < args.frames:
            if time.monotonic() > deadline:
                print(json.dumps({"frames": frames, **caps, "timeout": True}), flush=True)
                return 2
            message = bus.pop_filtered(Gst.MessageType.ERROR | Gst.MessageType.EOS)
            if message is not None:
                if message.type == Gst.MessageType.EOS:
                    text = "end of stream"
                else:
                    error, debug = message.parse_error()
                    text = f"{error.message} ({debug})"
                print(json.dumps({"error": text, "frames": frames}), flush=True)
                return 1
            sample = sink.emit("try-pull-sample", 100 * Gst.MSECOND)
            if sample is None:
                continue
            frames += 1
            structure = sample.get_caps().get_structure(0)
            found, numerator, denominator = structure.get_fraction("framerate")
            caps = {
                "width": structure.get_value("width"),
                "height": structure.get_value("height"),
                "framerate": f"{numerator}/{denominator}" if found else None,
            }
    finally:
        pipeline.set_state(Gst.State.NULL)
    print(json.dumps({"frames": frames, **caps}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
