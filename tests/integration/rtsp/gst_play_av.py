"""An independent RTSP player of video and AAC audio for tests: GStreamer's ``rtspsrc``,
decoding both tracks with libav.

Run it with the SYSTEM Python (``/usr/bin/python3``), which has the GObject
introspection bindings, never with the project's virtualenv::

    /usr/bin/python3 gst_play_av.py URL [--buffers N] [--protocols tcp|udp] [--timeout S]

It plays ``rtspsrc``'s H.264 track through ``rtph264depay ! h264parse !
avdec_h264`` and its AAC track through ``rtpmp4gdepay ! aacparse ! avdec_aac``
until ``N`` decoded audio buffers (and a picture) came out, then prints one JSON
line: ``{"audio": A, "video": V, "rate": R, "channels": C}`` (the decoded
audio's caps). On an error message it prints ``{"error": "..."}`` and exits 1;
after ``--timeout`` seconds it prints what it got and exits 2.
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
    "source. ! rtph264depay ! h264parse ! avdec_h264 ! appsink name=video sync=false "
    "max-buffers=4 drop=true "
    "source. ! rtpmp4gdepay ! aacparse ! avdec_aac ! appsink name=audio sync=false"
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--buffers", type=int, default=40)
    parser.add_argument("--protocols", choices=("tcp", "udp"), default="tcp")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    Gst.init(None)
    pipeline = Gst.parse_launch(PIPELINE)
    source = pipeline.get_by_name("source")
    # Set as a property, not in the launch line: a URL's query would need quoting there.
    source.set_property("location", args.url)
    source.set_property("protocols", args.protocols)
    video_sink = pipeline.get_by_name("video")
    audio_sink = pipeline.get_by_name("audio")
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    audio = video = 0
    caps: dict[str, object] = {}
    deadline = time.monotonic() + args.timeout
    try:
        while audio < args.buffers or not video:
            if time.monotonic() > deadline:
                print(json.dumps({"audio": audio, "video": video, "timeout": True}), flush=True)
                return 2
            message = bus.pop_filtered(Gst.MessageType.ERROR | Gst.MessageType.EOS)
            if message is not None:
                if message.type == Gst.MessageType.EOS:
                    text = "end of stream"
                else:
                    error, debug = message.parse_error()
                    text = f"{error.message} ({debug})"
                print(json.dumps({"error": text, "audio": audio, "video": video}), flush=True)
                return 1
            if video_sink.emit("try-pull-sample", 0) is not None:
                video += 1
            sample = audio_sink.emit("try-pull-sample", 50 * Gst.MSECOND)
            if sample is None:
                continue
            audio += 1
            structure = sample.get_caps().get_structure(0)
            caps = {
                "rate": structure.get_value("rate"),
                "channels": structure.get_value("channels"),
            }
    finally:
        pipeline.set_state(Gst.State.NULL)
    print(json.dumps({"audio": audio, "video": video, **caps}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
