"""WS-Discovery (2005/04) messages, sans-IO: build with ``bytes(message)``, read with
:func:`parse_message`.

Both sides use this module: the client builds Probe and Resolve and reads the
answers, Hello and Bye; the reference device reads Probe and Resolve, decides
with :meth:`Probe.matches` and answers with ProbeMatches, ResolveMatches, Hello
and Bye built here. Every message round-trips: ``parse_message(bytes(m)) == m``.

Reading is lenient where cameras are sloppy and strict where a message would be
useless: children are found by local name (namespace prefixes vary), list values
may be split over lines and padded (Axis, corpus
``discovery/axis_M2025-LE_ProbeMatches.xml``), and a type prefix the sender
forgot to declare falls back to the conventional ONVIF prefixes. A datagram that
is not XML, not a SOAP envelope, or lacks a MessageID or an endpoint reference
raises :class:`~platonicam.discovery.errors.MalformedMessage`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from lxml import etree

from platonicam.discovery.errors import InvalidQuery, MalformedMessage
from platonicam.discovery.scopes import scopes_match
from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.soap.namespaces import DN, SOAP11, SOAP12, TDS, local_name, namespace_of, qn
from platonicam.onvif.soap.xml import parse_xml
from platonicam.onvif.soap.xmlread import attr, child, children, text

WSD: Final = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
#: WS-Discovery 2005/04 is bound to the 2004/08 WS-Addressing namespace.
WSA: Final = "http://schemas.xmlsoap.org/ws/2004/08/addressing"

MULTICAST_IPV4: Final = "239.255.255.250"
MULTICAST_IPV6: Final = "ff02::c"
PORT: Final = 3702
#: The largest datagram we read: a UDP payload cannot be longer.
MAX_DATAGRAM: Final = 65_535

#: ``wsa:To`` of messages sent to the multicast group (and of ad-hoc unicast probes).
DISCOVERY_URN: Final = "urn:schemas-xmlsoap-org:ws:2005:04:discovery"
#: ``wsa:To`` of answers, which go back to whoever asked.
ANONYMOUS: Final = f"{WSA}/role/anonymous"

ACTION_PROBE: Final = f"{WSD}/Probe"
ACTION_PROBE_MATCHES: Final = f"{WSD}/ProbeMatches"
ACTION_RESOLVE: Final = f"{WSD}/Resolve"
ACTION_RESOLVE_MATCHES: Final = f"{WSD}/ResolveMatches"
ACTION_HELLO: Final = f"{WSD}/Hello"
ACTION_BYE: Final = f"{WSD}/Bye"

#: Prefixes we write, and the fallback for undeclared prefixes in received types.
WELL_KNOWN_PREFIXES: Final[Mapping[str, str]] = {
    "dn": DN,
    "tds": TDS,
    "wsdp": "http://schemas.xmlsoap.org/ws/2006/02/devprof",
    "pub": "http://schemas.microsoft.com/windows/pub/2005/07",
}
_ENVELOPE_NSMAP: Final = {"s": SOAP12, "a": WSA, "d": WSD}


def new_message_id() -> str:
    """A fresh ``urn:uuid:`` message identifier."""
    return f"urn:uuid:{uuid.uuid4()}"


@dataclass(frozen=True, slots=True, order=True)
class TypeName:
    """A qualified type name as Types lists carry them: ``dn:NetworkVideoTransmitter``."""

    namespace: str
    local: str

    def __str__(self) -> str:
        return f"{{{self.namespace}}}{self.local}"

    @property
    def is_onvif(self) -> bool:
        """True for types in an ONVIF namespace (``tds:Device``, ``dn:NetworkVideoTransmitter``)."""
        return self.namespace.startswith("http://www.onvif.org/")

    @classmethod
    def parse(cls, value: str, prefixes: Mapping[str, str] = WELL_KNOWN_PREFIXES) -> TypeName:
        """A type name typed by a person: ``dn:NetworkVideoTransmitter`` or ``{ns}Local``.

        Raises :class:`InvalidQuery` for an unknown prefix or an empty name.
        """
        raw = value.strip()
        if raw.startswith("{") and "}" in raw:
            namespace, _, local = raw[1:].partition("}")
        else:
            prefix, sep, local = raw.rpartition(":")
            if not sep:
                raise InvalidQuery(f"type {raw!r} has no namespace prefix (e.g. dn:, tds:)")
            if prefix not in prefixes:
                known = ", ".join(sorted(prefixes))
                raise InvalidQuery(f"unknown type prefix {prefix!r} in {raw!r} (known: {known})")
            namespace = prefixes[prefix]
        if not namespace or not local:
            raise InvalidQuery(f"type {raw!r} is not a qualified name")
        return cls(namespace, local)


NETWORK_VIDEO_TRANSMITTER: Final = TypeName(DN, "NetworkVideoTransmitter")
DEVICE: Final = TypeName(TDS, "Device")


@dataclass(frozen=True, slots=True)
class AppSequence:
    """``d:AppSequence``: lets receivers order a device's messages and spot restarts."""

    instance_id: int
    message_number: int
    sequence_id: str | None = None


