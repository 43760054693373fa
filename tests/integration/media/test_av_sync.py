"""Lip sync through the whole chain: the demo camera beeps at every whole second of its
clock and stamps every picture with its clock (the latency SEI); after our RTSP client,
hub and HLS muxer, ffmpeg records the playlist and the beep must play with the picture
of its second."""

from __future__ import annotations

import json
import statistics
from array import array
from pathlib import Path

import av
import pytest

from platonicam.rtsp.sei import parse_latency_sei
from platonicam.rtsp.stream import VideoCodec
from tests.integration.media.live_service import live_service, run

pytestmark = pytest.mark.timeout(240)

#: A sample louder than this is the beep (the device's beep peaks near 0.5; silence is ~0).
LOUD = 0.05
#: Samples of silence (at 48 kHz: 0.5 s) before a loud one for it to start a beep.
QUIET_BEFORE = 24_000


def picture_clock(path: Path) -> float:
    """Camera clock minus presentation time of the recording's pictures (their median):
    add it to a presentation time to get the camera's clock then."""
    differences: list[float] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.time_base is not None
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            data, pos = bytes(packet), 0
            while pos + 4 <= len(data):  # length-prefixed NAL units, as mp4 keeps them
                size = int.from_bytes(data[pos : pos + 4], "big")
                stamp = parse_latency_sei(data[pos + 4 : pos + 4 + size], VideoCodec.H264)
                pos += 4 + size
                if stamp is not None:
                    differences.append(stamp - float(packet.pts * stream.time_base))
    assert len(differences) > 50, "the recording's pictures carry no camera clock"
    # The spread is the device's own pacing jitter: small, or the picture clock is useless.
    assert max(differences) - min(differences) < 0.1
    return statistics.median(differences)


def beep_starts(path: Path) -> list[float]:
    """Presentation times (seconds) at which a beep starts in the recording's audio."""
    starts: list[float] = []
    quiet = 0
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            assert frame.format.name == "fltp"
            assert frame.pts is not None
            assert frame.time_base is not None
            first = float(frame.pts * frame.time_base)
            pcm = array("f")
            pcm.frombytes(bytes(frame.planes[0])[: frame.samples * 4])
            for index, value in enumerate(pcm):
                if abs(value) > LOUD:
                    if quiet >= QUIET_BEFORE:
                        starts.append(first + index / frame.sample_rate)
                    quiet = 0
                else:
                    quiet += 1
    return starts


async def test_the_beep_plays_with_the_picture_of_its_second(tmp_path: Path) -> None:
    recording = tmp_path / "six-seconds.mp4"
    async with live_service(tmp_path / "data") as service:
        caps = await service.client.get("/api/cameras/demo/capabilities", headers=service.headers)
        assert caps.json()["capabilities"]["audio"] is True  # its profiles stream the beep
        reply = await service.client.get("/api/cameras/demo/stream", headers=service.headers)
        plain = reply.json()["hls"]["plain"]
        code, _, err = await run(
            "ffmpeg", "-v", "error", "-nostdin", "-i", plain, "-t", "6",
            "-c", "copy", "-y", str(recording), timeout=120,
        )  # fmt: skip
        assert code == 0, err
    code, out, err = await run(
        "ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate",
        "-of", "json", str(recording), timeout=30,
    )  # fmt: skip
    assert code == 0, err
    assert [s["codec_name"] for s in json.loads(out)["streams"]] == ["h264", "aac"]
    clock = picture_clock(recording)
    starts = beep_starts(recording)
    assert len(starts) >= 4, starts  # a beep a second
    # Where each beep plays, on the camera's clock: on a whole second, give or take.
    offsets = [(start + clock) - round(start + clock) for start in starts]
    print(f"beep vs picture (ms): {[round(o * 1000, 1) for o in offsets]}")
    assert all(abs(offset) < 0.045 for offset in offsets), offsets
