"""Scopes: WS-Discovery's matching rules and ONVIF's ``onvif://www.onvif.org/...`` scopes.

Sans-IO and pure. Two jobs:

* deciding whether a probe's scope matches a device's scope, by the rules
  WS-Discovery (2005/04) names in ``MatchBy``: ``rfc3986`` (the default, the one
  ONVIF Core requires: scheme and authority compared case-insensitively, then
  the probe's path a *segment-wise* prefix of the device's path, so
  ``.../hardware/D1`` does not match ``.../hardware/D1-566``) and ``strcmp0``
  (exact string equality);
* reading what ONVIF devices put in their scopes: manufacturer, hardware (the
  model), name, location, MAC address, serial number and profiles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote, urlsplit

_WSD: Final = "http://schemas.xmlsoap.org/ws/2005/04/discovery"

#: ``MatchBy`` URIs. A Probe without ``MatchBy`` uses :data:`MATCH_BY_RFC3986`.
MATCH_BY_RFC3986: Final = f"{_WSD}/rfc3986"
MATCH_BY_STRCMP0: Final = f"{_WSD}/strcmp0"
#: The older name of the same prefix rule (WS-Discovery cites RFC 2396; ONVIF
#: Core replaces it by RFC 3986 and otherwise keeps the rule).
MATCH_BY_RFC2396: Final = f"{_WSD}/rfc2396"
SUPPORTED_MATCHING_RULES: Final = frozenset({MATCH_BY_RFC3986, MATCH_BY_RFC2396, MATCH_BY_STRCMP0})

#: The prefix of every ONVIF-defined scope (scheme ``onvif``, authority ``www.onvif.org``).
ONVIF_SCOPE_PREFIX: Final = "onvif://www.onvif.org/"


def _segments(path: str) -> list[str] | None:
    """Percent-decoded path segments; ``None`` when a ``.``/``..`` segment forbids matching.

    Leading and trailing slashes carry no segment: ``onvif://www.onvif.org`` and
    ``onvif://www.onvif.org/`` are the same scope, and so are ``.../location``
    and ``.../location/`` (Axis sends the latter, corpus
    ``discovery/axis_M2025-LE_ProbeMatches.xml``).
    """
    stripped = path.strip("/")
    if not stripped:
        return []
    # Split before decoding, so an escaped "%2F" stays inside its segment.
    segments = [unquote(segment) for segment in stripped.split("/")]
    if any(segment in {".", ".."} for segment in segments):
        return None
    return segments


def rfc3986_match(probe_scope: str, device_scope: str) -> bool:
    """True when ``probe_scope`` matches ``device_scope`` by WS-Discovery's prefix rule.

    Scheme and authority compare case-insensitively; the probe's path segments
    must be a segment-by-segment (case-sensitive) prefix of the device's, after
    percent-decoding. Query and fragment take no part. Scopes with ``.`` or
    ``..`` segments never match, as the rule says.
    """
    probe = urlsplit(probe_scope.strip())
    device = urlsplit(device_scope.strip())
    if probe.scheme.lower() != device.scheme.lower():
        return False
    if probe.netloc.lower() != device.netloc.lower():
        return False
    probe_segments = _segments(probe.path)
    device_segments = _segments(device.path)
    if probe_segments is None or device_segments is None:
        return False
    return device_segments[: len(probe_segments)] == probe_segments


def scope_matches(probe_scope: str, device_scope: str, match_by: str | None = None) -> bool:
    """Whether one probe scope matches one device scope under ``match_by``.

    ``None`` means the default rule (:data:`MATCH_BY_RFC3986`). An unsupported
    rule matches nothing: a device that cannot apply a probe's rule does not
    answer it (ONVIF Core, "SOAP Fault Messages": multicast errors are dropped
    silently).
    """
    rule = (match_by or MATCH_BY_RFC3986).strip()
    if rule in (MATCH_BY_RFC3986, MATCH_BY_RFC2396):
        return rfc3986_match(probe_scope, device_scope)
    if rule == MATCH_BY_STRCMP0:
        return probe_scope.strip() == device_scope.strip()
    return False


def scopes_match(
    probe_scopes: Iterable[str], device_scopes: Iterable[str], match_by: str | None = None
) -> bool:
    """True when *every* probe scope matches *some* device scope (no probe scopes: True)."""
    device = list(device_scopes)
    return all(
        any(scope_matches(wanted, have, match_by) for have in device) for wanted in probe_scopes
    )


def onvif_scope(scope: str) -> tuple[str, str] | None:
    """``(category, value)`` of an ONVIF scope, or ``None`` for any other URI.

    The category is lower-cased (cameras write ``Profile``, ``profile``, ``MAC``,
    ``mac``); the value is the rest of the path, percent-decoded and stripped
    of slashes: ``onvif://www.onvif.org/name/AXIS%20M2025-LE`` gives
    ``("name", "AXIS M2025-LE")``.
    """
    parts = urlsplit(scope.strip())
    if parts.scheme.lower() != "onvif" or parts.netloc.lower() != "www.onvif.org":
        return None
    path = parts.path.strip("/")
    if not path:
        return None
    category, _, rest = path.partition("/")
    return category.lower(), unquote(rest.strip("/")).strip()


#: ONVIF's profile scopes name Profile S by its old name, ``Profile/Streaming``.
_PROFILE_ALIASES: Final = {"streaming": "S"}
_MAC_HEX = re.compile(r"[0-9A-Fa-f]{12}")


def normalize_mac(raw: str) -> str:
    """``0C-A6-4C-EA-0C-6F``, ``0ca64cea0c6f`` ... -> ``0c:a6:4c:ea:0c:6f``.

    A value that is not six octets is returned stripped but otherwise as sent,
    since the scope is free text and a wrong guess would be worse than none.
    """
    digits = re.sub(r"[:\-. ]", "", raw.strip())
    if not _MAC_HEX.fullmatch(digits):
        return raw.strip()
    lower = digits.lower()
    return ":".join(lower[i : i + 2] for i in range(0, 12, 2))


@dataclass(frozen=True, slots=True)
class OnvifScopes:
    """What a device's ONVIF scopes say about it. Absent or empty values are ``None``.

    * ``manufacturer``: ``manufacturer/...`` or ``mfr/...`` (few cameras send one);
    * ``model``: ``hardware/...`` (``model/...`` when there is no hardware scope);
    * ``name``: the first non-empty ``name/...``; Reolink sends ``name/IPC-BO`` and
      then ``name/IPC`` (corpus ``discovery/mixed_reolink-bosch-axis_discovery-cli-log.txt``);
    * ``location``: every non-empty ``location/...`` value, joined with ``", "``
      (ONVIF allows several, e.g. ``country/china`` and ``city/bejing``);
    * ``mac``: ``MAC/...`` or ``MacAddress/...``, normalised by :func:`normalize_mac`;
    * ``serial_number``: ``SerialNumber/...``;
    * ``profiles``: the profile letters in order of appearance, without repeats;
      ``Profile/Streaming`` is Profile S, ``Profile/Q/FactoryDefault`` is Q.
    """

    manufacturer: str | None = None
    model: str | None = None
    name: str | None = None
    location: str | None = None
    mac: str | None = None
    serial_number: str | None = None
    profiles: tuple[str, ...] = ()

    @classmethod
    def parse(cls, scopes: Iterable[str]) -> OnvifScopes:
        """Read the ONVIF scopes among ``scopes``; other URIs are ignored."""
        found: dict[str, list[str]] = {}
        for scope in scopes:
            parsed = onvif_scope(scope)
            if parsed is not None and parsed[1]:
                found.setdefault(parsed[0], []).append(parsed[1])

        def first(*categories: str) -> str | None:
            for category in categories:
                values = found.get(category)
                if values:
                    return values[0]
            return None

        profiles: list[str] = []
        for value in found.get("profile", []):
            head = value.split("/", 1)[0].strip()
            letter = _PROFILE_ALIASES.get(head.lower(), head)
            if letter and letter not in profiles:
                profiles.append(letter)
        mac = first("mac", "macaddress")
        locations = found.get("location", [])
        return cls(
            manufacturer=first("manufacturer", "mfr"),
            model=first("hardware", "model"),
            name=first("name"),
            location=", ".join(locations) if locations else None,
            mac=normalize_mac(mac) if mac is not None else None,
            serial_number=first("serialnumber"),
            profiles=tuple(profiles),
        )
