"""Readers and writers for the small value types the imaging and PTZ models share.

``xs:float`` numbers, ``tt:FloatRange``, ``tt:DurationRange`` and the closed string
enumerations ONVIF uses for modes. Private to :mod:`platonicam.onvif.models`.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from lxml import etree

from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.models.common import FloatRange
from platonicam.onvif.soap.build import sub
from platonicam.onvif.soap.namespaces import TT
from platonicam.onvif.soap.xmlread import (
    child,
    duration_at,
    float_at,
    format_duration,
    path_of,
    text,
)

Element = etree._Element
E = TypeVar("E", bound=enum.StrEnum)


def xml_float(value: float) -> str:
    """An ``xs:float`` lexical form that reads back to the same Python float.

    ``repr`` is the shortest round-tripping decimal (``128.0``, ``1e-07``), which
    is valid ``xs:float``; the special values use the XSD spellings.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    return repr(float(value))


def float_range_at(
    element: Element | None, *names: str, operation: str | None = None
) -> FloatRange | None:
    """The ``tt:FloatRange`` at ``names`` (``None`` when absent).

    A range without ``Min`` or ``Max`` is the camera's protocol error: half a
    range cannot be checked against.
    """
    node = child(element, *names) if names else element
    if node is None:
        return None
    low = float_at(node, "Min", operation=operation)
    high = float_at(node, "Max", operation=operation)
    if low is None or high is None:
        raise RemoteProtocolError(
            "range without Min and Max", operation=operation, path=path_of(node)
        )
    return FloatRange(low, high)


def write_float_range(parent: Element, namespace: str, name: str, value: FloatRange) -> Element:
    node = sub(parent, namespace, name)
    sub(node, TT, "Min", xml_float(value.min))
    sub(node, TT, "Max", xml_float(value.max))
    return node


@dataclass(frozen=True, slots=True)
class DurationRange:
    """A ``tt:DurationRange``: inclusive bounds of an ``xs:duration``."""

    min: timedelta
    max: timedelta

    def __contains__(self, value: object) -> bool:
        return isinstance(value, timedelta) and self.min <= value <= self.max

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> DurationRange:
        low = duration_at(element, "Min", operation=operation)
        high = duration_at(element, "Max", operation=operation)
        if low is None or high is None:
            raise RemoteProtocolError(
                "duration range without Min and Max", operation=operation, path=path_of(element)
            )
        return cls(low, high)

    def to_xml(self, parent: Element, name: str, namespace: str = TT) -> Element:
        node = sub(parent, namespace, name)
        sub(node, TT, "Min", format_duration(self.min))
        sub(node, TT, "Max", format_duration(self.max))
        return node


def enum_at(
    kind: type[E], element: Element | None, *names: str, operation: str | None = None
) -> E | None:
    """The enumeration value at ``names`` (``None`` when absent or empty).

    Case is ignored (firmware writes ``Auto`` for ``AUTO``); a value outside the
    enumeration raises :class:`RemoteProtocolError` naming the element.
    """
    node = child(element, *names) if names else element
    raw = text(node)
    if node is None or not raw:
        return None
    return to_enum(kind, raw, element=node, operation=operation)


def to_enum(
    kind: type[E], raw: str, *, element: Element | None = None, operation: str | None = None
) -> E:
    wanted = raw.strip().casefold()
    for member in kind:
        if member.value.casefold() == wanted:
            return member
    allowed = ", ".join(member.value for member in kind)
    raise RemoteProtocolError(
        f"{kind.__name__} expected ({allowed}), got {raw!r}",
        operation=operation,
        path=path_of(element) if element is not None else None,
    )


def require_enum(kind: type[E], element: Element, name: str, *, operation: str | None = None) -> E:
    """Like :func:`enum_at` for a child the XSD requires: absent or empty raises."""
    value = enum_at(kind, element, name, operation=operation)
    if value is None:
        raise RemoteProtocolError(
            f"missing element {name}", operation=operation, path=path_of(element)
        )
    return value


def require_float_range(element: Element, name: str, *, operation: str | None = None) -> FloatRange:
    """Like :func:`float_range_at` for a range the XSD requires: absent raises."""
    value = float_range_at(element, name, operation=operation)
    if value is None:
        raise RemoteProtocolError(
            f"missing element {name}", operation=operation, path=path_of(element)
        )
    return value
