"""The ingest's state machine and backoff, with scripted sources and a fake clock (no sockets)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator

import pytest

from platonicam.media.ingest import Backoff, Ingest, IngestState, IngestStatus
from platonicam.rtsp.errors import RtspAuthenticationError, RtspConnectionError
from platonicam.rtsp.stream import AccessUnit, StreamDescription, VideoCodec
from tests.conftest import FakeClock

SPS = bytes.fromhex("6742c01e8c8d40a02f2f00f08844")
PPS = bytes.fromhex("68ce3c80")
DESCRIPTION = StreamDescription(VideoCodec.H264, 320, 180, 25.0, (SPS, PPS))


class TestBackoff:
    def test_grows_exponentially_to_the_cap(self) -> None:
        backoff = Backoff(initial=0.5, factor=2.0, cap=4.0, jitter=0.0)
        assert [backoff.next() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
        backoff.reset()
        assert backoff.next() == 0.5

    def test_jitter_stays_within_its_band_and_under_the_cap(self) -> None:
        backoff = Backoff(initial=1.0, factor=2.0, cap=8.0, jitter=0.25, rng=random.Random(7))
        delays = [backoff.next() for _ in range(40)]
        assert 0.75 <= delays[0] <= 1.25
        assert all(d <= 8.0 for d in delays)
        assert len(set(delays)) > 20  # not in lockstep (only the clipped ones repeat 8.0)

    def test_rejects_nonsense(self) -> None:
        with pytest.raises(ValueError, match="initial > 0"):
            Backoff(initial=0)


class Scripted:
    """A source whose units the test feeds; ``fail_open`` makes open() raise."""

    def __init__(
        self, description: StreamDescription = DESCRIPTION, fail_open: Exception | None = None
    ) -> None:
        self.description = description
        self.malformed_packets = 0
        self.fail_open = fail_open
        self.queue: asyncio.Queue[AccessUnit | Exception] = asyncio.Queue()
        self.closed = False

    async def open(self) -> None:
        if self.fail_open is not None:
            raise self.fail_open

    async def access_units(self) -> AsyncIterator[AccessUnit]:
        while True:
            item = await self.queue.get()
            if isinstance(item, Exception):
                raise item
            yield item

    async def close(self) -> None:
        self.closed = True


def unit(ts: int, keyframe: bool = False) -> AccessUnit:
    nals = (SPS, PPS, b"\x65idr") if keyframe else (b"\x41p",)
    return AccessUnit(nals, ts, keyframe, 1000.0 + ts / 90_000)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0.01)


async def until(predicate: object, limit: float = 3.0) -> None:
    assert callable(predicate)
    async with asyncio.timeout(limit):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.005)


def make(sources: list[Scripted], clock: FakeClock, **kwargs: object) -> Ingest:
    queue = list(sources)

    def opener() -> Scripted:
        return queue.pop(0)

    return Ingest(
        "cam",
        "rtsp://admin:pw-never-shown@127.0.0.1/x",
        clock=clock,
        poll_interval=0.005,
        backoff=Backoff(initial=1.0, cap=8.0, jitter=0.0),
        opener=opener,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_drop_retry_live_with_continuous_timestamps(fake_clock: FakeClock) -> None:
    first, second = Scripted(), Scripted()
    ingest = make([first, second], fake_clock, stall_timeout=5.0)
    assert "pw-never-shown" not in repr(ingest)
    units = ingest.subscribe()
    reader = asyncio.ensure_future(anext(units))
    await until(lambda: ingest.state is IngestState.LIVE)
    first.queue.put_nowait(unit(3600))  # not a keyframe: the subscriber waits for one
    first.queue.put_nowait(unit(7200, keyframe=True))
    got = [await asyncio.wait_for(reader, 1)]
    first.queue.put_nowait(unit(10800))
    got.append(await asyncio.wait_for(anext(units), 1))
    fake_clock.advance(0.5)
    first.queue.put_nowait(RtspConnectionError("camera closed the connection"))
    await until(lambda: ingest.state is IngestState.RETRYING)
    assert ingest.status == IngestStatus(
        IngestState.RETRYING, "camera closed the connection", fake_clock.monotonic(), 0
    )
    assert first.closed
    await settle()
    assert ingest.state is IngestState.RETRYING  # the 1 s backoff is clock time
    fake_clock.advance(1.0)
    await until(lambda: ingest.state is IngestState.LIVE)
    second.queue.put_nowait(unit(500))  # a new session's clock starts anywhere
    second.queue.put_nowait(unit(4100, keyframe=True))
    got.append(await asyncio.wait_for(anext(units), 1))
    await units.aclose()
    await ingest.close()
    assert [(u.timestamp, u.keyframe) for u in got] == [
        (3600, True),  # the timeline starts at the session's first unit, delivered or not
        (7200, False),
        # 1.5 s of clock passed between the last unit and the new session's first
        # (unit 500), and the keyframe is 3600 ticks after that.
        (7200 + 135_000 + 3600, True),
    ]
    assert ingest.stats().reconnects == 1


async def test_stall_watchdog_reconnects(fake_clock: FakeClock) -> None:
    stalled, healthy = Scripted(), Scripted()
    ingest = make([stalled, healthy], fake_clock, stall_timeout=5.0, always_on=True)
    ingest.start()
    await until(lambda: ingest.state is IngestState.LIVE)
    fake_clock.advance(4.0)
    await settle()
    assert ingest.state is IngestState.LIVE
    fake_clock.advance(1.5)
    await until(lambda: ingest.state is IngestState.RETRYING)
    assert ingest.status.reason == "no video for 5.5 s (stall timeout 5.0 s)"
    assert stalled.closed
    fake_clock.advance(1.0)
    await until(lambda: ingest.state is IngestState.LIVE)
    await ingest.close()
    assert ingest.state is IngestState.IDLE


async def test_refused_login_is_failed_until_a_new_viewer(fake_clock: FakeClock) -> None:
    refused = Scripted(
        fail_open=RtspAuthenticationError("refused user 'admin'", status=401, method="DESCRIBE")
    )
    ingest = make([refused, Scripted()], fake_clock, always_on=True)
    ingest.start()
    await until(lambda: ingest.state is IngestState.FAILED)
    assert ingest.status.reason == "refused user 'admin'"
    await settle()
    assert ingest.state is IngestState.FAILED  # no retry loop against a wrong password
    units = ingest.subscribe()
    reader = asyncio.ensure_future(anext(units))
    await until(lambda: ingest.state is IngestState.LIVE)
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader
    await units.aclose()
    await ingest.close()


async def test_max_attempts_turns_retrying_into_failed(fake_clock: FakeClock) -> None:
    down = [Scripted(fail_open=RtspConnectionError("connection refused")) for _ in range(2)]
    ingest = make(down, fake_clock, always_on=True, max_attempts=2)
    ingest.start()
    await until(lambda: ingest.state is IngestState.RETRYING)
    fake_clock.advance(1.0)
    await until(lambda: ingest.state is IngestState.FAILED)
    assert ingest.status.reason == "2 attempts failed; last: connection refused"
    await ingest.close()


async def test_idle_close_after_the_last_viewer(fake_clock: FakeClock) -> None:
    source = Scripted()
    ingest = make([source], fake_clock, idle_timeout=10.0)
    units = ingest.subscribe()
    reader = asyncio.ensure_future(anext(units))
    await until(lambda: ingest.state is IngestState.LIVE)
    source.queue.put_nowait(unit(0, keyframe=True))
    await asyncio.wait_for(reader, 1)
    await units.aclose()
    fake_clock.advance(4.0)
    source.queue.put_nowait(unit(3600))  # keeps the watchdog quiet
    await settle()
    assert ingest.state is IngestState.LIVE
    fake_clock.advance(6.0)
    await until(lambda: ingest.state is IngestState.IDLE)
    assert source.closed
    await ingest.close()


async def test_changed_parameter_sets_get_a_new_generation(fake_clock: FakeClock) -> None:
    first = Scripted()
    other = StreamDescription(VideoCodec.H264, 320, 180, 25.0, (SPS, bytes.fromhex("68ee3c81")))
    second = Scripted(other)
    ingest = make([first, second], fake_clock)
    units = ingest.subscribe()
    reader = asyncio.ensure_future(anext(units))  # a generator subscribes when first iterated
    await until(lambda: ingest.state is IngestState.LIVE)
    assert ingest.description.generation == 0
    first.queue.put_nowait(RtspConnectionError("dropped"))
    await until(lambda: ingest.state is IngestState.RETRYING)
    fake_clock.advance(1.0)
    await until(lambda: ingest.state is IngestState.LIVE)
    second.queue.put_nowait(unit(0, keyframe=True))
    got = await asyncio.wait_for(reader, 1)
    assert got.generation == 1
    assert ingest.description == StreamDescription(
        VideoCodec.H264, 320, 180, 25.0, other.parameter_sets, generation=1
    )
    await units.aclose()
    await ingest.close()
