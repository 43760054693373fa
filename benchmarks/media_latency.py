"""The media gateway against ffmpeg's HLS muxer: first bytes, added latency, CPU and memory.

::

    .venv/bin/python benchmarks/media_latency.py --quick   # under 2 minutes
    .venv/bin/python benchmarks/media_latency.py           # the warm run, about 3.5 minutes
    .venv/bin/python benchmarks/media_latency.py --gops 4 --mse-viewers 1 50
    .venv/bin/python benchmarks/media_latency.py --sections cold   # cold start, about 5 min
    .venv/bin/python benchmarks/media_latency.py --codecs h265     # H.265 warm rows, 3.5 min
    .venv/bin/python benchmarks/media_latency.py --hls-viewers 1 50 200 500

Per GOP length (1 s and 4 s), three processes on 127.0.0.1 and nothing else:

* the camera: the reference device (``_device_process.py``, a
  :class:`~platonicam.device.runtime.DeviceRuntime`) whose main H.264 profile is
  set to 1920x1080, 30 fps, 4096 kbit/s and the GOP through ONVIF
  (``client.media.set_video_encoder_configuration``; the call returns once the
  new loop plays). Every access unit carries the latency SEI stamped with the
  wall-clock time it was sent (:mod:`platonicam.rtsp.sei`);
* the gateway: ``platonicam serve --port 0`` (no demo camera: the device is
  registered through ``POST /api/cameras``), so its CPU and RSS are its own;
* the peer: ``ffmpeg -rtsp_transport tcp -i rtsp://... -c copy -f hls -hls_time 1
  -hls_list_size 6 -hls_flags delete_segments`` writing into a folder that
  ``python -m http.server`` serves.

What is measured, with the gateway's hub and ffmpeg already running (warm):

1. first bytes: MSE, WebSocket open to the end of the first frame message
   (a keyframe: the hub's GOP cache starts with one; init segment included); LL-HLS, the playlist
   request to the end of the newest ``INDEPENDENT=YES`` part (with ``init.mp4``);
   ffmpeg-HLS, the playlist request to the end of its newest segment;
2. added latency: for every frame received, arrival time minus the SEI stamp
   (frames are found in the fMP4 ``mdat`` / the MPEG-TS video PES; an MSE
   message is one frame whose stamp its ``prft`` carries). ``med`` is
   over all frames, ``edge`` over the newest frame of each delivery (what a
   player at the live edge shows first);
3. gateway CPU (% of one core, minus the gateway with no viewer) and RSS growth
   with N MSE viewers (WebSocket clients reading everything) and N LL-HLS
   viewers (blocking playlist reload, then the part), from ``/proc``;
4. memory per viewer: RSS growth divided by N.

The viewers run in this process; with two cores they compete with the gateway
and the device. Each load row says what limited it: the gateway's one core
(it is one asyncio process), the viewers' process, or the machine's cores
(``/proc/stat``: all of them busy while the gateway had less than a core).

**Cold start** (``--sections cold``, not in the default run: about 5 minutes).
A second gateway, started with ``PLATONICAM_MEDIA__IDLE_TIMEOUT=1`` so it
disconnects the camera a second after its last viewer left, and nothing open:
each trial waits until ``/stream/stats`` says ``idle``. Per trial, four rows at
the same point of the GOP (trial *i* of *n* starts ``(i + 0.5) / n`` of a GOP
after one of the device's keyframes, known from the previous trial's stamps,
so the keyframe wait is spread evenly, not left to the reaper's rhythm):

* ``camera``: the camera alone, as the gateway opens it, from this process:
  ``GetProfiles`` + ``GetStreamUri`` on a connected ONVIF client, then
  :class:`~platonicam.rtsp.client.RtspClient` (``OPTIONS`` ... ``PLAY``, the
  metadata track too) until its first access unit. The device answers ``PLAY``
  when its next keyframe is due, so this row splits into the ONVIF lookups, the
  RTSP handshake (until ``PLAY`` is sent) and the keyframe wait (from there to
  the keyframe's stamp);
* ``mse``: WebSocket open to the first keyframe message;
* ``ll-hls``: ``index.m3u8`` (which a cold gateway holds until three segments
  are complete, ``START_SEGMENTS``) to the end of ``init.mp4`` and the newest
  independent part;
* ``ffmpeg-hls``: starting ``ffmpeg`` (same command) to the end of fetching
  its first segment, polling for its playlist every 10 ms.

Each trial's first keyframe carries the device's send time (latency SEI: the
``prft`` of the MSE message, the first segment's first frame), so the total
splits exactly into *to keyframe* (the request until the device sent the
first keyframe: handshakes plus the wait for the GOP) and *after keyframe*
(depacketizing, muxing, holding, delivering). ``vs camera`` is the median
over trials of (row - the camera alone at the same point of the GOP).

**H.265** (``--codecs h264 h265``): the device's main encoder is switched to
H.265 (Main) through Media2 (``SetVideoEncoderConfiguration`` with encoding
``H265``: the gateway streams a camera's first profile), and the warm first
bytes and latency rows are measured for MSE (Chromium plays no H.265 through
MSE, but the WebSocket serves it), LL-HLS and ffmpeg-HLS. Load rows are
measured for H.264 only. ``--h265-size`` picks a smaller picture if the
one-off encode of the device's loop is too slow.

Everything is bounded: fixed windows per row and ``--limit`` for the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import websockets

from _device_process import PASSWORD, USERNAME, DeviceProcess
from platonicam.errors import PlatonicamError
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.models.common import Resolution
from platonicam.onvif.models.media import VideoEncoding
from platonicam.rtsp.client import RtspClient
from platonicam.rtsp.message import RtspRequest, RtspResponse
from platonicam.rtsp.sei import parse_latency_sei
from platonicam.rtsp.stream import AccessUnit, VideoCodec
from platonicam.service.cameras import main_profile

ENCODER = "VideoEncoder_1_main"
RTSP_PATH = "/profile/Profile_1_main"
FPS = 30
BITRATE_KBPS = 4096
_RUNNING = re.compile(r"PlatoniCam is running at (http://127\.0\.0\.1:\d+)")
_PASSWORD = re.compile(r"^\s+password: (\S+)$")
_HINT = re.compile(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="(p(\d+)-(\d+)\.(\d+)\.m4s)')
_INDEPENDENT = re.compile(r'#EXT-X-PART:[^\n]*URI="([^"?]+)[^"]*"[^\n]*INDEPENDENT=YES')
_MAP = re.compile(r'#EXT-X-MAP:URI="([^"?]+)')
_SERVING = re.compile(r"port (\d+)")
_TICKS = os.sysconf("SC_CLK_TCK")
_NTP_UNIX_OFFSET = 2_208_988_800  # prft: seconds from 1900 to 1970
CODECS: dict[str, VideoCodec] = {"h264": VideoCodec.H264, "h265": VideoCodec.H265}
#: The cold-start gateway's ``[media] idle_timeout``: it lets go of the camera this
#: many seconds after the last viewer left (its reaper looks once a second).
COLD_IDLE_TIMEOUT = 1.0
COLD_ROWS = ("camera", "mse", "ll-hls", "ffmpeg-hls")

# Targets of issue 5, "Benchmarks".
TARGET_FIRST = {"mse": 0.1, "ll-hls": 0.3}
TARGET_LATENCY = {"mse": 0.05, "ll-hls": 1.0}
TARGET_CPU = {"mse": 12.0, "ll-hls": 20.0}
TARGET_MB_PER_VIEWER = 0.3


# --------------------------------------------------------------------------- /proc


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all threads), from ``/proc``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_bytes(pid: int) -> int:
    """Resident set size of process ``pid``, from ``/proc`` (0 when unknown)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def own_cpu() -> float:
    return time.process_time()


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs together since boot, from ``/proc/stat``."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


