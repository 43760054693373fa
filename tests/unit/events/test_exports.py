"""``platonicam.events`` exports exactly its sorted ``__all__``."""

from __future__ import annotations

import types

import platonicam.events as events


def test_all_is_sorted_and_complete() -> None:
    assert events.__all__ == sorted(events.__all__)
    public = {
        name
        for name, value in vars(events).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(events.__all__) == public
