"""A discovered device, as the rest of PlatoniCam sees it (pure, no I/O).

:class:`Candidate` is one answer to a probe (or one Hello) with the scopes read
and the address to connect to chosen. It is a *candidate*: nothing has been
asked of the device yet, and everything in it is what the device announced.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from platonicam.discovery.messages import TargetService, TypeName
from platonicam.discovery.scopes import OnvifScopes

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Candidate:
    """An ONVIF device that answered discovery.

    ``endpoint_reference`` (``urn:uuid:...``) is the device's stable identity and
    the key results are de-duplicated by. ``xaddrs``, ``types`` and ``scopes`` are
    as announced; the fields after them are read from the scopes (see
    :class:`~platonicam.discovery.scopes.OnvifScopes`). ``xaddr`` is the device
    service address to use, ``host``/``port`` its parts (``None`` when no XAddr
    is usable), chosen by :func:`preferred_xaddr`.
    """

    endpoint_reference: str
    xaddrs: tuple[str, ...]
    types: tuple[TypeName, ...]
    scopes: tuple[str, ...]
    metadata_version: int
    manufacturer: str | None
    model: str | None
    name: str | None
    location: str | None
    mac: str | None
    serial_number: str | None
    profiles: tuple[str, ...]
    xaddr: str | None
    host: str | None
    port: int | None

    @classmethod
    def from_target(cls, target: TargetService) -> Candidate:
        """The candidate a ProbeMatch, ResolveMatch or Hello describes."""
        info = OnvifScopes.parse(target.scopes)
        chosen = preferred_xaddr(target.xaddrs)
        return cls(
            endpoint_reference=target.endpoint_reference,
            xaddrs=target.xaddrs,
            types=target.types,
            scopes=target.scopes,
            metadata_version=target.metadata_version,
            manufacturer=info.manufacturer,
            model=info.model,
            name=info.name,
            location=info.location,
            mac=info.mac,
            serial_number=info.serial_number,
            profiles=info.profiles,
            xaddr=chosen[0] if chosen else None,
            host=chosen[1] if chosen else None,
            port=chosen[2] if chosen else None,
        )


def _rank(host: str) -> int:
    """Lower is better: LAN IPv4, then names, global IPv6, link-local IPv4, link-local IPv6."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return 1
    if address.is_unspecified or address.is_multicast:
        return 9
    if address.version == 4:
        return 3 if address.is_link_local else 0
    return 4 if address.is_link_local else 2


def preferred_xaddr(xaddrs: tuple[str, ...]) -> tuple[str, str, int] | None:
    """``(xaddr, host, port)`` of the XAddr to connect to, or ``None`` if none is usable.

    Prefers a non-link-local IPv4 address, then a host name, a global IPv6
    address, and only then link-local ones: Axis lists ``169.254.x.x`` XAddrs
    beside its LAN ones (corpus ``discovery/axis_M2025-LE_ProbeMatches.xml``).
    Among equals the first announced wins (cameras list ``http`` before
    ``https``). The port is the XAddr's, or the scheme's default: Reolink serves
    ONVIF on 8000 (corpus ``discovery/mixed_reolink-bosch-axis_discovery-cli-log.txt``).
    XAddrs that are not http(s) URLs with a host, or have a bad port, are skipped.
    """
    best: tuple[int, str, str, int] | None = None
    for xaddr in xaddrs:
        parts = urlsplit(xaddr)
        scheme = parts.scheme.lower()
        host = parts.hostname
        if scheme not in _DEFAULT_PORTS or not host:
            continue
        try:
            port = parts.port or _DEFAULT_PORTS[scheme]
        except ValueError:
            continue
        rank = _rank(host)
        if rank < 9 and (best is None or rank < best[0]):
            best = (rank, xaddr, host, port)
    return None if best is None else (best[1], best[2], best[3])