@dataclass(frozen=True, slots=True)
class TargetService:
    """What a device says about itself in ProbeMatch, ResolveMatch, Hello and Bye.

    ``scopes`` and ``xaddrs`` are raw URIs in the order sent. ``metadata_version``
    is 0 when the sender left it out (Bye may).
    """

    endpoint_reference: str
    types: tuple[TypeName, ...] = ()
    scopes: tuple[str, ...] = ()
    xaddrs: tuple[str, ...] = ()
    metadata_version: int = 0

    @property
    def is_onvif(self) -> bool:
        """True when any declared type is an ONVIF one (cameras, NVRs, the reference device)."""
        return any(t.is_onvif for t in self.types)


@dataclass(frozen=True, slots=True)
class Probe:
    """``d:Probe``: who is out there with these types and scopes?

    Empty ``types`` or ``scopes`` match everything. ``match_by`` is the scope rule
    URI (``None``: the default, RFC 3986 prefix matching).
    """

    message_id: str
    types: tuple[TypeName, ...] = ()
    scopes: tuple[str, ...] = ()
    match_by: str | None = None

    def matches(self, types: Iterable[TypeName], scopes: Iterable[str]) -> bool:
        """Whether a device with ``types`` and ``scopes`` must answer this probe.

        WS-Discovery: every probe type is among the device's types (compared as
        qualified names), and every probe scope matches some device scope under
        ``match_by``. An unsupported rule matches nothing.
        """
        have = set(types)
        if not all(wanted in have for wanted in self.types):
            return False
        return scopes_match(self.scopes, scopes, self.match_by)

    def __bytes__(self) -> bytes:
        envelope, body = _envelope(ACTION_PROBE, self.message_id, to=DISCOVERY_URN)
        probe = etree.SubElement(body, qn(WSD, "Probe"))
        _write_types(probe, self.types)
        if self.scopes or self.match_by:
            scopes = etree.SubElement(probe, qn(WSD, "Scopes"))
            scopes.text = " ".join(self.scopes)
            if self.match_by:
                scopes.set("MatchBy", self.match_by)
        return _serialize(envelope)


@dataclass(frozen=True, slots=True)
class ProbeMatches:
    """``d:ProbeMatches``: a device's answer to a Probe (usually one match)."""

    message_id: str
    relates_to: str | None
    matches: tuple[TargetService, ...] = ()
    app_sequence: AppSequence | None = None

    def __bytes__(self) -> bytes:
        envelope, body = _envelope(
            ACTION_PROBE_MATCHES,
            self.message_id,
            to=ANONYMOUS,
            relates_to=self.relates_to,
            app_sequence=self.app_sequence,
        )
        container = etree.SubElement(body, qn(WSD, "ProbeMatches"))
        for match in self.matches:
            _write_target(container, "ProbeMatch", match)
        return _serialize(envelope)


@dataclass(frozen=True, slots=True)
class Resolve:
    """``d:Resolve``: where is the device with this endpoint reference?"""

    message_id: str
    endpoint_reference: str

    def __bytes__(self) -> bytes:
        envelope, body = _envelope(ACTION_RESOLVE, self.message_id, to=DISCOVERY_URN)
        resolve = etree.SubElement(body, qn(WSD, "Resolve"))
        _write_epr(resolve, self.endpoint_reference)
        return _serialize(envelope)


@dataclass(frozen=True, slots=True)
class ResolveMatches:
    """``d:ResolveMatches``: the device's answer to a Resolve (``match`` may be absent)."""

    message_id: str
    relates_to: str | None
    match: TargetService | None = None
    app_sequence: AppSequence | None = None

    def __bytes__(self) -> bytes:
        envelope, body = _envelope(
            ACTION_RESOLVE_MATCHES,
            self.message_id,
            to=ANONYMOUS,
            relates_to=self.relates_to,
            app_sequence=self.app_sequence,
        )
        container = etree.SubElement(body, qn(WSD, "ResolveMatches"))
        if self.match is not None:
            _write_target(container, "ResolveMatch", self.match)
        return _serialize(envelope)


