"""AAC audio through the hub: two-track init, parts with both tracks, MSE audio messages."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from platonicam.media.fmp4 import AUDIO_TRACK_ID, VIDEO_TRACK_ID
from platonicam.media.hub import Epoch, Hub, MediaFrame, MediaPart
from platonicam.rtsp.stream import AccessUnit, AudioDescription, AudioFrame, StreamDescription
from tests.unit.media.boxes import Box, parse, root
from tests.unit.media.test_hub import ScriptedSource, drain_frames, feed, stream

AAC_LC_48K_STEREO = bytes([0x11, 0x90])
RATE = 48_000
START = 1_767_323_045.0  # the wall clock of the first video unit (see test_hub.stream)


class SoundSource(ScriptedSource):
    """A scripted stream that also has an AAC track (as an Ingest has)."""

    def __init__(self, description: StreamDescription) -> None:
        super().__init__(description)
        self.audio: AudioDescription | None = AudioDescription("AAC", RATE, 2, AAC_LC_48K_STEREO)
        self.frames: asyncio.Queue[AudioFrame | None] = asyncio.Queue()
        #: One entry per frame the hub has taken (the generator resumes after push_audio).
        self.taken: asyncio.Queue[AudioFrame] = asyncio.Queue()

    async def subscribe_audio(self) -> AsyncIterator[AudioFrame]:
        while (frame := await self.frames.get()) is not None:
            yield frame
            self.taken.put_nowait(frame)


def audio_frame(index: int, rtp_offset: int = 5_000, early: float = 0.1) -> AudioFrame:
    """The ``index``-th AAC frame of a track that started ``early`` s before the video."""
    payload = bytes([0x21, index % 256]) + bytes(20)
    return AudioFrame(payload, rtp_offset + index * 1024, START - early + index * 1024 / RATE)


def interleave(hub: Hub, units: list[AccessUnit], frames: list[AudioFrame]) -> list[MediaPart]:
    """Push video and audio in wall-clock order, as a camera's packets arrive."""
    parts: list[MediaPart] = []
    pending = list(frames)
    for unit in units:
        while pending and pending[0].wallclock < unit.wallclock:
            hub.push_audio(pending.pop(0))
        parts += feed(hub, [unit])
    return parts


def traf(moof: Box, track: int) -> Box:
    (found,) = [t for t in moof.all("traf") if t.child("tfhd").field(">I", 4)[0] == track]
    return found


def test_init_segment_has_video_and_audio_tracks() -> None:
    description, units = stream(10)
    hub = Hub("cam", SoundSource(description))
    feed(hub, units[:1])
    epoch = hub.epoch
    assert epoch is not None
    assert epoch.audio is not None
    moov = root(epoch.init).child("moov")
    tracks = moov.all("trak")
    assert [t.child("tkhd").field(">I", 12)[0] for t in tracks] == [1, 2]
    assert tracks[1].child("mdia/hdlr").payload[8:12] == b"soun"
    assert tracks[1].child("mdia/minf/stbl/stsd").children[0].kind == "mp4a"
    assert epoch.mime.endswith(',mp4a.40.2"')
    assert json.loads(epoch.message)["mime"] == epoch.mime


