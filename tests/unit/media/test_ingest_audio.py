"""The ingest's AAC track: described for the muxer and fanned out beside the video
(scripted sources and a fake clock, no sockets)."""

from __future__ import annotations

import asyncio

from platonicam.media.ingest import AUDIO_QUEUE_SIZE, IngestState
from platonicam.rtsp.stream import AudioDescription, AudioFrame
from tests.conftest import FakeClock
from tests.unit.media.test_ingest import make, unit, until
from tests.unit.media.test_ingest_metadata import WithMetadata, put


class WithAudio(WithMetadata):
    """A scripted RTSP session with an AAC track and no metadata track."""

    has_metadata = False
    audio = AudioDescription("AAC", 48_000, 2, bytes([0x11, 0x90]))


def sound(n: int) -> AudioFrame:
    return AudioFrame(bytes([0x21, n]), n * 1024, 1000.0 + n * 1024 / 48_000)


async def test_audio_fans_out_beside_the_video(fake_clock: FakeClock) -> None:
    source = WithAudio()
    ingest = make([source], fake_clock)
    assert ingest.audio is None
    listener = ingest.subscribe_audio()
    units = ingest.subscribe()
    heard = asyncio.ensure_future(anext(listener))
    video = asyncio.ensure_future(anext(units))
    await until(lambda: ingest.state is IngestState.LIVE)
    assert ingest.audio is not None
    assert (ingest.audio.sample_rate, ingest.audio.channels) == (48_000, 2)
    assert ingest.audio.config == bytes([0x11, 0x90])
    put(source, sound(0))
    put(source, unit(0, keyframe=True))
    put(source, sound(1))
    assert (await asyncio.wait_for(heard, 1)).data == bytes([0x21, 0])
    assert (await asyncio.wait_for(video, 1)).keyframe
    assert (await asyncio.wait_for(anext(listener), 1)).timestamp == 1024
    assert ingest.stats().access_units == 1  # audio is not video
    await ingest.close()
    assert [f async for f in listener] == []


async def test_a_slow_audio_reader_loses_the_oldest_frames(fake_clock: FakeClock) -> None:
    source = WithAudio()
    ingest = make([source], fake_clock)
    listener = ingest.subscribe_audio()
    first = asyncio.ensure_future(anext(listener))
    await asyncio.sleep(0)  # the reader is registered (and waits)
    units = ingest.subscribe()
    video = asyncio.ensure_future(anext(units))
    await until(lambda: ingest.state is IngestState.LIVE)
    put(source, unit(0, keyframe=True))
    await asyncio.wait_for(video, 1)
    for n in range(AUDIO_QUEUE_SIZE + 11):
        put(source, sound(n % 256))
    await until(lambda: source.queue.empty())
    # The queue kept the newest frames: the oldest 11 are gone.
    assert (await asyncio.wait_for(first, 1)).data == bytes([0x21, 11])
    assert (await asyncio.wait_for(anext(listener), 1)).data == bytes([0x21, 12])
    await ingest.close()


async def test_a_session_without_audio_has_none(fake_clock: FakeClock) -> None:
    source = WithMetadata()
    ingest = make([source], fake_clock)
    units = ingest.subscribe()
    video = asyncio.ensure_future(anext(units))
    await until(lambda: ingest.state is IngestState.LIVE)
    put(source, unit(0, keyframe=True))
    await asyncio.wait_for(video, 1)
    assert ingest.audio is None
    await ingest.close()
