"""A simulated pan/tilt/zoom head, moving over (injected) time.

Strategy: nothing runs in the background. Each axis remembers where it was at
the start of its current motion, its velocity and when the motion ends; the
position at any moment is computed from the clock when someone asks
(GetStatus, a new move, a preset). So a test that advances a fake clock by 2 s
sees the head 2 s further along, and an idle device costs nothing.

Coordinates are ONVIF's generic spaces: pan and tilt in -1..1, zoom in 0..1.
Velocities (ContinuousMove) are in -1..1 of the axis' top speed, speeds (the
optional ``Speed`` of the other moves) in 0..1 of it. Continuous moves stop at
their timeout or at the axis' limit, whichever comes first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from platonicam.clock import Clock
from platonicam.onvif.models.common import FloatRange

#: Top speeds in generic units per second: a full pan sweep (-1..1) takes 2 s.
PAN_TILT_MAX_SPEED: Final = 1.0
ZOOM_MAX_SPEED: Final = 0.5

PAN_RANGE: Final = FloatRange(-1.0, 1.0)
TILT_RANGE: Final = FloatRange(-1.0, 1.0)
ZOOM_RANGE: Final = FloatRange(0.0, 1.0)


class _Axis:
    """One axis: position ``origin`` at ``start``, moving at ``velocity`` until ``end``
    (and then standing exactly on ``target`` when the move had one)."""

    __slots__ = ("end", "high", "low", "origin", "start", "target", "velocity")

    def __init__(self, low: float, high: float, position: float, now: float) -> None:
        self.low = low
        self.high = high
        self.origin = position
        self.start = now
        self.velocity = 0.0
        self.end = now
        self.target: float | None = None

    def at(self, now: float) -> float:
        # A move to a position ends on it exactly: origin + velocity * duration
        # misses it by rounding (-1.4e-17 for 0.0), which xs:float then spells
        # in exponent form, and the Node onvif package (UniFi Protect, Node-RED)
        # only reads plain decimals as numbers: it handed "-1.3877787807814457e-17"
        # to its callers as a string (tests/interop/test_node_onvif.py::test_ptz).
        if self.target is not None and now >= self.end:
            return self.target
        elapsed = max(0.0, min(now, self.end) - self.start)
        return min(self.high, max(self.low, self.origin + self.velocity * elapsed))

    def moving(self, now: float) -> bool:
        return self.velocity != 0.0 and now < self.end

    def settle(self, now: float) -> None:
        self.origin = self.at(now)
        self.start = now
        self.velocity = 0.0
        self.end = now
        self.target = None

    def run(self, now: float, velocity: float, until: float) -> None:
        """Move at ``velocity`` until ``until`` or the limit in that direction."""
        self.settle(now)
        if velocity == 0.0:
            return
        bound = self.high if velocity > 0 else self.low
        self.velocity = velocity
        self.end = min(until, now + (bound - self.origin) / velocity)

    def go_to(self, now: float, target: float, speed: float) -> None:
        """Move to ``target`` (clamped to the limits) at ``speed`` units per second."""
        self.settle(now)
        target = min(self.high, max(self.low, target))
        distance = target - self.origin
        if distance == 0.0:
            return
        if speed <= 0.0:
            self.origin = target
            return
        self.velocity = math.copysign(speed, distance)
        self.end = now + abs(distance) / speed
        self.target = target


@dataclass(frozen=True, slots=True)
class HeadStatus:
    """Where the head is and which axes are moving."""

    pan: float
    tilt: float
    zoom: float
    pan_tilt_moving: bool
    zoom_moving: bool


class PTZHead:
    """One simulated PTZ mechanism (a PTZ node). Times come from ``clock.monotonic()``."""

    def __init__(self, clock: Clock, *, pan: float = 0.0, tilt: float = 0.0, zoom: float = 0.0):
        self._clock = clock
        now = clock.monotonic()
        self._pan = _Axis(PAN_RANGE.min, PAN_RANGE.max, pan, now)
        self._tilt = _Axis(TILT_RANGE.min, TILT_RANGE.max, tilt, now)
        self._zoom = _Axis(ZOOM_RANGE.min, ZOOM_RANGE.max, zoom, now)

    def status(self) -> HeadStatus:
        now = self._clock.monotonic()
        return HeadStatus(
            pan=self._pan.at(now),
            tilt=self._tilt.at(now),
            zoom=self._zoom.at(now),
            pan_tilt_moving=self._pan.moving(now) or self._tilt.moving(now),
            zoom_moving=self._zoom.moving(now),
        )

    def continuous(
        self,
        pan: float | None,
        tilt: float | None,
        zoom: float | None,
        *,
        timeout: float | None,
    ) -> None:
        """Velocities in -1..1 (``None``: that axis keeps what it does); ``timeout``
        in seconds, ``None`` for "until Stop"."""
        now = self._clock.monotonic()
        until = now + timeout if timeout is not None else math.inf
        if pan is not None and tilt is not None:
            self._pan.run(now, _unit(pan) * PAN_TILT_MAX_SPEED, until)
            self._tilt.run(now, _unit(tilt) * PAN_TILT_MAX_SPEED, until)
        if zoom is not None:
            self._zoom.run(now, _unit(zoom) * ZOOM_MAX_SPEED, until)

    def absolute(
        self,
        pan: float | None,
        tilt: float | None,
        zoom: float | None,
        *,
        pan_tilt_speed: float | None = None,
        zoom_speed: float | None = None,
    ) -> None:
        """Go to a position; speeds in 0..1 of the top speed (``None``: top speed)."""
        now = self._clock.monotonic()
        if pan is not None and tilt is not None:
            speed = _fraction(pan_tilt_speed) * PAN_TILT_MAX_SPEED
            # Both axes arrive together, as a real head's straight-line move does.
            distance_pan = abs(pan - self._pan.at(now))
            distance_tilt = abs(tilt - self._tilt.at(now))
            longest = max(distance_pan, distance_tilt)
            scale = 1.0 if longest == 0 else 1.0 / longest
            self._pan.go_to(now, pan, speed * distance_pan * scale if speed else 0.0)
            self._tilt.go_to(now, tilt, speed * distance_tilt * scale if speed else 0.0)
        if zoom is not None:
            self._zoom.go_to(now, zoom, _fraction(zoom_speed) * ZOOM_MAX_SPEED)

    def relative(
        self,
        pan: float | None,
        tilt: float | None,
        zoom: float | None,
        *,
        pan_tilt_speed: float | None = None,
        zoom_speed: float | None = None,
    ) -> None:
        """Move by a translation (clamped at the limits)."""
        current = self.status()
        self.absolute(
            None if pan is None else current.pan + pan,
            None if tilt is None else current.tilt + tilt,
            None if zoom is None else current.zoom + zoom,
            pan_tilt_speed=pan_tilt_speed,
            zoom_speed=zoom_speed,
        )

    def stop(self, *, pan_tilt: bool = True, zoom: bool = True) -> None:
        now = self._clock.monotonic()
        if pan_tilt:
            self._pan.settle(now)
            self._tilt.settle(now)
        if zoom:
            self._zoom.settle(now)


def _unit(value: float) -> float:
    return min(1.0, max(-1.0, value))


def _fraction(value: float | None) -> float:
    return 1.0 if value is None else min(1.0, max(0.0, abs(value)))


def in_range(value: float, allowed: FloatRange) -> bool:
    # A hair of tolerance: clients print coordinates with few digits.
    return allowed.min - 1e-9 <= value <= allowed.max + 1e-9