@dataclass(frozen=True, slots=True)
class Hello:
    """``d:Hello``: a device joined the network (multicast, no answer expected)."""

    message_id: str
    target: TargetService
    app_sequence: AppSequence | None = None

    def __bytes__(self) -> bytes:
        envelope, body = _envelope(
            ACTION_HELLO, self.message_id, to=DISCOVERY_URN, app_sequence=self.app_sequence
        )
        _write_target(body, "Hello", self.target)
        return _serialize(envelope)


@dataclass(frozen=True, slots=True)
class Bye:
    """``d:Bye``: a device is leaving. Only the endpoint reference is required."""

    message_id: str
    target: TargetService
    app_sequence: AppSequence | None = None

    def __bytes__(self) -> bytes:
        envelope, body = _envelope(
            ACTION_BYE, self.message_id, to=DISCOVERY_URN, app_sequence=self.app_sequence
        )
        _write_target(body, "Bye", self.target)
        return _serialize(envelope)


Message = Probe | ProbeMatches | Resolve | ResolveMatches | Hello | Bye


@dataclass(frozen=True, slots=True)
class _Header:
    action: str | None
    message_id: str | None
    relates_to: str | None
    app_sequence: AppSequence | None = None


# ---------------------------------------------------------------------------- building


def _envelope(
    action: str,
    message_id: str,
    *,
    to: str,
    relates_to: str | None = None,
    app_sequence: AppSequence | None = None,
) -> tuple[etree._Element, etree._Element]:
    envelope = etree.Element(qn(SOAP12, "Envelope"), nsmap=_ENVELOPE_NSMAP)
    header = etree.SubElement(envelope, qn(SOAP12, "Header"))
    for name, value in (("MessageID", message_id), ("RelatesTo", relates_to), ("To", to)):
        if value is not None:
            etree.SubElement(header, qn(WSA, name)).text = value
    etree.SubElement(header, qn(WSA, "Action")).text = action
    if app_sequence is not None:
        node = etree.SubElement(header, qn(WSD, "AppSequence"))
        node.set("InstanceId", str(app_sequence.instance_id))
        if app_sequence.sequence_id is not None:
            node.set("SequenceId", app_sequence.sequence_id)
        node.set("MessageNumber", str(app_sequence.message_number))
    body = etree.SubElement(envelope, qn(SOAP12, "Body"))
    return envelope, body


def _serialize(envelope: etree._Element) -> bytes:
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def _write_epr(parent: etree._Element, endpoint_reference: str) -> None:
    epr = etree.SubElement(parent, qn(WSA, "EndpointReference"))
    etree.SubElement(epr, qn(WSA, "Address")).text = endpoint_reference


def _write_types(parent: etree._Element, types: tuple[TypeName, ...]) -> None:
    if not types:
        return
    # Types are QNames in element content, so their prefixes must be declared in
    # scope: declare them on the Types element itself.
    by_namespace = {namespace: prefix for prefix, namespace in WELL_KNOWN_PREFIXES.items()}
    nsmap: dict[str, str] = {}
    words = []
    for type_name in types:
        prefix = by_namespace.get(type_name.namespace)
        if prefix is None:
            prefix = f"t{len(nsmap)}"
            by_namespace[type_name.namespace] = prefix
        nsmap[prefix] = type_name.namespace
        words.append(f"{prefix}:{type_name.local}")
    node = etree.SubElement(parent, qn(WSD, "Types"), nsmap=nsmap)
    node.text = " ".join(words)


def _write_target(parent: etree._Element, name: str, target: TargetService) -> None:
    node = etree.SubElement(parent, qn(WSD, name))
    _write_epr(node, target.endpoint_reference)
    _write_types(node, target.types)
    if target.scopes:
        etree.SubElement(node, qn(WSD, "Scopes")).text = " ".join(target.scopes)
    if target.xaddrs:
        etree.SubElement(node, qn(WSD, "XAddrs")).text = " ".join(target.xaddrs)
    etree.SubElement(node, qn(WSD, "MetadataVersion")).text = str(target.metadata_version)


# ----------------------------------------------------------------------------- reading


