"""Device bugs the independent clients found, pinned without the clients.

Each test names the interop test that revealed the bug; they run with no
subprocess and no socket, so they hold even where the clients cannot be installed.
"""

from __future__ import annotations

from platonicam.device.ptz import PTZHead
from platonicam.onvif.models._values import xml_float
from tests.conftest import FakeClock


def test_ptz_move_to_a_position_ends_exactly_on_it() -> None:
    """tests/interop/test_node_onvif.py::test_ptz: after the zeep run's GotoPreset
    back to tilt 0.0 the head reported -1.3877787807814457e-17, which xs:float
    writes in exponent form and the Node onvif package reads as a string."""
    clock = FakeClock()
    head = PTZHead(clock, pan=0.3298507140000311, tilt=0.0, zoom=0.0)
    head.absolute(-0.5, 0.25, 0.0)
    clock.advance(0.165)  # interrupted half-way, as the zeep run's GotoPreset did
    head.absolute(0.3298507140000311, 0.0, 0.0)
    clock.advance(0.1)
    moving = head.status()
    assert moving.pan_tilt_moving
    assert 0.0 < moving.tilt < 0.25
    clock.advance(5.0)
    done = head.status()
    assert (done.pan, done.tilt, done.zoom) == (0.3298507140000311, 0.0, 0.0)
    assert not done.pan_tilt_moving
    assert [xml_float(v) for v in (done.pan, done.tilt)] == ["0.3298507140000311", "0.0"]
    # Settling (Stop, a new move) keeps the exact end point too.
    head.stop()
    assert head.status().tilt == 0.0
    head.relative(0.0, 0.0, 0.5)
    clock.advance(5.0)
    assert head.status().zoom == 0.5
