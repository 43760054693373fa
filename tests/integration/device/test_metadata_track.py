"""The reference device's ONVIF metadata track, read by our RTSP client and beside ffprobe.

Every profile's RTSP URL carries, after the video, an ``m=application``
``vnd.onvif.metadata`` track with the simulated detection of the test
pattern's moving square (see :mod:`platonicam.device.metadata`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from platonicam.device.runtime import DeviceRuntime
from platonicam.onvif.notification import parse_metadata_stream
from platonicam.rtsp.client import RtspClient, TransportMode
from platonicam.rtsp.metadata import MetadataDocument
from platonicam.rtsp.stream import AccessUnit, AudioFrame
from tests.integration.rtsp.conftest import FFPROBE, ffprobe_stream

PASSWORD = "metadata-admin-secret"
PATH = "profile/Profile_1_main"


def runtime(data_dir: Path) -> DeviceRuntime:
    return DeviceRuntime(data_dir, "127.0.0.1", 0, 0, discovery_port=0, admin_password=PASSWORD)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
async def test_client_reads_the_moving_human(tmp_path: Path, transport: TransportMode) -> None:
    async with runtime(tmp_path) as device:
        url = f"rtsp://127.0.0.1:{device.rtsp_port}/{PATH}"
        documents: list[MetadataDocument] = []
        units = 0
        async with RtspClient(
            url, "admin", PASSWORD, transport=transport, metadata=True, timeout=10
        ) as client:
            assert client.has_metadata
            width, height = client.description.width, client.description.height
            async for item in client.media():
                if isinstance(item, MetadataDocument):
                    documents.append(item)
                elif isinstance(item, AccessUnit):
                    units += 1
                if len(documents) == 6:
                    break
    assert units > 0  # the video still flows beside the metadata
    frames = [parse_metadata_stream(d.xml) for d in documents]
    for frame, document in zip(frames, documents, strict=True):
        (obj,) = frame.objects
        assert (obj.object_id, obj.object_class) == (1, "Human")
        assert obj.likelihood in (0.91, 0.93, 0.95, 0.92, 0.9)
        assert frame.utc_time is not None
        # The sender report maps RTP time to the document's own UtcTime.
        assert document.wallclock == pytest.approx(frame.utc_time.timestamp(), abs=0.01)
        box = obj.box
        assert box is not None
        # The square is a quarter of the picture high, vertically centred.
        side = max(8, (height // 4) & ~1)
        assert box.top - box.bottom == pytest.approx(2 * side / height)
        assert box.right - box.left == pytest.approx(2 * side / width)
        assert (box.top + box.bottom) / 2 == pytest.approx(0.0, abs=2 / height)
        assert -1.0 <= box.left < box.right <= 1.0
    # Five documents a second, and the box moves between them.
    span = documents[-1].wallclock - documents[0].wallclock
    assert 0.8 <= span <= 1.6
    assert len({round(f.objects[0].box.left, 6) for f in frames if f.objects[0].box}) > 1
    assert [d.timestamp for d in documents] == sorted(d.timestamp for d in documents)


@pytest.mark.skipif(not Path(FFPROBE).exists(), reason="Debian ffprobe is not installed")
@pytest.mark.parametrize("transport", ["tcp", "udp"])
async def test_ffprobe_still_reads_the_video(tmp_path: Path, transport: str) -> None:
    async with runtime(tmp_path) as device:
        url = f"rtsp://admin:{PASSWORD}@127.0.0.1:{device.rtsp_port}/{PATH}"
        info = await ffprobe_stream(url, transport)
    assert info["codec_name"] == "h264"
    assert (info["width"], info["height"]) == (1920, 1080)


async def test_client_without_metadata_sets_up_video_only(tmp_path: Path) -> None:
    async with runtime(tmp_path) as device:
        url = f"rtsp://127.0.0.1:{device.rtsp_port}/{PATH}"
        async with RtspClient(url, "admin", PASSWORD) as client:
            assert not client.has_metadata
            # Video (and the device's AAC beep), no metadata track.
            assert [t.kind for t in client.handshake.tracks if t.kind != "audio"] == ["video"]
            kinds: set[type] = set()
            count = 0
            async for item in client.media():
                kinds.add(type(item))
                count += 1
                if count == 40:  # well over a second: several documents, were they sent
                    break
    assert kinds - {AudioFrame} == {AccessUnit}
