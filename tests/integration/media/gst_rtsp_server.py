"""An independent RTSP server for interop tests: Debian's GStreamer RTSP server.

Run it with the SYSTEM Python (``/usr/bin/python3``), which has the GObject
introspection bindings, never with the project's virtualenv::

    /usr/bin/python3 gst_rtsp_server.py --codec h264 --gop 25 [--port N] [--audio]

It serves one shared test pattern at ``rtsp://127.0.0.1:PORT/test``, bound to
127.0.0.1 only, prints ``READY <port>`` on stdout once it listens, and exits on
SIGTERM or SIGINT. The media is shared, so every client of one server gets the
same encoded pictures (the oracle test compares two clients' access units).
The payloaders send the parameter sets in-band before every IDR as separate
packets carrying the IDR's timestamp (``config-interval=-1``). ``--audio`` adds
a 440 Hz tone as AAC-LC, 48 kHz stereo, sent as RFC 3640 ``mpeg4-generic``
(``AAC-hbr``) by ``rtpmp4gpay``: a camera with sound.
"""

from __future__ import annotations

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

AUDIO = (
    "audiotestsrc is-live=true wave=sine freq=440 "
    "! audio/x-raw,rate=48000,channels=2 ! audioconvert ! audioresample "
    "! avenc_aac bitrate=96000 ! aacparse ! rtpmp4gpay name=pay1 pt=97"
)


def launch_line(
    codec: str, gop: int, width: int, height: int, fps: int, *, audio: bool = False
) -> str:
    source = (
        f"videotestsrc is-live=true pattern=ball ! "
        f"video/x-raw,width={width},height={height},framerate={fps}/1"
    )
    if codec == "h264":
        encode = (
            f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bitrate=500 "
            "! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=-1"
        )
    else:
        encode = (
            f"x265enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bitrate=500 "
            "option-string=open-gop=0 "
            "! rtph265pay name=pay0 pt=96 config-interval=-1"
        )
    sound = f" {AUDIO}" if audio else ""
    return f"( {source} ! {encode}{sound} )"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codec", choices=("h264", "h265"), default="h264")
    parser.add_argument("--gop", type=int, default=25, help="keyframe interval in frames")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=180)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--audio", action="store_true", help="add an AAC track")
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        launch_line(args.codec, args.gop, args.width, args.height, args.fps, audio=args.audio)
    )
    factory.set_shared(True)
    server.get_mount_points().add_factory("/test", factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    print(f"READY {server.get_bound_port()}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
