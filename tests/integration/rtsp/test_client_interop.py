"""Our RTSP client against an independent server (GStreamer), and against an independent client.

The oracle: for the same stream, the access units our depacketizer builds must
equal the packets FFmpeg demuxes (through PyAV), NAL unit for NAL unit, over a
window that starts at a keyframe. Both clients watch at once; the GStreamer
media is shared and our server packetizes once for everyone, so both get the
same pictures.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Sequence

import av
import av.container
import pytest

from platonicam.device.source import EncoderSettings, TestPatternStream
from platonicam.rtsp import h264, h265
from platonicam.rtsp.client import RtspClient
from platonicam.rtsp.errors import RtspConnectionError
from platonicam.rtsp.server import RtspServer
from platonicam.rtsp.stream import AccessUnit, VideoCodec
from tests.integration.media.gst import gst_server, needs_gstreamer
from tests.integration.rtsp.pattern import split_annexb

Nals = tuple[bytes, ...]


def pyav_packets(url: str, count: int, stop: threading.Event) -> list[tuple[Nals, bool]]:
    """``count`` access units as (NAL units, keyframe), read by FFmpeg over TCP (blocking).

    Consecutive packets with the same PTS are joined: GStreamer's payloader repeats
    SPS/PPS before *each* slice of a multi-slice IDR, and FFmpeg's H.264 parser
    (rightly, by H.264 §7.4.1.2.3) starts a new packet at an SPS that follows a
    slice; RTP says they are one picture (one timestamp), and so do we.
    """
    out: list[tuple[Nals, bool]] = []
    last_pts: int | None = None
    container = av.open(url, options={"rtsp_transport": "tcp"}, timeout=(10.0, 10.0))
    assert isinstance(container, av.container.InputContainer)
    try:
        for packet in container.demux(container.streams.video[0]):
            if packet.size == 0:
                continue
            nals = tuple(split_annexb(bytes(packet)))
            if out and packet.pts is not None and packet.pts == last_pts:
                previous, keyframe = out[-1]
                out[-1] = (previous + nals, keyframe or bool(packet.is_keyframe))
                continue
            if len(out) >= count or stop.is_set():
                break
            out.append((nals, bool(packet.is_keyframe)))
            last_pts = packet.pts
    finally:
        container.close()
    return out


async def ours(url: str, count: int) -> list[AccessUnit]:
    units: list[AccessUnit] = []
    async with RtspClient(url, timeout=10) as client, asyncio.timeout(30):
        async for unit in client.access_units():
            units.append(unit)
            if len(units) >= count:
                break
    return units


def aligned_window(mine: Sequence[AccessUnit], theirs: Sequence[tuple[Nals, bool]]) -> int:
    """The length of the longest run, starting at one of our keyframes, that equals theirs."""
    best = 0
    for start, unit in enumerate(mine):
        if not unit.keyframe:
            continue
        for other_start, (nals, keyframe) in enumerate(theirs):
            if nals != unit.nal_units:
                continue
            assert keyframe, "FFmpeg must flag the same unit as a keyframe"
            length = 0
            for a, b in zip(mine[start:], theirs[other_start:], strict=False):
                if a.nal_units != b[0] or a.keyframe != b[1]:
                    pytest.fail(f"unit {start + length} differs from FFmpeg's after {length} equal")
                length += 1
            best = max(best, length)
    return best


async def compare_with_pyav(url: str, count: int) -> int:
    stop = threading.Event()
    theirs_task = asyncio.create_task(asyncio.to_thread(pyav_packets, url, count, stop))
    try:
        mine = await ours(url, count)
    finally:
        stop.set()
    theirs = await asyncio.wait_for(theirs_task, 30)
    return aligned_window(mine, theirs)


@pytest.mark.parametrize("codec", [VideoCodec.H264, VideoCodec.H265])
async def test_our_units_equal_ffmpeg_packets_from_our_server(codec: VideoCodec) -> None:
    stream = await TestPatternStream.create(
        EncoderSettings(codec, 320, 180, 25.0, 300, 25), f"oracle {codec}"
    )
    async with RtspServer() as server:
        server.mount("cam", stream)
        window = await compare_with_pyav(server.url("cam"), 75)
    # At least two whole GOPs compared, from a keyframe on.
    assert window >= 50


@needs_gstreamer
@pytest.mark.parametrize("codec", ["h264", "h265"])
async def test_our_units_equal_ffmpeg_packets_from_gstreamer(codec: str) -> None:
    # GStreamer's shared x265 pipeline, encoding 1080p-class work for two clients on a busy
    # two-core machine, has once dropped a client mid-stream in CI ("closed the connection").
    # That is the peer's hiccup, not a depacketizing difference: one fresh server and one
    # more comparison; a second drop, or any difference in the units, still fails.
    try:
        async with gst_server(codec, 25) as url:
            window = await compare_with_pyav(url, 100)
    except RtspConnectionError:
        async with gst_server(codec, 25) as url:
            window = await compare_with_pyav(url, 100)
    assert window >= 50


@needs_gstreamer
@pytest.mark.parametrize(("codec", "gop"), [("h264", 25), ("h264", 100), ("h265", 25)])
async def test_gstreamer_parameter_sets_join_the_idr(codec: str, gop: int) -> None:
    module = h264 if codec == "h264" else h265
    async with gst_server(codec, gop) as url, RtspClient(url, timeout=10) as client:
        sprop = client.description.parameter_sets
        units: list[AccessUnit] = []
        async with asyncio.timeout(gop / 25 * 2 + 10):
            async for unit in client.access_units():
                units.append(unit)
                if sum(u.keyframe for u in units) == 3:
                    break
        described = client.description
    assert described.codec is (VideoCodec.H264 if codec == "h264" else VideoCodec.H265)
    sets = sorted(module.PARAMETER_SET_TYPES)
    assert sorted(module.nal_type(n) for n in sprop) == sets
    keyframes = [u for u in units if u.keyframe]
    assert len(keyframes) == 3
    for unit in keyframes:
        kinds = [module.nal_type(n) for n in unit.nal_units]
        # GStreamer sends each parameter set as its own packet with the IDR's
        # timestamp; they arrive merged into the IDR's access unit, before the slice.
        idr = h264.IDR if codec == "h264" else 19
        first_slice = kinds.index(idr) if idr in kinds else kinds.index(20)
        assert set(sets) <= set(kinds[:first_slice])
    gaps = [b.timestamp - a.timestamp for a, b in itertools.pairwise(units)]
    assert set(gaps) == {3600}
    between = [i for i, u in enumerate(units) if u.keyframe]
    assert between[2] - between[1] == gop
    # The in-band parameter sets describe the stream from the first keyframe on.
    assert sorted(module.nal_type(n) for n in described.parameter_sets) == sets
