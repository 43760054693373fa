"""Small helpers for building request and response elements."""

from __future__ import annotations

from lxml import etree

from platonicam.onvif.soap.namespaces import PREFIXES, qn


def element(namespace: str, name: str, text: str | None = None, **attrib: str) -> etree._Element:
    """A new root element (carrying our prefix map, so output reads ``tds:...``)."""
    node = etree.Element(qn(namespace, name), nsmap=PREFIXES)
    if attrib:
        for key, value in attrib.items():
            node.set(key, value)
    if text is not None:
        node.text = text
    return node


def sub(
    parent: etree._Element, namespace: str, name: str, text: str | None = None, **attrib: str
) -> etree._Element:
    """A new child of ``parent``."""
    node = etree.SubElement(parent, qn(namespace, name))
    for key, value in attrib.items():
        node.set(key, value)
    if text is not None:
        node.text = text
    return node


def xml_bool(value: bool) -> str:
    return "true" if value else "false"
