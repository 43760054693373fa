"""Lenient, typed readers for the values cameras put in XML.

Strategy: look children up by *local name*, not by namespace. Cameras use the
right local names far more reliably than the right namespaces (older firmware
puts ``tt:`` children under ``trt:`` parents and the other way round), and no
ONVIF type has two children with one local name in different namespaces. Values
are stripped of surrounding white space before conversion (some firmware pads
them with newlines), and conversions that fail raise
:class:`RemoteProtocolError` naming the element's path, never ``ValueError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from lxml import etree

from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.soap.namespaces import local_name

Element = etree._Element


def path_of(element: Element) -> str:
    """A readable path of local names from the document root, for error messages."""
    names = []
    node: Element | None = element
    while node is not None:
        names.append(local_name(node.tag))
        node = node.getparent()
    return "/" + "/".join(reversed(names))


def children(element: Element, name: str) -> Iterator[Element]:
    """The element's children whose local name is ``name``, in document order."""
    for child in element:
        if local_name(child.tag) == name:
            yield child


def child(element: Element | None, *names: str) -> Element | None:
    """The first element reached by following ``names`` from ``element``, or ``None``."""
    node = element
    for name in names:
        if node is None:
            return None
        node = next(children(node, name), None)
    return node


def require(element: Element, *names: str, operation: str | None = None) -> Element:
    """Like :func:`child` but a missing element is the camera's protocol error."""
    node = child(element, *names)
    if node is None:
        raise RemoteProtocolError(
            f"missing element {'/'.join(names)}", operation=operation, path=path_of(element)
        )
    return node


def text(element: Element | None, *names: str) -> str | None:
    """The stripped text of the element at ``names`` (``None`` when it is absent)."""
    node = child(element, *names) if names else element
    if node is None:
        return None
    value = node.text
    return value.strip() if value is not None else ""


def require_text(element: Element, *names: str, operation: str | None = None) -> str:
    node = require(element, *names, operation=operation)
    return (node.text or "").strip()


def attr(element: Element | None, name: str) -> str | None:
    """An attribute by local name (unqualified or in any namespace), stripped."""
    if element is None:
        return None
    value: object = element.get(name)
    if value is None:
        for key, candidate in element.attrib.items():
            if local_name(key) == name:
                value = candidate
                break
    return value.strip() if isinstance(value, str) else None


def _fail(
    kind: str, raw: str, element: Element | None, operation: str | None
) -> RemoteProtocolError:
    where = path_of(element) if element is not None else None
    return RemoteProtocolError(f"{kind} expected, got {raw!r}", operation=operation, path=where)


def to_int(raw: str, *, element: Element | None = None, operation: str | None = None) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        # Some cameras write integral values as decimals ("25.000000").
        try:
            as_float = float(raw.strip())
        except ValueError:
            raise _fail("integer", raw, element, operation) from None
        if as_float.is_integer():
            return int(as_float)
        raise _fail("integer", raw, element, operation) from None


def to_float(raw: str, *, element: Element | None = None, operation: str | None = None) -> float:
    try:
        return float(raw.strip())
    except ValueError:
        raise _fail("number", raw, element, operation) from None


_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def to_bool(raw: str, *, element: Element | None = None, operation: str | None = None) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _fail("boolean", raw, element, operation)


def int_at(element: Element | None, *names: str, operation: str | None = None) -> int | None:
    node = child(element, *names) if names else element
    if node is None or not (node.text or "").strip():
        return None
    return to_int(node.text or "", element=node, operation=operation)


def float_at(element: Element | None, *names: str, operation: str | None = None) -> float | None:
    node = child(element, *names) if names else element
    if node is None or not (node.text or "").strip():
        return None
    return to_float(node.text or "", element=node, operation=operation)


def bool_at(element: Element | None, *names: str, operation: str | None = None) -> bool | None:
    node = child(element, *names) if names else element
    if node is None or not (node.text or "").strip():
        return None
    return to_bool(node.text or "", element=node, operation=operation)


_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<years>\d+(?:\.\d+)?)Y)?(?:(?P<months>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def to_duration(
    raw: str, *, element: Element | None = None, operation: str | None = None
) -> timedelta:
    """An ``xs:duration`` as a timedelta.

    Tolerates a bare number of seconds: the Axis Q6045-E answers GetDynamicDNS
    with ``<tt:TTL>30</tt:TTL>`` (corpus ``device/axis_Q6045-E_GetDynamicDNS.xml``).
    Years and months count as 365 and 30 days; ONVIF only uses them in
    retention settings, where that precision is enough.
    """
    value = raw.strip()
    try:
        return timedelta(seconds=float(value))
    except ValueError:
        pass
    match = _DURATION.match(value)
    if match is None or value in {"P", "-P"} or value.endswith("T"):
        raise _fail("duration", raw, element, operation)
    parts = {key: float(v) for key, v in match.groupdict().items() if v and key != "sign"}
    result = timedelta(
        days=parts.get("years", 0) * 365
        + parts.get("months", 0) * 30
        + parts.get("weeks", 0) * 7
        + parts.get("days", 0),
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )
    return -result if match.group("sign") else result


def duration_at(
    element: Element | None, *names: str, operation: str | None = None
) -> timedelta | None:
    node = child(element, *names) if names else element
    if node is None or not (node.text or "").strip():
        return None
    return to_duration(node.text or "", element=node, operation=operation)


def format_duration(value: timedelta) -> str:
    """``timedelta(minutes=1)`` -> ``"PT60S"`` (whole seconds unless fractions are needed)."""
    total = value.total_seconds()
    sign = "-" if total < 0 else ""
    total = abs(total)
    if total.is_integer():
        return f"{sign}PT{int(total)}S"
    return f"{sign}PT{total:.3f}S"


_DATETIME = re.compile(
    r"^(?P<date>-?\d{4,}-\d{2}-\d{2})T(?P<time>\d{2}:\d{2}:\d{2})(?P<frac>\.\d+)?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)


def to_datetime(
    raw: str, *, element: Element | None = None, operation: str | None = None
) -> datetime:
    """An ``xs:dateTime`` as an aware UTC datetime.

    A missing zone is read as UTC (ONVIF's times are UTC). Fractions beyond
    microseconds are cut. Years outside 1..9999 (firmware with an overflowed
    clock answers year 1970 + 2^32 s or negative years) raise the camera's
    protocol error rather than ``OverflowError``.
    """
    value = raw.strip()
    match = _DATETIME.match(value)
    if match is None:
        raise _fail("date-time", raw, element, operation)
    frac = (match.group("frac") or ".0")[1:7].ljust(6, "0")
    tz = match.group("tz") or "Z"
    if tz != "Z" and ":" not in tz:
        tz = f"{tz[:3]}:{tz[3:]}"
    iso = f"{match.group('date')}T{match.group('time')}.{frac}{'+00:00' if tz == 'Z' else tz}"
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        raise _fail("date-time", raw, element, operation) from None
    return parsed.astimezone(UTC)


def datetime_at(
    element: Element | None, *names: str, operation: str | None = None
) -> datetime | None:
    node = child(element, *names) if names else element
    if node is None or not (node.text or "").strip():
        return None
    return to_datetime(node.text or "", element=node, operation=operation)


def format_datetime(value: datetime) -> str:
    """An aware datetime in the ``...Z`` UTC form.

    Always ``Z``, never ``+00:00``: some Hikvision firmware rejects the offset
    form in WS-Security ``Created``.
    """
    utc = value.astimezone(UTC)
    millis = utc.microsecond // 1000
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"