def parse_message(data: bytes) -> Message:
    """Read one datagram as a WS-Discovery message.

    The body element decides the message kind (``wsa:Action`` is not trusted:
    some senders get it wrong, and the body is what we act on). Raises
    :class:`MalformedMessage` for anything unreadable, including SOAP faults and
    body elements that are not one of the six discovery messages.
    """
    try:
        root = parse_xml(data, max_bytes=MAX_DATAGRAM)
    except RemoteProtocolError as exc:
        raise MalformedMessage(str(exc)) from None
    soap = namespace_of(root.tag)
    if local_name(root.tag) != "Envelope" or soap not in (SOAP12, SOAP11):
        raise MalformedMessage(f"not a SOAP envelope: <{local_name(root.tag) or root.tag}>")
    body = root.find(qn(soap, "Body"))
    payload = None if body is None else next((c for c in body if isinstance(c.tag, str)), None)
    if payload is None:
        raise MalformedMessage("SOAP envelope without a body element")
    header = _read_header(root.find(qn(soap, "Header")))
    kind = local_name(payload.tag)
    if kind == "Probe":
        return Probe(
            message_id=_require_id(header, kind),
            types=_read_types(child(payload, "Types")),
            scopes=_read_list(child(payload, "Scopes")),
            match_by=attr(child(payload, "Scopes"), "MatchBy") or None,
        )
    if kind == "Resolve":
        return Resolve(
            message_id=_require_id(header, kind),
            endpoint_reference=_read_epr(payload, kind),
        )
    if kind == "ProbeMatches":
        return ProbeMatches(
            message_id=_require_id(header, kind),
            relates_to=header.relates_to,
            matches=tuple(_read_target(m, "ProbeMatch") for m in children(payload, "ProbeMatch")),
            app_sequence=header.app_sequence,
        )
    if kind == "ResolveMatches":
        match = child(payload, "ResolveMatch")
        return ResolveMatches(
            message_id=_require_id(header, kind),
            relates_to=header.relates_to,
            match=None if match is None else _read_target(match, "ResolveMatch"),
            app_sequence=header.app_sequence,
        )
    if kind == "Hello":
        return Hello(
            message_id=_require_id(header, kind),
            target=_read_target(payload, kind),
            app_sequence=header.app_sequence,
        )
    if kind == "Bye":
        return Bye(
            message_id=_require_id(header, kind),
            target=_read_target(payload, kind),
            app_sequence=header.app_sequence,
        )
    raise MalformedMessage(f"not a WS-Discovery message: <{kind}>")


def _read_header(header: etree._Element | None) -> _Header:
    sequence = child(header, "AppSequence")
    app_sequence = None
    if sequence is not None:
        instance = attr(sequence, "InstanceId")
        number = attr(sequence, "MessageNumber")
        if instance is not None and number is not None:
            app_sequence = AppSequence(
                instance_id=_to_int(instance, "AppSequence/@InstanceId"),
                message_number=_to_int(number, "AppSequence/@MessageNumber"),
                sequence_id=attr(sequence, "SequenceId"),
            )
    return _Header(
        action=text(header, "Action") or None,
        message_id=text(header, "MessageID") or None,
        relates_to=text(header, "RelatesTo") or None,
        app_sequence=app_sequence,
    )


def _require_id(header: _Header, kind: str) -> str:
    if header.message_id is None:
        raise MalformedMessage(f"{kind} without a wsa:MessageID")
    return header.message_id


def _to_int(raw: str, where: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise MalformedMessage(f"{where}: integer expected, got {raw!r}") from None


def _read_list(node: etree._Element | None) -> tuple[str, ...]:
    """A whitespace-separated list; line breaks and padding inside are normal."""
    if node is None or not node.text:
        return ()
    return tuple(node.text.split())


def _read_types(node: etree._Element | None) -> tuple[TypeName, ...]:
    result: list[TypeName] = []
    if node is None:
        return ()
    nsmap = node.nsmap
    for word in _read_list(node):
        prefix, sep, local = word.rpartition(":")
        key = prefix if sep else None
        namespace = nsmap.get(key)
        if namespace is None and key is not None:
            # Undeclared prefix: read the conventional ones rather than drop the type.
            namespace = WELL_KNOWN_PREFIXES.get(key)
        result.append(TypeName(namespace or "", local))
    return tuple(result)


def _read_epr(node: etree._Element, kind: str) -> str:
    address = text(node, "EndpointReference", "Address")
    if not address:
        raise MalformedMessage(f"{kind} without an EndpointReference/Address")
    return address


def _read_target(node: etree._Element, kind: str) -> TargetService:
    version = text(node, "MetadataVersion")
    return TargetService(
        endpoint_reference=_read_epr(node, kind),
        types=_read_types(child(node, "Types")),
        scopes=_read_list(child(node, "Scopes")),
        xaddrs=_read_list(child(node, "XAddrs")),
        metadata_version=_to_int(version, f"{kind}/MetadataVersion") if version else 0,
    )
