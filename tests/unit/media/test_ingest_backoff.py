"""Only a session that delivered video earns a fresh backoff: a camera that answers PLAY and
then sends garbage or nothing is retried ever more slowly (scripted sources, fake clock)."""

from __future__ import annotations

from platonicam.media.ingest import IngestState
from platonicam.rtsp.errors import RtpError
from tests.conftest import FakeClock
from tests.unit.media.test_ingest import Scripted, make, settle, unit, until


async def reconnects_after(ingest_source: Scripted, clock: FakeClock, delay: float) -> None:
    """The next session opens only once ``delay`` clock seconds have passed, not before."""
    clock.advance(delay - 0.01)
    await settle()
    assert not ingest_source.opened
    clock.advance(0.01)
    await until(lambda: ingest_source.opened)


class Counted(Scripted):
    """A scripted source that says when it was opened."""

    opened = False

    async def open(self) -> None:
        self.opened = True
        await super().open()


async def test_sessions_without_video_back_off_and_video_resets(fake_clock: FakeClock) -> None:
    sources = [Counted() for _ in range(5)]
    ingest = make(sources, fake_clock, stall_timeout=5.0, always_on=True)  # backoff 1, 2, 4...
    ingest.start()
    # Garbage: PLAY answered, then the malformed-packet budget is spent. No video came.
    await until(lambda: ingest.state is IngestState.LIVE)
    sources[0].queue.put_nowait(RtpError("51 of the last 51 RTP packets were malformed"))
    await until(lambda: ingest.state is IngestState.RETRYING)
    await reconnects_after(sources[1], fake_clock, 1.0)
    # A stall: nothing at all for the stall timeout.
    fake_clock.advance(5.5)
    await until(lambda: ingest.status.reason == "no video for 5.5 s (stall timeout 5.0 s)")
    await reconnects_after(sources[2], fake_clock, 2.0)  # doubled: no video since the last try
    sources[2].queue.put_nowait(RtpError("malformed again"))
    await until(lambda: ingest.status.reason == "malformed again")
    await reconnects_after(sources[3], fake_clock, 4.0)
    # This session delivers video, then drops: the next try is quick again.
    sources[3].queue.put_nowait(unit(0, keyframe=True))
    await until(lambda: ingest.stats().access_units == 1)
    sources[3].queue.put_nowait(RtpError("dropped after video"))
    await until(lambda: ingest.status.reason == "dropped after video")
    await reconnects_after(sources[4], fake_clock, 1.0)
    await ingest.close()
