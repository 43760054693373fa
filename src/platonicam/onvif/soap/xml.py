"""Parsing untrusted XML safely.

Cameras and anything pretending to be one send us XML. A hostile or broken
sender must not be able to make us expand entities (billion laughs), fetch
external resources, or hold a huge document in memory, so every parse of bytes
from the network goes through :func:`parse_xml`.
"""

from __future__ import annotations

from typing import Final

from lxml import etree

from platonicam.onvif.errors import RemoteProtocolError

#: The largest document we accept. The biggest ONVIF answers we have seen (full
#: GetEventProperties topic sets, system logs) stay well under 1 MiB.
MAX_DOCUMENT_BYTES: Final = 8 * 1024 * 1024

_PARSER: Final = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    collect_ids=False,
)


def _prolog_declares_doctype(data: bytes) -> bool:
    """Whether a DOCTYPE follows the (UTF-8) prolog: BOM, XML declaration, comments, PIs.

    Refusing it before libxml2 sees the document means entity declarations are
    never processed at all: with ``resolve_entities=False`` alone, a billion-laughs
    document still trips libxml2's amplification guard mid-parse. A plain scan,
    linear in the prolog's length (a regex over repeated PIs can backtrack badly).
    Other encodings fall through to the check after parsing.
    """
    pos = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while pos < len(data) and data[pos] in b" \t\r\n":
            pos += 1
        if data.startswith(b"<?", pos):
            end = data.find(b"?>", pos + 2)
            if end < 0:
                return False
            pos = end + 2
        elif data.startswith(b"<!--", pos):
            end = data.find(b"-->", pos + 4)
            if end < 0:
                return False
            pos = end + 3
        else:
            return data.startswith(b"<!DOCTYPE", pos)


def parse_xml(
    data: bytes, *, operation: str | None = None, max_bytes: int = MAX_DOCUMENT_BYTES
) -> etree._Element:
    """Parse ``data`` as an XML document and return its root element.

    Raises :class:`RemoteProtocolError` when the document is empty, too large,
    not well-formed, or declares a DTD (ONVIF never needs one, and a DTD is how
    entity-expansion attacks arrive).
    """
    if not data or not data.strip():
        raise RemoteProtocolError(
            "empty answer where an XML document was expected", operation=operation
        )
    if len(data) > max_bytes:
        raise RemoteProtocolError(
            f"XML document of {len(data)} bytes exceeds the limit of {max_bytes} bytes",
            operation=operation,
        )
    if _prolog_declares_doctype(data):
        raise RemoteProtocolError(
            "XML document declares a DTD, which ONVIF never uses", operation=operation
        )
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise RemoteProtocolError(f"malformed XML: {exc.msg}", operation=operation) from None
    except ValueError as exc:  # lxml raises ValueError for some encoding declarations
        raise RemoteProtocolError(f"malformed XML: {exc}", operation=operation) from None
    if root is None:
        raise RemoteProtocolError("XML document has no root element", operation=operation)
    docinfo = root.getroottree().docinfo
    if getattr(docinfo, "doctype", "") or getattr(docinfo, "internalDTD", None) is not None:
        raise RemoteProtocolError(
            "XML document declares a DTD, which ONVIF never uses", operation=operation
        )
    return root