def test_parts_carry_the_audio_of_their_time() -> None:
    description, units = stream(60)
    hub = Hub("cam", SoundSource(description))
    # 2.4 s of video; audio from 0.1 s before the video's first keyframe.
    frames = [audio_frame(i) for i in range(120)]
    parts = interleave(hub, units, frames)
    assert len(parts) >= 5
    audio_decodes: list[int] = []
    for part in parts:
        (moof,) = [b for b in parse(part.data) if b.kind == "moof"]
        video = traf(moof, VIDEO_TRACK_ID)
        video_start = video.child("tfdt").field(">Q", 4)[0]
        assert video_start * RATE // 90_000 <= part.end * RATE // 90_000
        trafs = moof.all("traf")
        if len(trafs) == 1:
            continue
        audio = traf(moof, AUDIO_TRACK_ID)
        start = audio.child("tfdt").field(">Q", 4)[0]
        count = audio.child("trun").field(">I", 4)[0]
        # Every audio frame starts before its part's end, on the video's timeline.
        last = start + (count - 1) * 1024
        assert last * 90_000 < (video_start + part.duration) * RATE
        audio_decodes += [start + 1024 * i for i in range(count)]
        # The mdat holds both runs: video then audio, as the trun offsets say.
        mdat = next(b for b in parse(part.data) if b.kind == "mdat")
        offset = audio.child("trun").field(">i", 8)[0]
        moof_size = len(moof.payload) + 8
        assert mdat.payload[offset - moof_size - 8 : offset - moof_size - 6][0] == 0x21
    # Frames before the first keyframe are gone; the rest are there, in order, 1024 apart.
    assert audio_decodes, "no part carried audio"
    # Frame 5 is the first at or after time 0: 5 * 1024 - 0.1 s * 48 kHz.
    assert audio_decodes[0] == 5 * 1024 - 4800
    assert audio_decodes == list(range(audio_decodes[0], audio_decodes[-1] + 1, 1024))


async def test_mse_frames_carry_the_audio_that_came_before_them() -> None:
    description, units = stream(10)
    hub = Hub("cam", SoundSource(description))
    interleave(hub, units, [audio_frame(i, early=0.0) for i in range(15)])
    items = await drain_frames(hub.frame_viewer())
    assert isinstance(items[0], Epoch)
    assert items[0].audio is not None
    frames = [item for item in items[1:] if isinstance(item, MediaFrame)]
    # One message per video frame: the audio rides along, never alone.
    assert len(frames) == 10
    assert frames[0].keyframe
    assert frames[0].audio_frames == 0  # nothing came before the first keyframe's time
    decodes: list[int] = []
    for frame in frames:
        boxes = parse(frame.data)
        assert [b.kind for b in boxes] == ["prft", "moof", "mdat"]
        prft, moof, mdat = boxes
        assert prft.field(">I", 4)[0] == VIDEO_TRACK_ID
        assert prft.field(">Q", 16)[0] == frame.decode_time
        assert moof.child("mfhd").field(">I", 4)[0] == frame.order + 1
        trafs = moof.all("traf")
        assert traf(moof, VIDEO_TRACK_ID).child("tfdt").field(">Q", 4)[0] == frame.decode_time
        if frame.audio_frames == 0:
            assert len(trafs) == 1
            continue
        sound = traf(moof, AUDIO_TRACK_ID)
        first = sound.child("tfdt").field(">Q", 4)[0]
        trun = sound.child("trun")
        assert trun.field(">I", 4)[0] == frame.audio_frames
        decodes += [first + 1024 * k for k in range(frame.audio_frames)]
        # The audio data follows the video sample in the mdat: each AAC frame starts 0x21.
        video_size = traf(moof, VIDEO_TRACK_ID).child("trun").field(">I", 16)[0]
        assert mdat.payload[video_size] == 0x21
        # Each AAC frame came before this video frame (they arrive in wall-clock order).
        assert first / RATE <= frame.decode_time / 90_000
    # Every AAC frame that came before the last video frame went out, once, in order.
    assert decodes == [1024 * i for i in range(len(decodes))]
    assert len(decodes) >= 14


async def test_hub_reads_audio_from_its_source() -> None:
    description, units = stream(10)
    source = SoundSource(description)
    hub = Hub("cam", source)
    hub.start()
    viewer = hub.frame_viewer()
    try:
        await source.queue.put(units[0])
        async with asyncio.timeout(10):
            assert isinstance(await viewer.next(), Epoch)
            video = await viewer.next()
            assert isinstance(video, MediaFrame)
            assert video.audio_frames == 0
            await source.frames.put(audio_frame(0, early=0.0))
            await source.frames.put(audio_frame(1, early=0.0))
            for _ in range(2):
                await source.taken.get()
            await source.queue.put(units[1])
            sound = await viewer.next()
        assert isinstance(sound, MediaFrame)
        assert sound.audio_frames == 2
    finally:
        await hub.close()


