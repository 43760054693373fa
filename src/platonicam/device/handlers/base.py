"""What every handler gets and how it is registered.

A handler is ``async def handler(request: Request, payload) -> response element``:
``payload`` is the SOAP body's first element (the operation), the answer is
the ``...Response`` element the app wraps in an envelope. Handlers refuse with
:class:`~platonicam.device.faults.DeviceFault`; a
:class:`~platonicam.onvif.errors.RemoteProtocolError` raised while reading the
request (a bad number, a missing element) becomes an ``InvalidArgs`` fault in
the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from lxml import etree

from platonicam.device.core import Device
from platonicam.device.faults import invalid_args
from platonicam.device.security import AccessClass, Principal
from platonicam.onvif.soap.build import element
from platonicam.onvif.soap.xmlread import child, text

Element = etree._Element


@dataclass(frozen=True, slots=True)
class Request:
    """One SOAP request as the handlers see it.

    ``host`` is the host the client reached us on (from the ``Host`` header,
    IPv6 in brackets), ``base_url`` the scheme, host and port: every address in
    an answer is built from them.
    """

    device: Device
    principal: Principal
    base_url: str
    host: str
    path: str
    header: Element | None

    def url(self, path: str) -> str:
        return self.base_url + path


Handler = Callable[[Request, Element], Awaitable[Element]]


@dataclass(frozen=True, slots=True)
class Operation:
    """An operation the device answers: its qualified name, access class and handler."""

    namespace: str
    name: str
    access: AccessClass
    handler: Handler


class Registry:
    """The operations of one service namespace."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.operations: list[Operation] = []

    def op(self, name: str, access: AccessClass) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.operations.append(Operation(self.namespace, name, access, handler))
            return handler

        return register

    def response(self, operation: str) -> Element:
        """An empty ``<operation>Response`` in this namespace."""
        return element(self.namespace, f"{operation}Response")


def arg(payload: Element, *names: str) -> str:
    """The text at ``names``; a missing or empty one is ``ter:InvalidArgs``."""
    value = text(payload, *names)
    if not value:
        raise invalid_args(f"{payload_name(payload)} needs {'/'.join(names)}")
    return value


def optional_arg(payload: Element, *names: str) -> str | None:
    return text(payload, *names) or None


def require_child(payload: Element, *names: str) -> Element:
    node = child(payload, *names)
    if node is None:
        raise invalid_args(f"{payload_name(payload)} needs {'/'.join(names)}")
    return node


def payload_name(payload: Element) -> str:
    return etree.QName(payload).localname
