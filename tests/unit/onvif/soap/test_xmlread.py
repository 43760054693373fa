"""Lenient value readers: durations, date-times, booleans and numbers as cameras write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.soap.xmlread import (
    attr,
    bool_at,
    child,
    datetime_at,
    duration_at,
    format_datetime,
    format_duration,
    int_at,
    path_of,
    require,
    require_text,
    text,
    to_bool,
    to_datetime,
    to_duration,
    to_float,
    to_int,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("PT60S", timedelta(seconds=60)),
        ("PT5S", timedelta(seconds=5)),
        ("PT15M", timedelta(minutes=15)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("P2W", timedelta(weeks=2)),
        ("P1Y", timedelta(days=365)),
        ("P1M", timedelta(days=30)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("-PT10S", timedelta(seconds=-10)),
        (" PT10S\n", timedelta(seconds=10)),
        # Bare seconds: Axis Q6045-E GetDynamicDNS TTL (device/axis_Q6045-E_GetDynamicDNS.xml).
        ("30", timedelta(seconds=30)),
        ("2.5", timedelta(seconds=2.5)),
    ],
)
def test_durations(raw: str, expected: timedelta) -> None:
    assert to_duration(raw) == expected


@pytest.mark.parametrize("raw", ["", "P", "-P", "PT", "P1DT", "10 seconds", "PT1X", "1S"])
def test_bad_durations(raw: str) -> None:
    with pytest.raises(RemoteProtocolError, match="duration expected"):
        to_duration(raw, operation="GetDynamicDNS")


def test_format_duration() -> None:
    assert format_duration(timedelta(minutes=1)) == "PT60S"
    assert format_duration(timedelta(milliseconds=1500)) == "PT1.500S"
    assert format_duration(timedelta(seconds=-5)) == "-PT5S"
    assert to_duration(format_duration(timedelta(hours=2))) == timedelta(hours=2)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2018-02-24T15:57:29Z", datetime(2018, 2, 24, 15, 57, 29, tzinfo=UTC)),
        # No zone reads as UTC.
        ("2018-02-24T15:57:29", datetime(2018, 2, 24, 15, 57, 29, tzinfo=UTC)),
        ("2018-02-24T16:57:29+01:00", datetime(2018, 2, 24, 15, 57, 29, tzinfo=UTC)),
        ("2018-02-24T10:57:29-0500", datetime(2018, 2, 24, 15, 57, 29, tzinfo=UTC)),
        ("2018-02-24T15:57:29.123Z", datetime(2018, 2, 24, 15, 57, 29, 123000, tzinfo=UTC)),
        # Fractions beyond microseconds are cut, not rounded.
        (
            "2018-02-24T15:57:29.1234567899Z",
            datetime(2018, 2, 24, 15, 57, 29, 123456, tzinfo=UTC),
        ),
        ("\n 2018-02-24T15:57:29Z \n", datetime(2018, 2, 24, 15, 57, 29, tzinfo=UTC)),
    ],
)
def test_datetimes(raw: str, expected: datetime) -> None:
    parsed = to_datetime(raw)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "raw",
    [
        "2018-13-01T00:00:00Z",  # month 13
        "2018-02-30T00:00:00Z",  # no such day
        "2018-02-24T25:00:00Z",  # hour 25
        "10000-01-01T00:00:00Z",  # beyond datetime's range
        "-0001-01-01T00:00:00Z",  # negative year
        "0000-01-01T00:00:00Z",
        "2018-02-24",
        "yesterday",
    ],
)
def test_out_of_range_datetimes_are_protocol_errors(raw: str) -> None:
    with pytest.raises(RemoteProtocolError, match="date-time expected"):
        to_datetime(raw)


def test_format_datetime_is_z_with_milliseconds() -> None:
    value = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert format_datetime(value) == "2026-01-02T03:04:05.678Z"
    from zoneinfo import ZoneInfo

    local = datetime(2026, 1, 2, 4, 4, 5, tzinfo=ZoneInfo("Europe/Paris"))
    assert format_datetime(local) == "2026-01-02T03:04:05.000Z"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("false", False),
        ("1", True),
        ("0", False),
        (" TRUE\n", True),
        ("False", False),
    ],
)
def test_booleans(raw: str, expected: bool) -> None:
    assert to_bool(raw) is expected


@pytest.mark.parametrize("raw", ["yes", "on", "", "2"])
def test_bad_booleans(raw: str) -> None:
    with pytest.raises(RemoteProtocolError, match="boolean expected"):
        to_bool(raw)


@pytest.mark.parametrize(
    ("raw", "expected"), [("25", 25), ("25.000000", 25), (" -3 ", -3), ("1e3", 1000), ("+7", 7)]
)
def test_ints_including_integral_decimals(raw: str, expected: int) -> None:
    assert to_int(raw) == expected


@pytest.mark.parametrize("raw", ["25.5", "abc", "", "nan", "inf"])
def test_bad_ints(raw: str) -> None:
    with pytest.raises(RemoteProtocolError, match="integer expected"):
        to_int(raw)


def test_float_and_bad_float() -> None:
    assert to_float(" 0.454545 ") == pytest.approx(0.454545)
    with pytest.raises(RemoteProtocolError, match="number expected"):
        to_float("half")


_DOC = etree.fromstring(
    b'<r xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:o="urn:other">'
    b"<tt:A><o:B> 42 </o:B><tt:Flag>true</tt:Flag><tt:Empty/>"
    b"<tt:When>2020-01-01T00:00:00Z</tt:When><tt:Wait>PT5S</tt:Wait><tt:Bad>x</tt:Bad></tt:A>"
    b'<tt:C tt:token="t1" plain=" p "/></r>'
)


def test_readers_go_by_local_name_across_namespaces() -> None:
    assert int_at(_DOC, "A", "B") == 42
    assert text(_DOC, "A", "B") == "42"
    assert bool_at(_DOC, "A", "Flag") is True
    assert datetime_at(_DOC, "A", "When") == datetime(2020, 1, 1, tzinfo=UTC)
    assert duration_at(_DOC, "A", "Wait") == timedelta(seconds=5)


def test_missing_and_empty_read_as_none() -> None:
    assert int_at(_DOC, "A", "Missing") is None
    assert int_at(_DOC, "A", "Empty") is None
    assert text(_DOC, "A", "Empty") == ""
    assert text(_DOC, "Nope") is None
    assert child(None, "A") is None
    assert attr(None, "token") is None


def test_attributes_by_local_name() -> None:
    node = child(_DOC, "C")
    assert attr(node, "token") == "t1"
    assert attr(node, "plain") == "p"
    assert attr(node, "absent") is None


def test_errors_carry_the_element_path_and_operation() -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        int_at(_DOC, "A", "Bad", operation="GetThing")
    assert caught.value.path == "/r/A/Bad"
    assert caught.value.operation == "GetThing"
    assert "integer expected, got 'x'" in str(caught.value)
    with pytest.raises(RemoteProtocolError, match="missing element A/Missing") as missing:
        require(_DOC, "A", "Missing", operation="GetThing")
    assert missing.value.path == "/r"
    assert require_text(_DOC, "A", "B") == "42"
    node = child(_DOC, "A", "Flag")
    assert node is not None
    assert path_of(node) == "/r/A/Flag"