def test_audio_before_the_first_keyframe_and_without_an_audio_track_is_dropped() -> None:
    description, units = stream(5)
    hub = Hub("cam", SoundSource(description))
    assert hub.push_audio(audio_frame(0)) is None  # no epoch yet
    feed(hub, units[:1])
    assert hub.push_audio(audio_frame(0)) is None  # 0.1 s before time 0
    plain = Hub("cam", ScriptedSource(description))
    feed(plain, units[:1])
    assert plain.epoch is not None
    assert plain.epoch.audio is None
    assert plain.push_audio(audio_frame(0, early=0.0)) is None
    assert "mp4a" not in plain.epoch.mime


def test_a_changed_audio_track_opens_a_new_epoch_at_the_next_keyframe() -> None:
    description, units = stream(60)  # keyframes at 0, 25, 50
    source = SoundSource(description)
    hub = Hub("cam", source)
    feed(hub, units[:10])
    first = hub.epoch
    assert first is not None
    assert first.audio is not None
    assert first.audio.sample_rate == RATE
    # The camera came back with 44.1 kHz audio (video unchanged): the delta frames
    # still join the old epoch, the keyframe opens one whose init has the new track.
    source.audio = AudioDescription("AAC", 44_100, 2, bytes([0x12, 0x10]))
    feed(hub, units[10:25])
    assert hub.epoch is first
    feed(hub, units[25:26])
    second = hub.epoch
    assert second is not None
    assert second.number == first.number + 1
    assert second.audio is not None
    assert second.audio.sample_rate == 44_100
    assert "mp4a.40.2" in second.mime
    # The track went away: the next keyframe's epoch is video only.
    source.audio = None
    feed(hub, units[26:51])
    third = hub.epoch
    assert third is not None
    assert third.number == second.number + 1
    assert third.audio is None
    assert "mp4a" not in third.mime


def test_audio_after_an_rtp_clock_jump_is_placed_by_its_wall_clock() -> None:
    """After a reconnect the RTP timestamps start anywhere: the frames go on from where
    their wall clock says, never backwards and never on top of earlier ones."""
    description, units = stream(50)
    hub = Hub("cam", SoundSource(description))
    feed(hub, units[:1])
    before = [hub.push_audio(audio_frame(i, early=0.0)) for i in range(10)]
    assert before == [1024 * i for i in range(10)]
    # Same wall clock progression, RTP time restarted far away.
    jumped = [
        AudioFrame(f.data, 7_000_000 + (i - 20) * 1024, f.wallclock)
        for i, f in ((i, audio_frame(i, early=0.0)) for i in range(20, 25))
    ]
    after = [hub.push_audio(frame) for frame in jumped]
    assert after == [1024 * i for i in range(20, 25)]
    # A frame whose wall clock (and RTP time) would land on audio already sent is dropped.
    stale = audio_frame(3, early=0.0)
    assert hub.push_audio(AudioFrame(stale.data, 9_000_000, stale.wallclock)) is None


def test_an_unreadable_audio_config_leaves_the_video_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    description, units = stream(5)
    source = SoundSource(description)
    source.audio = AudioDescription("AAC", RATE, 2, b"\x00")  # too short to be a config
    hub = Hub("cam", source)
    feed(hub, units[:2])
    epoch = hub.epoch
    assert epoch is not None
    assert epoch.audio is None
    assert "mp4a" not in epoch.mime
    assert "ignoring its AAC track" in caplog.text
    assert hub.push_audio(audio_frame(0, early=0.0)) is None