# --------------------------------------------------------------------------- stream parsing


def _boxes(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Top-level ISO BMFF boxes of ``data`` as (type, payload); stops at a malformed size."""
    pos = 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        header = 8
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
            header = 16
        elif size == 0:
            size = len(data) - pos
        if size < header:
            return
        yield kind, data[pos + header : pos + size]
        pos += size


def fmp4_stamps(fragment: bytes, codec: VideoCodec = VideoCodec.H264) -> list[float]:
    """The latency SEI stamps (Unix seconds) of the frames in an fMP4 fragment, in order.

    The ``mdat`` holds the samples as 4-byte length-prefixed NAL units (avcC or
    hvcC with ``lengthSizeMinusOne`` 3, what :mod:`platonicam.media.fmp4` writes);
    the device puts one latency SEI in every access unit, so one stamp is one frame.
    """
    stamps: list[float] = []
    for kind, payload in _boxes(fragment):
        if kind != b"mdat":
            continue
        pos = 0
        while pos + 4 <= len(payload):
            size = int.from_bytes(payload[pos : pos + 4], "big")
            nal = payload[pos + 4 : pos + 4 + size]
            pos += 4 + size
            # parse_latency_sei looks at the NAL type first: other units cost little.
            stamp = parse_latency_sei(nal, codec)
            if stamp is not None:
                stamps.append(stamp)
    return stamps


def mse_frame(message: str | bytes) -> tuple[float, bool] | None:
    """(capture stamp, keyframe) of an MSE frame message, ``None`` for any other message.

    The wire format is :mod:`platonicam.media.mse`'s: ``prft`` (32 bytes, its NTP
    time the stamp) + ``moof`` + ``mdat``. Keyframe: the first sample's flags in
    the ``trun`` say sync (sample_depends_on 2).
    """
    if not isinstance(message, bytes) or message[4:8] != b"prft":
        return None
    ntp = int.from_bytes(message[16:24], "big")
    stamp = (ntp >> 32) - _NTP_UNIX_OFFSET + (ntp & 0xFFFF_FFFF) / 2**32
    keyframe = False
    for kind, payload in _boxes(message[32:]):
        if kind != b"moof":
            continue
        for traf_kind, traf in _boxes(payload):
            if traf_kind != b"traf":
                continue
            for box_kind, box in _boxes(traf):
                if box_kind == b"trun":
                    # version/flags, count, data offset, then duration, size, flags.
                    keyframe = box[20:24] == b"\x02\x00\x00\x00"
    return stamp, keyframe


def ts_stamps(segment: bytes, codec: VideoCodec = VideoCodec.H264) -> list[float]:
    """The latency SEI stamps of the video frames in an MPEG-TS segment (ffmpeg's HLS).

    The video PID is the one whose PES packets carry stream id 0xE0; its
    payloads (PES headers removed) are the Annex B byte stream, split at start codes.
    """
    video_pid: int | None = None
    stream = bytearray()
    for pos in range(0, len(segment) - 187, 188):
        packet = segment[pos : pos + 188]
        if packet[0] != 0x47:
            continue
        pid = ((packet[1] & 0x1F) << 8) | packet[2]
        start = bool(packet[1] & 0x40)
        control = (packet[3] >> 4) & 0x3
        offset = 4
        if control in (2, 3):
            offset += 1 + packet[4]
        if control in (0, 2) or offset >= 188:
            continue
        payload = packet[offset:]
        if start and payload[:4] == b"\x00\x00\x01\xe0":
            video_pid = pid
            payload = payload[9 + payload[8] :]
        elif pid != video_pid:
            continue
        stream += payload
    stamps: list[float] = []
    for nal in re.split(rb"\x00\x00\x01", bytes(stream)):
        stamp = parse_latency_sei(nal.rstrip(b"\x00"), codec)
        if stamp is not None:
            stamps.append(stamp)
    return stamps


def unit_stamp(unit: AccessUnit, codec: VideoCodec) -> float:
    """The latency SEI stamp of an access unit (``RuntimeError`` when it has none)."""
    for nal in unit.nal_units:
        stamp = parse_latency_sei(nal, codec)
        if stamp is not None:
            return stamp
    raise RuntimeError("the access unit carries no latency SEI")


def next_phase(now: float, keyframe: float, gop: float, phase: float) -> float:
    """The first time at or after ``now`` that lies ``phase`` seconds after a keyframe,
    the device's keyframes being ``gop`` seconds apart with one at ``keyframe``."""
    return keyframe + math.ceil((now - keyframe - phase) / gop) * gop + phase


# --------------------------------------------------------------------------- processes


class Service:
    """``platonicam serve --port 0`` in its own process; ``password`` is the first admin's.

    ``env``: variables added to its environment (settings such as
    ``PLATONICAM_MEDIA__IDLE_TIMEOUT``)."""

    def __init__(
        self, data_dir: Path, profile_to: Path | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.profile_to = profile_to
        self.env = env or {}
        self.process: subprocess.Popen[str] | None = None
        self.base = ""
        self.password = ""

    def start(self, timeout: float = 120.0) -> None:
        command = [sys.executable, "-m", "platonicam", "serve", "--port", "0"]
        if self.profile_to is not None:
            command[1:1] = ["-m", "cProfile", "-o", str(self.profile_to)]
        self.process = subprocess.Popen(
            [*command, "--data-dir", str(self.data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **self.env},
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.base:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("the service exited before it started")
            if match := _PASSWORD.match(line):
                self.password = match[1]
            if match := _RUNNING.search(line):
                self.base = match[1]
        if not self.base or not self.password:
            raise RuntimeError("the service did not report its address and admin password")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.profile_to is not None and self.process is not None:
            # uvicorn exits its serve loop on SIGINT, so cProfile gets to write its file.
            self.process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(30)
        _stop(self.process)


class FfmpegHls:
    """ffmpeg's HLS muxer on the camera's RTSP stream, and a static HTTP server for its folder."""

    def __init__(self, folder: Path, rtsp_url: str) -> None:
        self.folder = folder
        self.rtsp_url = rtsp_url
        self.ffmpeg: subprocess.Popen[bytes] | None = None
        self.server: subprocess.Popen[str] | None = None
        self.base = ""

    def start(self) -> None:
        self.start_server()
        self.start_ffmpeg()

    def start_ffmpeg(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ffmpeg = subprocess.Popen(
            [
                "ffmpeg",
                "-hide_banner",
                "-loglevel",
                "error",
                "-nostdin",
                "-rtsp_transport",
                "tcp",
                "-i",
                self.rtsp_url,
                "-c",
                "copy",
                "-f",
                "hls",
                "-hls_time",
                "1",
                "-hls_list_size",
                "6",
                "-hls_flags",
                "delete_segments",
                "out.m3u8",
            ],
            cwd=self.folder,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop_ffmpeg(self) -> None:
        """Stop ffmpeg and delete what it wrote (the next start begins at ``out0.ts``)."""
        _stop(self.ffmpeg)
        self.ffmpeg = None
        for written in self.folder.glob("out*"):
            written.unlink()

    def start_server(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.server = subprocess.Popen(
            [sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1", "0"],
            cwd=self.folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.server.stdout is not None
        match = _SERVING.search(self.server.stdout.readline())
        if match is None:
            raise RuntimeError("the static HTTP server did not report its port")
        self.base = f"http://127.0.0.1:{match[1]}"

    @property
    def pid(self) -> int:
        assert self.ffmpeg is not None
        return self.ffmpeg.pid

    def stop(self) -> None:
        _stop(self.ffmpeg)
        _stop(self.server)


def _stop(process: subprocess.Popen[str] | subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def configure_camera(
    port: int, gop_seconds: int, codec: VideoCodec = VideoCodec.H264, size: Resolution | None = None
) -> None:
    """Set the main encoder to ``codec``, ``size`` (default 1080p), 30 fps, 4096 kbit/s and a
    ``gop_seconds`` GOP, through ONVIF (Media2, which the reference device offers: Media
    has no H.265). The call returns once the device plays the new loop (for H.265 at
    1080p its one-off libx265 encode takes a while: the client waits up to 300 s)."""
    async with OnvifClient("127.0.0.1", port, USERNAME, PASSWORD, timeout=300) as client:
        configs = await client.media.get_video_encoder_configurations()
        main = next(c for c in configs if c.token == ENCODER)
        wanted = dataclasses.replace(
            main,
            encoding=VideoEncoding(codec.value),
            resolution=size or Resolution(1920, 1080),
            profile="Main" if codec is VideoCodec.H265 else main.profile,
            frame_rate_limit=FPS,
            bitrate_limit=BITRATE_KBPS,
            gov_length=FPS * gop_seconds,
            encoding_interval=1,
        )
        await client.media.set_video_encoder_configuration(wanted)


# --------------------------------------------------------------------------- measurements


@dataclass
class Delivery:
    """One delivery path's figures for one GOP length, in seconds (empty: not measured)."""

    first: list[float] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)
    edge: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    media_bytes: int = 0
    media_seconds: float = 0.0


async def mse_first_bytes(url: str) -> float:
    started = time.perf_counter()
    async with websockets.connect(url, max_size=2**25) as ws:
        while True:
            frame = mse_frame(await asyncio.wait_for(ws.recv(), 15))
            if frame is not None and frame[1]:
                return time.perf_counter() - started


async def hls_start(client: httpx.AsyncClient, base: str, query: str) -> str:
    """What a player needs to start: the playlist, then ``init.mp4`` and the newest
    independent part at once. Returns the playlist."""
    playlist = await client.get(f"{base}/index.m3u8?{query}")
    playlist.raise_for_status()
    parts = _INDEPENDENT.findall(playlist.text)
    init = _MAP.search(playlist.text)
    if not parts or init is None:
        raise RuntimeError("the LL-HLS playlist has no independent part or no map")
    init_reply, part_reply = await asyncio.gather(
        client.get(f"{base}/{init[1]}?{query}"), client.get(f"{base}/{parts[-1]}?{query}")
    )
    init_reply.raise_for_status()
    part_reply.raise_for_status()
    return playlist.text


async def hls_first_bytes(client: httpx.AsyncClient, base: str, query: str) -> float:
    started = time.perf_counter()
    await hls_start(client, base, query)
    return time.perf_counter() - started


async def ffmpeg_first_bytes(client: httpx.AsyncClient, base: str) -> float:
    started = time.perf_counter()
    playlist = await client.get(f"{base}/out.m3u8")
    playlist.raise_for_status()
    segments = [line for line in playlist.text.splitlines() if line and not line.startswith("#")]
    reply = await client.get(f"{base}/{segments[-1]}")
    reply.raise_for_status()
    return time.perf_counter() - started


def _record(path: Delivery, stamps: list[float], arrived: float) -> None:
    if stamps:
        path.latency.extend(arrived - stamp for stamp in stamps)
        path.edge.append(arrived - stamps[-1])


async def mse_latency(
    url: str, path: Delivery, seconds: float, codec: VideoCodec = VideoCodec.H264
) -> None:
    async with websockets.connect(url, max_size=2**25) as ws:
        deadline = time.monotonic() + seconds
        # A new viewer first gets the GOP cache (frames since the newest keyframe) in
        # one burst: those are not live. Record from the first frame that arrived
        # after a live-paced gap: more than half the frames' stamp interval (33 ms at
        # 30 fps) after the previous one, where the burst's frames come back to back.
        live = False
        previous: tuple[float, float] | None = None  # (arrival, stamp)
        while time.monotonic() < deadline:
            message = await asyncio.wait_for(ws.recv(), 15)
            frame = mse_frame(message)
            if frame is None:
                continue
            arrived, stamp = time.time(), frame[0]
            sei = fmp4_stamps(message, codec) if isinstance(message, bytes) else []
            if sei and abs(sei[0] - stamp) > 1e-3:  # the prft must carry the frame's SEI stamp
                raise RuntimeError(f"prft stamp {stamp} is not the frame's SEI stamp {sei[0]}")
            if previous is not None:
                live = live or arrived - previous[0] > 0.5 * (stamp - previous[1]) > 0
            previous = (arrived, stamp)
            if live:
                _record(path, [stamp], arrived)
                path.media_bytes += len(message)
        path.media_seconds = seconds


async def hls_latency(
    client: httpx.AsyncClient,
    base: str,
    query: str,
    path: Delivery,
    seconds: float,
    codec: VideoCodec = VideoCodec.H264,
) -> None:
    playlist = await client.get(f"{base}/index.m3u8?{query}")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        hint = _HINT.search(playlist.text)
        if hint is None:
            raise RuntimeError(f"no preload hint ({playlist.status_code})")
        name, _, msn, part = hint.groups()
        playlist = await client.get(f"{base}/index.m3u8?{query}&_HLS_msn={msn}&_HLS_part={part}")
        media = await client.get(f"{base}/{name}?{query}")
        arrived = time.time()
        if media.status_code == 200:
            _record(path, fmp4_stamps(media.content, codec), arrived)


async def ffmpeg_latency(
    client: httpx.AsyncClient,
    base: str,
    path: Delivery,
    seconds: float,
    codec: VideoCodec = VideoCodec.H264,
) -> None:
    """Poll the playlist every 50 ms (more eagerly than any player) and fetch each new segment."""
    seen: set[str] = set()
    first = True
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        playlist = await client.get(f"{base}/out.m3u8")
        names = [line for line in playlist.text.splitlines() if line and not line.startswith("#")]
        for name in names:
            if name in seen:
                continue
            seen.add(name)
            if first:
                continue  # segments that existed before we started are not live
            reply = await client.get(f"{base}/{name}")
            arrived = time.time()
            if reply.status_code == 200:
                _record(path, ts_stamps(reply.content, codec), arrived)
        first = False
        await asyncio.sleep(0.05)


class HttpConnection:
    """A minimal HTTP/1.1 keep-alive client on one connection (GET only).

    httpx's pool costs about 1 ms of client CPU per request and serialises
    on its lock with many tasks: 50 httpx pollers measured 350 ms per
    in-memory part. This reader costs the viewer side little, so the rows
    measure the gateway rather than the client library.
    """

    def __init__(self, base: str) -> None:
        match = re.match(r"http://([^:/]+):(\d+)", base)
        assert match is not None
        self.host, self.port = match[1], int(match[2])
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, target: str) -> tuple[int, bytes]:
        """(status, body) of ``GET target`` (a path with its query, or a full URL)."""
        path = re.sub(r"^http://[^/]+", "", target)
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n"
        self._writer.write(request.encode())
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
        if length is None:
            raise RuntimeError(f"GET {path}: no Content-Length ({status})")
        return status, await self._reader.readexactly(int(length[1]))

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()


@dataclass
class LoadRow:
    kind: str
    viewers: int
    cpu: float
    rss_mb: float
    parts_per_second: float
    client_cpu: float
    errors: int
    #: Percent of all the machine's cores that were busy (everything, not only ours).
    machine: float = 0.0
    #: Percent of the window's 100-ms slices in which the gateway's core, or all the
    #: machine's cores, were full: requests come in bursts (each part wakes every
    #: viewer at once), which an average over seconds hides.
    gateway_full: float = 0.0
    machine_full: float = 0.0


@dataclass
class _Saturation:
    slices: int = 0
    gateway: int = 0
    machine: int = 0


async def _sample_saturation(pid: int, into: _Saturation, interval: float = 0.1) -> None:
    """Count, until cancelled, the ``interval`` slices in which process ``pid`` used 90 % of
    a core and those in which all cores were 90 % busy (``/proc`` counts 10-ms ticks)."""
    before = (time.monotonic(), cpu_seconds(pid), *machine_jiffies())
    while True:
        await asyncio.sleep(interval)
        now = (time.monotonic(), cpu_seconds(pid), *machine_jiffies())
        into.slices += 1
        into.gateway += now[1] - before[1] >= 0.9 * (now[0] - before[0])
        into.machine += now[2] - before[2] >= 0.9 * max(1, now[3] - before[3])
        before = now


@dataclass
class _Viewer:
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    parts: int = 0
    errors: list[str] = field(default_factory=list)


async def _mse_viewer(url: str, viewer: _Viewer, stop: asyncio.Event) -> None:
    try:
        async with websockets.connect(url, max_size=2**25) as ws:
            while not stop.is_set():
                try:
                    message = await asyncio.wait_for(ws.recv(), 1.0)
                except TimeoutError:
                    continue
                if isinstance(message, bytes) and message[4:8] == b"prft":
                    viewer.parts += 1  # MSE sends frames: one message per frame
                    viewer.ready.set()
    except (OSError, websockets.WebSocketException) as exc:
        viewer.errors.append(str(exc))
    finally:
        viewer.ready.set()


async def _hls_viewer(base: str, query: str, viewer: _Viewer, stop: asyncio.Event) -> None:
    connection = HttpConnection(base)
    try:
        _, playlist = await connection.get(f"{base}/index.m3u8?{query}")
        while not stop.is_set():
            hint = _HINT.search(playlist.decode())
            if hint is None:
                viewer.errors.append("no preload hint")
                return
            name, _, msn, part = hint.groups()
            _, playlist = await connection.get(
                f"{base}/index.m3u8?{query}&_HLS_msn={msn}&_HLS_part={part}"
            )
            status, _ = await connection.get(f"{base}/{name}?{query}")
            if status == 200:
                viewer.parts += 1
                viewer.ready.set()
    except (OSError, asyncio.IncompleteReadError, RuntimeError) as exc:
        viewer.errors.append(repr(exc))
    finally:
        viewer.ready.set()
        await connection.close()


async def load_row(
    gateway_pid: int,
    kind: str,
    count: int,
    seconds: float,
    idle: float,
    mse_url: str,
    hls_base: str,
    query: str,
) -> LoadRow:
    """One load row: ``count`` viewers of ``kind`` for ``seconds`` after they connected."""
    stop = asyncio.Event()
    viewers = [_Viewer() for _ in range(count)]
    if kind == "mse":
        tasks = [asyncio.create_task(_mse_viewer(mse_url, v, stop)) for v in viewers]
    else:
        tasks = [asyncio.create_task(_hls_viewer(hls_base, query, v, stop)) for v in viewers]
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(v.ready.wait() for v in viewers)), 20)
        await asyncio.sleep(0.5)  # connections settle (RSS of their buffers included)
        cpu_start, me_start, wall_start = cpu_seconds(gateway_pid), own_cpu(), time.monotonic()
        busy_start, total_start = machine_jiffies()
        parts_start = sum(v.parts for v in viewers)
        saturation = _Saturation()
        sampler = asyncio.create_task(_sample_saturation(gateway_pid, saturation))
        await asyncio.sleep(seconds)
        sampler.cancel()
        wall = time.monotonic() - wall_start
        used = cpu_seconds(gateway_pid) - cpu_start
        me = own_cpu() - me_start
        busy_end, total_end = machine_jiffies()
        parts = sum(v.parts for v in viewers) - parts_start
        rss_after = rss_bytes(gateway_pid)
        stop.set()
        await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            task.cancel()
    finally:
        await asyncio.gather(*tasks, return_exceptions=True)
    return LoadRow(
        kind=kind,
        viewers=count,
        cpu=max(0.0, 100 * used / wall - idle),
        rss_mb=rss_after / 2**20,
        parts_per_second=parts / wall / count,
        client_cpu=100 * me / wall,
        errors=sum(len(v.errors) for v in viewers),
        machine=100 * (busy_end - busy_start) / max(1, total_end - total_start),
        gateway_full=100 * saturation.gateway / max(1, saturation.slices),
        machine_full=100 * saturation.machine / max(1, saturation.slices),
    )


@dataclass
class ColdTrial:
    """One cold start, in seconds: ``total`` from the request to first playable bytes,
    ``to_keyframe`` from the request until the device sent the first keyframe (its
    latency SEI stamp, ``keyframe_at`` as Unix time). The camera alone also splits
    its part: the ONVIF lookups, the RTSP handshake and the wait for the keyframe."""

    total: float
    to_keyframe: float
    keyframe_at: float
    onvif: float = 0.0
    rtsp: float = 0.0
    keyframe_wait: float = 0.0

    @property
    def after_keyframe(self) -> float:
        return self.total - self.to_keyframe


@dataclass
class ColdResult:
    """Trials per row, aligned by index (``None``: that trial failed; ``errors`` says why)."""

    trials: dict[str, list[ColdTrial | None]]
    errors: list[str] = field(default_factory=list)

    def done(self, row: str) -> list[ColdTrial]:
        return [trial for trial in self.trials[row] if trial is not None]


@dataclass
class GopResult:
    gop: int
    codec: str
    size: str
    paths: dict[str, Delivery] = field(default_factory=dict)
    idle_cpu: float = 0.0
    idle_rss_mb: float = 0.0
    ffmpeg_cpu: float = 0.0
    ffmpeg_rss_mb: float = 0.0
    loads: list[LoadRow] = field(default_factory=list)
    cold: ColdResult | None = None


@dataclass(frozen=True)
class Camera:
    """The device as registered in one gateway, and its media URLs (``query`` carries
    the media token)."""

    id: str
    query: str
    hls_base: str
    mse_url: str
    stats_url: str


async def register(service: Service, device: DeviceProcess) -> Camera:
    """Log in as the first admin, register the device, get its media token."""
    async with httpx.AsyncClient(base_url=service.base, timeout=60) as api:
        login = await api.post(
            "/api/auth/token", data={"username": "admin", "password": service.password}
        )
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        created = await api.post(
            "/api/cameras",
            json={
                "ip": "127.0.0.1",
                "port": device.port,
                "username": USERNAME,
                "password": PASSWORD,
                "name": "bench",
            },
            headers=headers,
        )
        created.raise_for_status()
        camera = created.json()["id"]
        listing = await api.get(f"/api/cameras/{camera}/stream", headers=headers)
        listing.raise_for_status()
    query = f"token={listing.json()['token']}"
    base = f"{service.base}/api/cameras/{camera}"
    return Camera(
        id=camera,
        query=query,
        hls_base=f"{base}/hls",
        mse_url=f"ws{base.removeprefix('http')}/mse?{query}",
        stats_url=f"{base}/stream/stats?{query}",
    )


async def run_gop(folder: Path, gop: int, codec: str, args: argparse.Namespace) -> GopResult:
    """Everything for one GOP length and codec, on a device of its own."""
    size: Resolution = args.h265_size if codec == "h265" else Resolution(1920, 1080)
    with DeviceProcess(folder / "device", -1, audio=not args.no_audio) as device:
        began = time.monotonic()
        await configure_camera(device.port, gop, CODECS[codec], size)
        print(
            f"gop {gop} s, {codec} {size}: camera configured in {time.monotonic() - began:.1f} s",
            file=sys.stderr,
        )
        result = GopResult(gop, codec, str(size))
        rtsp = f"rtsp://{USERNAME}:{PASSWORD}@127.0.0.1:{device.rtsp_port}{RTSP_PATH}"
        if "warm" in args.sections:
            await warm_section(folder, device, rtsp, result, args, began)
        if "cold" in args.sections:
            result.cold = await cold_section(folder, device, rtsp, gop, CODECS[codec], args)
    return result


async def warm_section(
    folder: Path,
    device: DeviceProcess,
    rtsp: str,
    result: GopResult,
    args: argparse.Namespace,
    began: float,
) -> None:
    """The warm figures: a gateway and ffmpeg already streaming, then the viewers."""
    profile = os.environ.get("PLATONICAM_BENCH_GATEWAY_PROFILE")
    suffix = "" if result.codec == "h264" else f".{result.codec}"
    service = Service(
        folder / "service", Path(f"{profile}.gop{result.gop}{suffix}") if profile else None
    )
    await asyncio.to_thread(service.start)
    peer = FfmpegHls(folder / "ffmpeg", rtsp)
    try:
        peer.start()
        camera = await register(service, device)
        # Open the hub (the first playlist waits for three segments) and
        # let ffmpeg write a few segments: all figures are warm.
        async with httpx.AsyncClient(timeout=60) as client:
            warm = await client.get(f"{camera.hls_base}/index.m3u8?{camera.query}")
            warm.raise_for_status()
            # The init segment names the codec the gateway got (avc1 or hvc1).
            init = _MAP.search(warm.text)
            entry = b"hvc1" if result.codec == "h265" else b"avc1"
            if (
                init is None
                or entry
                not in (await client.get(f"{camera.hls_base}/{init[1]}?{camera.query}")).content
            ):
                raise RuntimeError(f"the gateway's init segment is not {entry.decode()}")
        # ffmpeg is another process: its playlist file is the only signal.
        while not (peer.folder / "out.m3u8").exists():  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        await asyncio.sleep(max(0.0, 3.0 + result.gop - (time.monotonic() - began)))
        await _measure(service, peer, result, args, camera)
    finally:
        peer.stop()
        service.stop()


async def _measure(
    service: Service,
    peer: FfmpegHls,
    result: GopResult,
    args: argparse.Namespace,
    camera: Camera,
) -> None:
    gop, trials, seconds, window = result.gop, args.trials, args.seconds, args.window
    codec = CODECS[result.codec]
    mse_url, hls_base, query = camera.mse_url, camera.hls_base, camera.query
    paths = {"mse": Delivery(), "ll-hls": Delivery(), "ffmpeg-hls": Delivery()}
    baseline_rss = rss_bytes(service.pid)  # hub open, no viewer has connected yet
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(trials):
            # Spread the requests over the GOP: the start may not depend on luck.
            await asyncio.sleep(gop / trials)
            paths["mse"].first.append(await mse_first_bytes(mse_url))
            paths["ll-hls"].first.append(await hls_first_bytes(client, hls_base, query))
            paths["ffmpeg-hls"].first.append(await ffmpeg_first_bytes(client, peer.base))
        # The three latency clients at once, so they see the same frames.
        await asyncio.gather(
            mse_latency(mse_url, paths["mse"], seconds, codec),
            hls_latency(client, hls_base, query, paths["ll-hls"], seconds, codec),
            ffmpeg_latency(client, peer.base, paths["ffmpeg-hls"], seconds + gop, codec),
        )
    idle_start, began = cpu_seconds(service.pid), time.monotonic()
    ffmpeg_start = cpu_seconds(peer.pid)
    await asyncio.sleep(min(window, 3.0))
    wall = time.monotonic() - began
    result.paths = paths
    result.idle_cpu = 100 * (cpu_seconds(service.pid) - idle_start) / wall
    result.idle_rss_mb = baseline_rss / 2**20
    result.ffmpeg_cpu = 100 * (cpu_seconds(peer.pid) - ffmpeg_start) / wall
    result.ffmpeg_rss_mb = rss_bytes(peer.pid) / 2**20
    if result.codec != "h264":
        return  # load rows: H.264 only (a message costs the gateway the same whatever the codec)
    for kind, counts in (("mse", args.mse_viewers), ("ll-hls", args.hls_viewers)):
        for count in counts:
            row = await load_row(
                service.pid, kind, count, window, result.idle_cpu, mse_url, hls_base, query
            )
            result.loads.append(row)
            print(json.dumps(dataclasses.asdict(row)), file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- cold start

_TRIAL_ERRORS = (
    OSError,
    RuntimeError,
    TimeoutError,
    httpx.HTTPError,
    websockets.WebSocketException,
    PlatonicamError,
)


class _PlayTimedClient(RtspClient):
    """The gateway's RTSP client, noting when PLAY goes out: the device answers PLAY
    only when its next keyframe is due, so the handshake ends when PLAY is sent and
    the rest is the wait for the GOP."""

    play_sent = 0.0

    async def _transact(self, request: RtspRequest, timeout: float | None = None) -> RtspResponse:
        if request.method == "PLAY":
            self.play_sent = time.time()
        return await super()._transact(request, timeout)


async def cold_camera(onvif: OnvifClient, codec: VideoCodec) -> ColdTrial:
    """The camera alone, opened as the gateway opens it (see the module docstring)."""
    started = time.time()
    profile = main_profile(await onvif.media.get_profiles())
    if profile is None:
        raise RuntimeError("the device has no video profile")
    uri = (await onvif.media.get_stream_uri(profile.token)).uri
    looked_up = time.time()
    client = _PlayTimedClient(uri, USERNAME, PASSWORD, timeout=30, metadata=True)
    try:
        await client.open()
        unit = await anext(client.access_units(), None)
        arrived = time.time()
        if unit is None:
            raise RuntimeError("the device's stream ended before its first frame")
    finally:
        await client.close()
    stamp = unit_stamp(unit, codec)
    return ColdTrial(
        total=arrived - started,
        to_keyframe=stamp - started,
        keyframe_at=stamp,
        onvif=looked_up - started,
        rtsp=client.play_sent - looked_up,
        keyframe_wait=stamp - client.play_sent,
    )


async def cold_mse(url: str) -> ColdTrial:
    """WebSocket open to the first keyframe message, whose ``prft`` carries its stamp."""
    started = time.time()
    async with websockets.connect(url, max_size=2**25, open_timeout=60) as ws:
        while True:
            frame = mse_frame(await asyncio.wait_for(ws.recv(), 30))
            if frame is not None and frame[1]:
                return ColdTrial(time.time() - started, frame[0] - started, frame[0])


async def cold_hls(client: httpx.AsyncClient, camera: Camera, codec: VideoCodec) -> ColdTrial:
    """A player's start on a cold gateway; the first keyframe is the first segment's."""
    started = time.time()
    playlist = await hls_start(client, camera.hls_base, camera.query)
    arrived = time.time()
    segments = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    if not segments:
        raise RuntimeError("the cold LL-HLS playlist lists no segment")
    first = await client.get(f"{camera.hls_base}/{segments[0].split('?')[0]}?{camera.query}")
    first.raise_for_status()
    stamps = fmp4_stamps(first.content, codec)
    if not stamps:
        raise RuntimeError("the first segment carries no latency SEI")
    return ColdTrial(arrived - started, stamps[0] - started, stamps[0])


async def cold_ffmpeg(peer: FfmpegHls, client: httpx.AsyncClient, codec: VideoCodec) -> ColdTrial:
    """Start ffmpeg, poll for its playlist every 10 ms, fetch its (newest) segment."""
    started = time.time()
    peer.start_ffmpeg()
    assert peer.ffmpeg is not None
    try:
        while True:
            if peer.ffmpeg.poll() is not None:
                raise RuntimeError(f"ffmpeg exited ({peer.ffmpeg.returncode}) before a segment")
            if (peer.folder / "out.m3u8").exists():
                playlist = await client.get(f"{peer.base}/out.m3u8")
                names = [
                    line
                    for line in playlist.text.splitlines()
                    if playlist.status_code == 200 and line and not line.startswith("#")
                ]
                if names:
                    segment = await client.get(f"{peer.base}/{names[-1]}")
                    segment.raise_for_status()
                    arrived = time.time()
                    first = segment
                    if len(names) > 1:
                        first = await client.get(f"{peer.base}/{names[0]}")
                    break
            await asyncio.sleep(0.01)
    finally:
        peer.stop_ffmpeg()
    stamps = ts_stamps(first.content, codec)
    if not stamps:
        raise RuntimeError("ffmpeg's first segment carries no latency SEI")
    return ColdTrial(arrived - started, stamps[0] - started, stamps[0])


async def wait_idle(client: httpx.AsyncClient, camera: Camera, timeout: float = 30.0) -> None:
    """Until the gateway has let go of the camera (``/stream/stats`` says ``idle``)."""
    deadline = time.monotonic() + timeout
    while True:
        reply = await client.get(camera.stats_url)
        reply.raise_for_status()
        if reply.json()["state"] == "idle":
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the gateway still holds the camera after {timeout:.0f} s")
        await asyncio.sleep(0.2)


async def cold_section(
    folder: Path,
    device: DeviceProcess,
    rtsp: str,
    gop: int,
    codec: VideoCodec,
    args: argparse.Namespace,
) -> ColdResult:
    """``args.cold_trials`` trials of the four rows (see the module docstring)."""
    service = Service(
        folder / "cold-service", env={"PLATONICAM_MEDIA__IDLE_TIMEOUT": str(COLD_IDLE_TIMEOUT)}
    )
    await asyncio.to_thread(service.start)
    peer = FfmpegHls(folder / "cold-ffmpeg", rtsp)
    result = ColdResult({row: [] for row in COLD_ROWS})
    try:
        peer.start_server()
        camera = await register(service, device)
        async with (
            OnvifClient("127.0.0.1", device.port, USERNAME, PASSWORD, timeout=60) as onvif,
            httpx.AsyncClient(timeout=60) as client,
        ):
            # One start not measured: the gateway's first stream runs code for the first
            # time (imports, caches), and its stamp tells where the device's keyframes are.
            keyframe = (await asyncio.wait_for(cold_mse(camera.mse_url), 60)).keyframe_at
            await wait_idle(client, camera)
            rows: dict[str, Callable[[], Awaitable[ColdTrial]]] = {
                "camera": lambda: cold_camera(onvif, codec),
                "mse": lambda: cold_mse(camera.mse_url),
                "ll-hls": lambda: cold_hls(client, camera, codec),
                "ffmpeg-hls": lambda: cold_ffmpeg(peer, client, codec),
            }
            for index in range(args.cold_trials):
                phase = (index + 0.5) / args.cold_trials * gop
                for row, start in rows.items():
                    now = time.time()
                    await asyncio.sleep(next_phase(now, keyframe, gop, phase) - now)
                    try:
                        trial = await asyncio.wait_for(start(), 60)
                    except _TRIAL_ERRORS as exc:
                        result.errors.append(f"{row} trial {index + 1}: {exc!r}")
                        result.trials[row].append(None)
                    else:
                        keyframe = trial.keyframe_at
                        result.trials[row].append(trial)
                    if row in ("mse", "ll-hls"):
                        await wait_idle(client, camera)
                print(
                    f"gop {gop} s: cold trial {index + 1}/{args.cold_trials}: "
                    + ", ".join(
                        f"{row} {_ms([t.total]) if (t := result.trials[row][-1]) else 'failed'}"
                        for row in COLD_ROWS
                    )
                    + " ms",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        peer.stop()
        service.stop()
    return result


# --------------------------------------------------------------------------- the tables


def _ms(values: list[float], pick: str = "med") -> str:
    if not values:
        return "-"
    value = (
        statistics.median(values)
        if pick == "med"
        else max(values)
        if pick == "max"
        else min(values)
    )
    return f"{value * 1000:.0f}"


def _mbps(path: Delivery) -> str:
    if not path.media_seconds:
        return "-"
    return f"{8 * path.media_bytes / path.media_seconds / 1e6:.2f}"


def _verdict(value: float | None, target: float) -> str:
    if value is None:
        return "-"
    return "ok" if value <= target else "MISSED"


def _ratio(peer: list[float], ours: list[float]) -> str:
    if not peer or not ours or statistics.median(ours) <= 0:
        return "-"
    return f"{statistics.median(peer) / statistics.median(ours):.1f}x"


def _codec_label(result: GopResult) -> str:
    return "H.264" if result.codec == "h264" else "H.265"


def print_tables(results: list[GopResult]) -> None:
    print(
        f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, 30 fps, "
        f"{BITRATE_KBPS} kbit/s; ffmpeg x = ffmpeg-HLS / ours (above 1: ours is faster)"
    )
    warm = [result for result in results if result.paths]
    if warm:
        print_warm(warm)
    for result in warm:
        if result.loads:
            print_loads(result)
    if any(result.loads for result in warm):
        print(
            "\nparts/s/v: parts (MSE: frames) each viewer received per second (live: 1 / part "
            "duration; MSE: the frame rate); client CPU: this process (the viewers); cores %: "
            "all the machine's cores together (/proc/stat, everything running). A row says "
            "what limited it: the gateway (one asyncio process: above 90 % of a core); for a "
            "row behind the live rate (the 1-viewer row's), the machine (cores over 90 % busy "
            "while the gateway had less than a core), the viewers' process (above 85 %), or, "
            "none of those full on average, which was full in bursts (100-ms slices). "
            "MB/viewer: the gateway's RSS growth per added viewer from the previous row of "
            "the same kind."
        )
    cold = [result for result in results if result.cold is not None]
    if cold:
        print_cold(cold)


def print_warm(results: list[GopResult]) -> None:
    header = (
        f"{'GOP':>3} {'codec':<16} {'path':<10} {'first med':>9} {'first max':>9} {'target':>6} "
        f"{'verdict':>7} {'lat med':>7} {'lat edge':>8} {'lat p95':>7} {'target':>6} "
        f"{'verdict':>7} {'ffmpeg x first':>14} {'ffmpeg x lat':>12}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        peer = result.paths["ffmpeg-hls"]
        codec = f"{_codec_label(result)} {result.size}"
        for name, path in result.paths.items():
            first = statistics.median(path.first) if path.first else None
            lat = statistics.median(path.latency) if path.latency else None
            p95 = (
                f"{statistics.quantiles(path.latency, n=20)[-1] * 1000:.0f}"
                if len(path.latency) > 1
                else "-"
            )
            ours = name != "ffmpeg-hls"
            print(
                f"{result.gop:>3} {codec:<16} {name:<10} {_ms(path.first):>9} "
                f"{_ms(path.first, 'max'):>9} "
                f"{TARGET_FIRST[name] * 1000 if ours else '-':>6} "
                f"{_verdict(first, TARGET_FIRST[name]) if ours else '':>7} "
                f"{_ms(path.latency):>7} {_ms(path.edge):>8} {p95:>7} "
                f"{TARGET_LATENCY[name] * 1000 if ours else '-':>6} "
                f"{_verdict(lat, TARGET_LATENCY[name]) if ours else '':>7} "
                f"{_ratio(peer.first, path.first) if ours else '':>14} "
                f"{_ratio(peer.latency, path.latency) if ours else '':>12}"
            )
    print("(ms; first: request to first playable bytes; lat: SEI stamp to arrival, all frames)")
    for result in results:
        print(
            f"GOP {result.gop} s, {_codec_label(result)}: gateway idle (camera live, no viewer) "
            f"{result.idle_cpu:.1f} % of a core, RSS {result.idle_rss_mb:.1f} MB; ffmpeg -c copy "
            f"-f hls {result.ffmpeg_cpu:.1f} %, RSS {result.ffmpeg_rss_mb:.1f} MB; stream "
            f"{_mbps(result.paths['mse'])} Mbit/s as received"
        )


def _limit(row: LoadRow, idle_cpu: float, live_rate: float) -> str:
    """What limited a load row, if anything did (see :func:`print_tables`); ``live_rate``
    is what one viewer of the kind received alone (parts or frames per second)."""
    gateway = row.cpu + idle_cpu
    if gateway > 90:
        return " (gateway-bound: its one core is full)"
    if row.parts_per_second >= 0.95 * live_rate:
        return ""  # the viewers got everything: nothing limited them, however busy
    if row.machine > 90:
        return f" (machine-bound: the cores are full, the gateway had {gateway:.0f} % of one)"
    if row.client_cpu > 85:
        return " (client-bound: the viewers' core is full)"
    if row.gateway_full >= 25:
        return (
            f" (gateway-bound in bursts: its core was full in {row.gateway_full:.0f} % "
            "of 100-ms slices)"
        )
    if row.machine_full >= 25:
        return (
            f" (machine-bound in bursts: the cores were full in {row.machine_full:.0f} % "
            f"of 100-ms slices, the gateway's in {row.gateway_full:.0f} %)"
        )
    return " (behind the live rate, no core full)"


def print_loads(result: GopResult) -> None:
    print(f"\nGOP {result.gop} s, {_codec_label(result)} {result.size}:")
    header = (
        f"{'kind':<6} {'viewers':>7} {'% core':>7} {'target':>6} {'RSS MB':>7} "
        f"{'MB/viewer':>9} {'target':>6} {'parts/s/v':>9} {'client CPU':>10} {'cores %':>7} "
        f"{'errors':>6} {'verdict':>7}"
    )
    print(header)
    print("-" * len(header))
    previous: dict[str, LoadRow] = {}
    alone: dict[str, float] = {}
    for row in result.loads:
        alone.setdefault(row.kind, row.parts_per_second)
        cpu_target = TARGET_CPU[row.kind] if row.viewers == 50 else None
        # Memory per viewer is the slope between this row and the previous one of
        # its kind: the first connection pays one-off costs (buffers, code paths run
        # for the first time) that are not per viewer, and the allocator keeps
        # what earlier rows freed, so a row alone says little.
        before = previous.get(row.kind)
        previous[row.kind] = row
        slope = (
            (row.rss_mb - before.rss_mb) / (row.viewers - before.viewers)
            if before is not None and row.viewers > before.viewers
            else None
        )
        verdicts = [] if slope is None else [_verdict(slope, TARGET_MB_PER_VIEWER)]
        if cpu_target is not None:
            verdicts.append(_verdict(row.cpu, cpu_target))
        print(
            f"{row.kind:<6} {row.viewers:>7} {row.cpu:>7.1f} "
            f"{cpu_target if cpu_target is not None else '-':>6} {row.rss_mb:>7.1f} "
            f"{'-' if slope is None else f'{slope:.3f}':>9} {TARGET_MB_PER_VIEWER:>6} "
            f"{row.parts_per_second:>9.2f} {row.client_cpu:>9.0f}% {row.machine:>7.0f} "
            f"{row.errors:>6} {'MISSED' if 'MISSED' in verdicts else 'ok' if verdicts else '-':>7}"
            f"{_limit(row, result.idle_cpu, alone[row.kind])}"
        )


def print_cold(results: list[GopResult]) -> None:
    print(
        "\nCold start (no hub: the request opens the camera). Trials start at evenly spread "
        "points of the GOP; to kf: request to the device sending the first keyframe (its "
        "SEI stamp); after kf: from there to playable bytes; vs camera: median over trials "
        "of (row - the camera alone at the same point of the GOP)."
    )
    header = (
        f"{'GOP':>3} {'codec':<16} {'row':<10} {'trials':>6} {'total med':>9} {'min':>5} "
        f"{'max':>5} {'to kf med':>9} {'after kf med':>12} {'vs camera':>9} {'ffmpeg x':>8}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        cold = result.cold
        assert cold is not None
        codec = f"{_codec_label(result)} {result.size}"
        camera = cold.trials["camera"]
        peer = [t.total for t in cold.done("ffmpeg-hls")]
        for row in COLD_ROWS:
            done = cold.done(row)
            totals = [t.total for t in done]
            paired = [
                t.total - c.total
                for t, c in zip(cold.trials[row], camera, strict=True)
                if t is not None and c is not None
            ]
            ours = row in ("mse", "ll-hls")
            print(
                f"{result.gop:>3} {codec:<16} {row:<10} "
                f"{len(done):>3}/{len(cold.trials[row]):<2} {_ms(totals):>9} "
                f"{_ms(totals, 'min'):>5} {_ms(totals, 'max'):>5} "
                f"{_ms([t.to_keyframe for t in done]):>9} "
                f"{_ms([t.after_keyframe for t in done]):>12} "
                f"{_ms(paired) if row != 'camera' else '':>9} "
                f"{_ratio(peer, totals) if ours else '':>8}"
            )
    print("(ms)")
    for result in results:
        cold = result.cold
        assert cold is not None
        alone = cold.done("camera")
        print(
            f"GOP {result.gop} s, camera alone: ONVIF GetProfiles + GetStreamUri "
            f"{_ms([t.onvif for t in alone])} ms, RTSP handshake until PLAY is sent "
            f"{_ms([t.rtsp for t in alone])} ms, then the keyframe after "
            f"{_ms([t.keyframe_wait for t in alone])} ms (median; "
            f"{_ms([t.keyframe_wait for t in alone], 'min')}..."
            f"{_ms([t.keyframe_wait for t in alone], 'max')})"
        )
        for error in cold.errors:
            print(f"  failed: {error}")


def _resolution(text: str) -> Resolution:
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT (e.g. 1280x720)")
    return Resolution(int(match[1]), int(match[2]))


async def run(args: argparse.Namespace) -> list[GopResult]:
    results = []
    with tempfile.TemporaryDirectory(prefix="platonicam-latency-") as folder:
        for codec in args.codecs:
            for gop in args.gops:
                results.append(await run_gop(Path(folder) / f"{codec}-gop{gop}", gop, codec, args))
    print_tables(results)
    return results


QUICK: dict[str, object] = {
    "trials": 4,
    "seconds": 4.0,
    "window": 3.0,
    "mse_viewers": [1, 50],
    "hls_viewers": [1, 50],
    "cold_trials": 3,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer trials and viewers (< 2 min)")
    parser.add_argument("--gops", nargs="+", type=int, default=[1, 4], help="GOP lengths, s")
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=["warm", "cold"],
        default=["warm"],
        help="warm: first bytes, latency, load rows; cold: cold start (about 5 min)",
    )
    parser.add_argument("--cold", action="store_true", help="same as --sections warm cold")
    parser.add_argument(
        "--codecs",
        nargs="+",
        choices=sorted(CODECS),
        default=["h264"],
        help="the device's codec, one pass each (load rows: H.264 only)",
    )
    parser.add_argument(
        "--h265-size",
        type=_resolution,
        default=Resolution(1920, 1080),
        help="picture size of the H.265 pass (default 1920x1080)",
    )
    parser.add_argument(
        "--no-audio", action="store_true", help="the camera sends video only (default: + AAC)"
    )
    parser.add_argument("--trials", type=int, default=10, help="first-bytes requests per path")
    parser.add_argument("--cold-trials", type=int, default=5, help="cold starts per row")
    parser.add_argument("--seconds", type=float, default=8.0, help="latency window per GOP")
    parser.add_argument("--window", type=float, default=6.0, help="measuring window per load row")
    parser.add_argument("--mse-viewers", nargs="+", type=int, default=[1, 10, 50, 100])
    parser.add_argument("--hls-viewers", nargs="+", type=int, default=[1, 50, 200])
    parser.add_argument(
        "--limit", type=float, help="stop the whole run after, s (default: 600 per section)"
    )
    args = parser.parse_args()
    if args.quick:  # only what the command line left at its default
        for name, value in QUICK.items():
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)
    if args.cold:
        args.sections = ["warm", "cold"]
    if min([*args.gops, args.trials, args.cold_trials]) < 1:
        parser.error("GOP lengths and trial counts must be positive")
    if min(args.mse_viewers + args.hls_viewers) < 1 or max(args.hls_viewers) > 1000:
        parser.error("viewer counts must be between 1 and 1000")
    if args.limit is None:
        args.limit = 600.0 * len(args.sections) * len(args.codecs)
    if shutil.which("ffmpeg") is None:
        parser.error("ffmpeg is not on PATH")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(asyncio.wait_for(run(args), args.limit))


if __name__ == "__main__":
    main()
