"""An independent RTSP player for tests: GStreamer's ``rtspsrc``, decoding with libav.

Run it with the SYSTEM Python (``/usr/bin/python3``), which has the GObject
introspection bindings, never with the project's virtualenv::

    /usr/bin/python3 gst_rtsp_play.py URL [--frames N] [--audio A] [--protocols tcp|udp]
        [--timeout S]

It plays ``rtspsrc ! rtph264depay ! h264parse ! avdec_h264 ! appsink`` (what
``gst-launch-1.0`` would run) until ``N`` pictures were decoded, then prints
one JSON line on stdout: ``{"frames": N, "width": W, "height": H, "framerate":
"F/D"}``. With ``--audio A`` it also decodes the AAC track (``rtpmp4gdepay !
aacparse ! avdec_aac``) until ``A`` audio buffers came out, and adds
``"audio": A, "rate": R, "channels": C`` (the decoded audio's caps). On an
error message from the pipeline (e.g. the server's 401) it prints
``{"error": "..."}`` and exits 1; after ``--timeout`` seconds without all of
that it prints what it got and exits 2.
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
    "rtspsrc name=source latency=200 "
    "source. ! rtph264depay ! h264parse ! avdec_h264 ! appsink name=sink sync=false max-buffers=4"
)
AUDIO_BRANCH = " source. ! rtpmp4gdepay ! aacparse ! avdec_aac ! appsink name=audio sync=false"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--audio", type=int, default=0, help="AAC buffers to decode too")
    parser.add_argument("--protocols", choices=("tcp", "udp"), default="tcp")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    Gst.init(None)
    pipeline = Gst.parse_launch(PIPELINE + (AUDIO_BRANCH if args.audio else ""))
    source = pipeline.get_by_name("source")
    # Set as a property, not in the launch line: the URL's query would need quoting there.
    source.set_property("location", args.url)
    source.set_property("protocols", args.protocols)
    sink = pipeline.get_by_name("sink")
    audio_sink = pipeline.get_by_name("audio") if args.audio else None
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    frames = audio = 0
    caps: dict[str, object] = {}
    sound: dict[str, object] = {}
    deadline = time.monotonic() + args.timeout
    try:
        while frames < args.frames or audio < args.audio:
            if time.monotonic() > deadline:
                report = {"frames": frames, **caps, "audio": audio, "timeout": True}
                print(json.dumps(report), flush=True)
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
            if audio_sink is not None and audio < args.audio:
                heard = audio_sink.emit("try-pull-sample", 10 * Gst.MSECOND)
                if heard is not None:
                    audio += 1
                    structure = heard.get_caps().get_structure(0)
                    sound = {
                        "audio": audio,
                        "rate": structure.get_value("rate"),
                        "channels": structure.get_value("channels"),
                    }
            wait = 10 if frames >= args.frames else 100
            sample = sink.emit("try-pull-sample", wait * Gst.MSECOND)
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
    print(json.dumps({"frames": frames, **caps, **sound}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
