"""AAC audio through the gateway: Debian's GStreamer RTSP server sends H.264 + AAC,
our ingest and hub mux both tracks, and the independent ffprobe reads the LL-HLS
playlist with both streams; MSE viewers get audio messages among the video frames."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
import websockets

from platonicam.media.gateway import Feed, Gateway
from platonicam.media.hub import Hub, MediaFrame
from platonicam.media.ingest import Backoff, Ingest
from tests.integration.media.gst import gst_server, needs_gstreamer
from tests.integration.media.live_service import live_service, run
from tests.unit.media.boxes import root

pytestmark = [pytest.mark.timeout(180), needs_gstreamer]


def write_playlist(hub: Hub, folder: Path) -> Path:
    """The hub's LL-HLS playlist and every file it names, as a player would fetch them."""
    text = hub.render()
    for name in set(re.findall(r'URI="([^"]+)"', text)) | set(
        re.findall(r"^([^#\s].*)$", text, re.M)
    ):
        if match := re.fullmatch(r"init-(\d+)\.mp4", name):
            epoch = hub.epoch_by_number(int(match[1]))
            assert epoch is not None
            data = epoch.init
        elif match := re.fullmatch(r"p(\d+)-(\d+)\.(\d+)\.m4s", name):
            part = hub.part(int(match[1]), int(match[2]), int(match[3]))
            if part is None:
                continue  # a preload hint: not there yet
            data = part.data
        elif match := re.fullmatch(r"s(\d+)-(\d+)\.m4s", name):
            segment = hub.segment(int(match[1]), int(match[2]))
            assert segment is not None, name
            data = segment
        else:
            raise AssertionError(f"unexpected playlist entry {name!r}")
        (folder / name).write_bytes(data)
    playlist = folder / "index.m3u8"
    # Kept as a finished recording of the live playlist, so ffprobe reads it to the end
    # instead of waiting for more.
    playlist.write_text(text + "#EXT-X-ENDLIST\n")
    return playlist


async def test_ffprobe_reads_video_and_aac_audio_from_the_ll_hls_playlist(
    tmp_path: Path,
) -> None:
    async with gst_server("h264", 25, audio=True) as url:

        async def open_feed(camera_id: str) -> Feed:
            return Ingest(camera_id, url, timeout=5, backoff=Backoff(initial=0.2, cap=1.0))

        gateway = Gateway(open_feed, idle_timeout=5, poll_interval=0.1)
        async with gateway:
            hub = await gateway.hub("av")
            epoch = await hub.wait_ready(30)
            assert epoch.audio is not None
            assert (epoch.audio.sample_rate, epoch.audio.channels) == (48_000, 2)
            assert re.fullmatch(r'video/mp4; codecs="avc1\.[0-9A-F]{6},mp4a\.40\.2"', epoch.mime)
            assert json.loads(epoch.message)["mime"] == epoch.mime
            # An MSE viewer's frames carry the audio that came with them.
            viewer = hub.frame_viewer()
            frames: list[MediaFrame] = []
            async with asyncio.timeout(30):
                while sum(f.audio_frames for f in frames) < 40:
                    item = await viewer.next()
                    assert item is not None
                    if isinstance(item, MediaFrame):
                        frames.append(item)
            assert frames[0].keyframe
            # ~47 AAC frames a second beside 25 video frames: about two per message.
            assert 1.2 < sum(f.audio_frames for f in frames[1:]) / len(frames[1:]) < 2.6
            # Two full segments, then the playlist goes to ffprobe.
            parts = hub.viewer()
            async with asyncio.timeout(30):
                while sum(p.ends_segment for p in hub.parts()) < 2:
                    assert await parts.next() is not None
            playlist = write_playlist(hub, tmp_path)

    code, out, err = await run(
        "ffprobe", "-v", "error", "-count_packets",
        "-show_entries", "stream=codec_type,codec_name,sample_rate,channels,nb_read_packets",
        "-of", "json", str(playlist), timeout=60,
    )  # fmt: skip
    assert code == 0, err
    streams = {s["codec_type"]: s for s in json.loads(out)["streams"]}
    assert streams["video"]["codec_name"] == "h264"
    assert streams["audio"]["codec_name"] == "aac"
    assert (streams["audio"]["sample_rate"], streams["audio"]["channels"]) == ("48000", 2)
    # ~47 AAC frames a second, 25 video frames: both tracks carry packets.
    assert int(streams["video"]["nb_read_packets"]) >= 25
    assert int(streams["audio"]["nb_read_packets"]) >= 40


async def test_a_camera_with_sound_plays_through_the_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo camera's ONVIF side, its stream read from ``stream_url`` (the GStreamer
    camera with sound): MSE viewers get both tracks, HLS players are told both codecs."""
    async with gst_server("h264", 25, audio=True) as url:
        monkeypatch.setenv("PLATONICAM_MEDIA__CAMERAS", json.dumps({"demo": {"stream_url": url}}))
        async with live_service(tmp_path / "data") as service:
            reply = await service.client.get("/api/cameras/demo/stream", headers=service.headers)
            urls = reply.json()
            async with websockets.connect(urls["mse"], max_size=2**24) as ws:
                head = json.loads(await asyncio.wait_for(ws.recv(), 60))
                # 320x180 is the GStreamer camera's picture, not the demo device's 1080p.
                assert (head["type"], head["width"], head["height"]) == ("init", 320, 180)
                assert head["mime"].endswith(',mp4a.40.2"'), head["mime"]
                init = await asyncio.wait_for(ws.recv(), 10)
                assert isinstance(init, bytes)
                moov = root(init).child("moov")
                handlers = [
                    trak.child("mdia").child("hdlr").payload[8:12] for trak in moov.all("trak")
                ]
                assert handlers == [b"vide", b"soun"]
                tracks: list[list[int]] = []
                async with asyncio.timeout(30):
                    while sum(2 in t for t in tracks) < 20:
                        message = await ws.recv()
                        assert isinstance(message, bytes)
                        moof = root(message).child("moof")
                        tracks.append([t.child("tfhd").field(">I", 4)[0] for t in moof.all("traf")])
                # Every message is a video frame (track 1); most carry audio (track 2) too.
                assert all(t[0] == 1 for t in tracks)
                assert sum(t == [1, 2] for t in tracks) >= 20
            master = await service.client.get(urls["hls"]["multivariant"])
            assert master.status_code == 200, master.text
            assert re.search(r'CODECS="avc1\.[0-9A-F]{6},mp4a\.40\.2"', master.text), master.text
