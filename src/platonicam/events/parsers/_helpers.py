"""Small parser factories the vendor modules share."""

from __future__ import annotations

from collections.abc import Mapping

from platonicam.events.model import EventKind
from platonicam.events.topics import Parser, Reading, state_from
from platonicam.onvif.models.events import OnvifEvent


def boolean(kind: EventKind, *names: str, extra: Mapping[str, str] | None = None) -> Parser:
    """A property whose state is the first of the data items ``names``.

    When none of them is present the state is ``None`` (the camera left it
    out); a present value that is not on/off also gives ``None``.
    """
    derived = dict(extra or {})

    def parse(event: OnvifEvent) -> tuple[Reading, ...]:
        return (Reading(kind, state_from(event.data, *names), dict(derived)),)

    return parse


def pulse(kind: EventKind, extra: Mapping[str, str] | None = None) -> Parser:
    """A momentary event (a line crossed, a face recognised): state ``None``."""
    derived = dict(extra or {})

    def parse(event: OnvifEvent) -> tuple[Reading, ...]:
        return (Reading(kind, None, dict(derived)),)

    return parse


def failure(kind: EventKind, *names: str, extra: Mapping[str, str] | None = None) -> Parser:
    """An alarm that may come with or without a state item: no data item means
    "it happened" (``True``), as Hikvision's ``HardDiskFull`` has a source only
    (corpus ``events/hikvision_DS-2CD2012-I_GetEventProperties.xml``)."""
    derived = dict(extra or {})

    def parse(event: OnvifEvent) -> tuple[Reading, ...]:
        state = state_from(event.data, *names)
        if state is None and not event.data:
            state = True
        return (Reading(kind, state, dict(derived)),)

    return parse
