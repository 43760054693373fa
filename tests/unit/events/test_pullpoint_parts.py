"""The PullPoint manager's pure parts: renewal timing, backoff, de-duplication, options."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from platonicam.events.model import Event, EventKind
from platonicam.events.pullpoint import Backoff, Deduplicator, PullPointOptions, renew_delay
from platonicam.onvif.models.events import PropertyOperation
from tests.conftest import FakeClock


def test_renew_at_80_percent_with_a_floor() -> None:
    floor = timedelta(seconds=5)
    assert renew_delay(timedelta(minutes=1), floor=floor) == 48.0
    assert renew_delay(timedelta(seconds=10), fraction=0.5, floor=floor) == 5.0
    # A camera that grants nothing (or a termination in the past) is renewed at
    # the floor, not in a loop.
    assert renew_delay(timedelta(seconds=-30), floor=floor) == 5.0


def test_renewal_follows_an_injected_clock() -> None:
    clock = FakeClock()
    options = PullPointOptions()
    due = clock.monotonic() + renew_delay(
        options.termination, fraction=options.renew_fraction, floor=options.min_renew_interval
    )
    clock.advance(47.9)
    assert clock.monotonic() < due
    clock.advance(0.1)
    assert clock.monotonic() >= due


def test_backoff_doubles_to_a_cap_and_resets() -> None:
    backoff = Backoff(1.0, 10.0)
    assert [backoff.next_delay() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    backoff.reset()
    assert backoff.next_delay() == 1.0


def test_backoff_jitter_spreads_upwards() -> None:
    backoff = Backoff(2.0, 60.0, jitter=0.5, rng=lambda: 1.0)
    assert [backoff.next_delay(), backoff.next_delay()] == [3.0, 6.0]


def _motion(state: bool, operation: PropertyOperation | None, second: int = 0) -> Event:
    return Event(
        camera_id="c",
        kind=EventKind.MOTION,
        topic="VideoSource/MotionAlarm",
        raw_topic="tns1:VideoSource/MotionAlarm",
        source={"Source": "VS_1"},
        data={"State": "true" if state else "false"},
        state=state,
        time=datetime(2026, 1, 1, 0, 0, second, tzinfo=UTC),
        property_operation=operation,
    )


def test_property_repeats_are_dropped_changes_are_not() -> None:
    dedupe = Deduplicator()
    init, changed = PropertyOperation.INITIALIZED, PropertyOperation.CHANGED
    assert dedupe.admit(_motion(False, init, 0))
    assert dedupe.admit(_motion(True, changed, 1))
    # A new subscription after a reboot: Initialized with the state we know.
    assert not dedupe.admit(_motion(True, init, 5))
    assert dedupe.admit(_motion(False, changed, 6))
    # Another source is another property instance.
    other = replace(_motion(False, init, 6), source={"Source": "VS_2"})
    assert dedupe.admit(other)


def test_momentary_repeats_are_dropped_within_the_window() -> None:
    dedupe = Deduplicator(window=2)
    first = _motion(True, None, 1)
    assert dedupe.admit(first)
    assert not dedupe.admit(first)
    assert dedupe.admit(_motion(True, None, 2))
    assert dedupe.admit(_motion(True, None, 3))
    assert dedupe.admit(first)  # pushed out of the window
