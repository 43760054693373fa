"""Topic normalisation and the parser registry.

Strategy: a camera's notification is an :class:`~platonicam.onvif.models.events.OnvifEvent`
whose ``topic`` is already prefix-free (``RuleEngine/CellMotionDetector/Motion``:
the ONVIF layer resolved the camera's prefixes, so ``tns1:``/``ns1:``/``tnsaxis:``
spellings meet here as one path). What the topic *means* differs by vendor, so
each vendor module in :mod:`platonicam.events.parsers` registers a parser for
the topics it knows, by path pattern. A parser turns one notification into one
or more :class:`Reading` values (kind, state, derived data): one notification
may report several things, as an ONVIF ``ObjectDetection/Object`` message whose
``ClassTypes`` is ``"Human Animal"`` reports a person and an animal at once.

Lookup order: an exact topic path first, then patterns (``*`` stands for one
segment; a trailing ``**`` for any number, none included), most literal
segments first, then the order of registration. A topic nobody registered
falls back to :func:`fallback`: kind ``other`` with the state read from the
message's only boolean-looking data item.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from platonicam.events.model import EventKind
from platonicam.onvif.models.events import OnvifEvent

__all__ = [
    "FALSE_WORDS",
    "TRUE_WORDS",
    "Parser",
    "Reading",
    "TopicRegistry",
    "fallback",
    "read_bool",
    "split_topic",
    "state_from",
]

#: Values cameras write for "on". Axis writes ``1``/``0`` where the topic set
#: says xs:boolean (corpus ``events/axis_unknown_MetadataStream-pir-change.xml``);
#: relays report ``active``/``inactive`` (tt:RelayLogicalState).
TRUE_WORDS: Final = frozenset({"true", "1", "active", "on", "yes", "closed", "high"})
FALSE_WORDS: Final = frozenset({"false", "0", "inactive", "off", "no", "open", "low"})


def read_bool(value: str | None) -> bool | None:
    """``True``/``False`` for the on/off spellings above (case-insensitive), else ``None``."""
    if value is None:
        return None
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def state_from(data: Mapping[str, str], *names: str) -> bool | None:
    """The on/off state of the first of ``names`` present in ``data``
    (compared case-insensitively; ``None`` when none is there or it is not on/off)."""
    lowered = {key.lower(): value for key, value in data.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value is not None:
            return read_bool(value)
    return None


def split_topic(topic: str) -> tuple[str, ...]:
    """A topic path as local-name segments, prefixes dropped (``tns1:A/B`` -> ``("A", "B")``)."""
    return tuple(part.strip().rpartition(":")[2] for part in topic.strip().split("/"))


@dataclass(frozen=True, slots=True)
class Reading:
    """What a parser understood from one notification.

    ``data`` holds values the parser derived (``object``, ``reason``...); they
    are merged over the message's own data items in the final event.
    """

    kind: EventKind
    state: bool | None = None
    data: dict[str, str] = field(default_factory=dict)


#: A topic parser: the notification -> its readings (an empty tuple: ignore it).
Parser = Callable[[OnvifEvent], tuple[Reading, ...]]


@dataclass(frozen=True, slots=True)
class _Entry:
    pattern: tuple[str, ...]
    parser: Parser
    kinds: frozenset[EventKind]
    vendor: str
    order: int

    @property
    def literal_segments(self) -> int:
        return sum(part not in ("*", "**") for part in self.pattern)

    def matches(self, topic: tuple[str, ...]) -> bool:
        if self.pattern and self.pattern[-1] == "**":
            head = self.pattern[:-1]
            return len(topic) >= len(head) and _segments_match(head, topic[: len(head)])
        return len(topic) == len(self.pattern) and _segments_match(self.pattern, topic)


def _segments_match(pattern: tuple[str, ...], topic: tuple[str, ...]) -> bool:
    return all(
        want == "*" or want.lower() == have.lower()
        for want, have in zip(pattern, topic, strict=True)
    )


def fallback(event: OnvifEvent) -> tuple[Reading, ...]:
    """An unrecognised topic: kind ``other``; the state when exactly one data
    item reads as on/off."""
    states = [read_bool(value) for value in event.data.values()]
    known = [state for state in states if state is not None]
    return (Reading(EventKind.OTHER, known[0] if len(known) == 1 else None),)


class TopicRegistry:
    """Topic pattern -> parser. Patterns are prefix-free paths (``Device/Trigger/Relay``),
    segments compared case-insensitively (cameras disagree: Tapo writes
    ``TpSmartEvent`` in one firmware and ``TPSmartEvent`` in another, corpus
    ``events/tp-link-tapo_unknown_NotificationMessage-tapo-*.json``)."""

    def __init__(self) -> None:
        self._exact: dict[tuple[str, ...], _Entry] = {}
        self._patterns: list[_Entry] = []
        self._count = 0

    def register(
        self,
        pattern: str,
        parser: Parser,
        *,
        kinds: Iterable[EventKind],
        vendor: str = "onvif",
    ) -> None:
        """Route topics matching ``pattern`` to ``parser``.

        ``kinds`` lists every kind the parser can produce (what a camera
        announcing the topic in GetEventProperties may send, see
        :meth:`kinds_for`). Raises :class:`ValueError` when the same pattern is
        registered twice.
        """
        key = tuple(part.lower() for part in split_topic(pattern))
        entry = _Entry(key, parser, frozenset(kinds), vendor, self._count)
        self._count += 1
        wild = any(part in ("*", "**") for part in key)
        existing = (
            next((e for e in self._patterns if e.pattern == key), None)
            if wild
            else self._exact.get(key)
        )
        if existing is not None:
            raise ValueError(
                f"topic pattern {pattern!r} is already registered (by {existing.vendor})"
            )
        if wild:
            self._patterns.append(entry)
            self._patterns.sort(key=lambda e: (-e.literal_segments, -len(e.pattern), e.order))
        else:
            self._exact[key] = entry

    def _find(self, topic: str) -> _Entry | None:
        segments = tuple(part.lower() for part in split_topic(topic))
        entry = self._exact.get(segments)
        if entry is not None:
            return entry
        return next((e for e in self._patterns if e.matches(segments)), None)

    def parse(self, event: OnvifEvent) -> tuple[Reading, ...]:
        """The readings of ``event`` (the :func:`fallback` for unknown topics)."""
        entry = self._find(event.topic)
        return entry.parser(event) if entry is not None else fallback(event)

    def kinds_for(self, topic: str) -> frozenset[EventKind]:
        """The kinds a topic can produce: ``{other}`` when no parser knows it.

        For GetEventProperties topic sets: which sensors a camera has.
        """
        entry = self._find(topic)
        return entry.kinds if entry is not None else frozenset({EventKind.OTHER})

    def vendor_for(self, topic: str) -> str | None:
        """Which parser module claimed ``topic`` (``None``: nobody)."""
        entry = self._find(topic)
        return entry.vendor if entry is not None else None
