"""The reference device's HTTP side: one ASGI app for every ONVIF service.

Strategy: every SOAP path (``/onvif/device_service``, ``/onvif/media_service``
...) and every PullPoint address (``/onvif/pullpoint/<id>``) goes to one
dispatcher that picks the handler by the *qualified name of the body's first
element*: not by SOAPAction or ``wsa:Action``, because the Media WSDL's
soapActions are malformed and some clients send none. Operation names are
unique per namespace, so the path does not matter (clients that post
everything to the device service still work).

Each request then goes through: read (size-limited) -> parse (no DTDs; a
broken body is an ``env:Sender`` fault) -> find the operation (unknown:
``env:Receiver/ter:ActionNotSupported``) -> authenticate and authorize by the
operation's access class (missing credentials: HTTP 401 with a Digest
challenge *and* a ``ter:NotAuthorized`` body) -> handler -> envelope, in the
SOAP version of the request, with WS-Addressing reply headers when the request
had them. An unexpected exception is logged and answered as a Receiver fault
without its traceback.

Addresses in answers are built from the ``Host`` header the client sent, so
they name the host and port the client actually reached (never 0.0.0.0, an
empty host or the 127.0.1.1 some distributions map the host name to).

``GET /onvif/snapshot/<profile>.jpg`` serves JPEG snapshots behind the same
users (HTTP Digest or Basic).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, Final

from lxml import etree

from platonicam.device.core import Device, DeviceOptions
from platonicam.device.faults import (
    DeviceFault,
    action_not_supported,
    build_fault_envelope,
    invalid_args,
    not_authorized,
    well_formed,
)
from platonicam.device.handlers.base import Operation, Request
from platonicam.device.handlers.catalog import ALL_OPERATIONS
from platonicam.device.paths import (
    PULLPOINT_PREFIX,
    SERVICE_PATHS,
    SNAPSHOT_PREFIX,
)
from platonicam.device.security import (
    ANONYMOUS,
    AccessClass,
    AuthenticationFailed,
    Credentials,
    Principal,
    allowed,
)
from platonicam.device.state import DeviceState
from platonicam.device.streams import StreamManager
from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.soap.build import element
from platonicam.onvif.soap.namespaces import SOAP11, SOAP12, WSA, local_name, namespace_of, qn
from platonicam.onvif.soap.xml import MAX_DOCUMENT_BYTES, parse_xml
from platonicam.onvif.soap.xmlread import text

_LOG = logging.getLogger(__name__)

# ASGI's message dicts are untyped by the spec; these aliases keep that at the edge.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_SOAP12_TYPE: Final = b"application/soap+xml; charset=utf-8"
_SOAP11_TYPE: Final = b"text/xml; charset=utf-8"
#: Hosts that are never a useful address for a client (bind-all, Debian's host-name alias).
_USELESS_HOSTS: Final = frozenset({"", "0.0.0.0", "::", "[::]", "127.0.1.1"})  # noqa: S104


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _split_host(raw: str) -> tuple[str, int | None]:
    """``host[:port]`` or ``[v6][:port]`` -> (host as written in a URL, port)."""
    value = raw.strip()
    if value.startswith("["):
        end = value.find("]")
        host, rest = value[: end + 1], value[end + 1 :]
    else:
        host, _, port_text = value.partition(":")
        rest = f":{port_text}" if port_text else ""
    if rest.startswith(":") and rest[1:].isdigit():
        return host, int(rest[1:])
    return host, None


def origin_of(scope: Scope, host_header: str | None) -> tuple[str, str]:
    """(base URL, host) for addresses in answers, from the Host header the client
    sent, or the local address of the connection when that is missing or useless."""
    scheme = str(scope.get("scheme", "http"))
    host, port = _split_host(host_header or "")
    if host in _USELESS_HOSTS:
        server = scope.get("server") or ("127.0.0.1", None)
        server_host = str(server[0])
        host = f"[{server_host}]" if ":" in server_host else server_host
        port = int(server[1]) if server[1] is not None else None
    default = 443 if scheme == "https" else 80
    netloc = host if port in (None, default) else f"{host}:{port}"
    return f"{scheme}://{netloc}", host


class DeviceApp:
    """The ASGI callable (see the module docstring). ``device`` holds the live parts."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self._operations: dict[tuple[str, str], Operation] = {
            (op.namespace, op.name): op for op in ALL_OPERATIONS
        }
        self._tasks: set[asyncio.Task[None]] = set()

    def supports(self, namespace: str, name: str) -> bool:
        return (namespace, name) in self._operations

    # -------------------------------------------------------------- ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = {
            key.decode("latin-1").lower(): value.decode("latin-1")
            for key, value in scope.get("headers", [])
        }
        path = str(scope.get("path", ""))
        method = str(scope.get("method", "GET")).upper()
        try:
            if path.startswith(SNAPSHOT_PREFIX):
                if method not in ("GET", "HEAD"):
                    raise _HttpError(405, "use GET")
                await self._snapshot(scope, headers, path, method, send)
                return
            if path not in SERVICE_PATHS.values() and not path.startswith(PULLPOINT_PREFIX):
                raise _HttpError(404, "no such service")
            if method != "POST":
                raise _HttpError(405, "SOAP requests are POSTed")
            body = await _read_body(receive, MAX_DOCUMENT_BYTES)
        except _HttpError as exc:
            await _plain(send, exc.status, str(exc))
            return
        status, content, content_type, extra = await self._soap(scope, headers, path, body)
        await _respond(send, status, content, content_type, extra)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for task in list(self._tasks):
                    task.cancel()
                await self.device.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -------------------------------------------------------------- SOAP

    async def _soap(
        self, scope: Scope, headers: Mapping[str, str], path: str, body: bytes
    ) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
        soap11 = False
        try:
            try:
                root = parse_xml(body)
            except RemoteProtocolError as exc:
                raise well_formed(str(exc)) from None
            soap11 = namespace_of(root.tag) == SOAP11
            header, payload = _split_envelope(root)
            operation = self._operations.get(
                (namespace_of(payload.tag) or "", local_name(payload.tag))
            )
            if operation is None:
                raise action_not_supported(local_name(payload.tag))
            principal = self._authorize(scope, headers, header, operation)
            base_url, host = origin_of(scope, headers.get("host"))
            request = Request(
                device=self.device,
                principal=principal,
                base_url=base_url,
                host=host,
                path=path,
                header=header,
            )
            try:
                response = await operation.handler(request, payload)
            except RemoteProtocolError as exc:
                raise invalid_args(str(exc)) from None
            if operation.name == "SystemReboot":
                self._schedule_reboot()
            envelope = _envelope(response, header, soap11=soap11)
            return 200, envelope, _SOAP11_TYPE if soap11 else _SOAP12_TYPE, []
        except DeviceFault as fault:
            extra: list[tuple[bytes, bytes]] = []
            if isinstance(fault, AuthenticationFailed) and fault.challenge:
                challenge = self.device.authenticator.challenge(stale=fault.stale)
                extra.append((b"www-authenticate", challenge.encode("latin-1")))
            content = build_fault_envelope(fault, soap11=soap11)
            return fault.http_status, content, _SOAP11_TYPE if soap11 else _SOAP12_TYPE, extra
        except Exception:
            _LOG.exception("handler failed")
            internal = DeviceFault("internal error while handling the request", code="Receiver")
            return 500, build_fault_envelope(internal, soap11=soap11), _SOAP12_TYPE, []

    def _authorize(
        self,
        scope: Scope,
        headers: Mapping[str, str],
        header: etree._Element | None,
        operation: Operation,
    ) -> Principal:
        if operation.access is AccessClass.PRE_AUTH:
            return ANONYMOUS
        principal = self.device.authenticator.authenticate(
            Credentials(
                method=str(scope.get("method", "POST")).upper(),
                uri=_request_target(scope),
                authorization=headers.get("authorization"),
                soap_header=header,
            )
        )
        if principal is ANONYMOUS:
            raise AuthenticationFailed(
                f"{operation.name} needs credentials (HTTP Digest or WS-UsernameToken)",
                challenge=True,
            )
        if not allowed(principal.level, operation.access):
            raise not_authorized(
                f"{operation.name} needs more rights than user {principal.username!r} "
                f"({principal.level.value}) has"
            )
        return principal

    def _schedule_reboot(self) -> None:
        hook = self.device.options.reboot
        if hook is None:
            return
        delay = self.device.options.reboot_delay

        async def reboot() -> None:
            await asyncio.sleep(delay)
            await hook()

        task = asyncio.get_running_loop().create_task(reboot())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -------------------------------------------------------------- snapshots

    async def _snapshot(
        self, scope: Scope, headers: Mapping[str, str], path: str, method: str, send: Send
    ) -> None:
        token = path[len(SNAPSHOT_PREFIX) :].removesuffix(".jpg")
        try:
            principal = self.device.authenticator.authenticate(
                Credentials(method, _request_target(scope), headers.get("authorization"))
            )
        except AuthenticationFailed as failed:
            await self._challenge(send, failed.stale)
            return
        if principal is ANONYMOUS:
            await self._challenge(send, False)
            return
        if not allowed(principal.level, AccessClass.READ_MEDIA):
            raise _HttpError(403, "no right to read media")
        profile = self.device.state.profile(token)
        encoder = profile.video_encoder_configuration if profile is not None else None
        if encoder is None:
            raise _HttpError(404, f"no profile {token!r} with video")
        jpeg = await self.device.streams.snapshot(encoder.token)
        if jpeg is None:
            raise _HttpError(503, "no picture yet")
        await _respond(
            send,
            200,
            b"" if method == "HEAD" else jpeg,
            b"image/jpeg",
            [(b"cache-control", b"no-store")],
            length=len(jpeg),
        )

    async def _challenge(self, send: Send, stale: bool) -> None:
        challenge = self.device.authenticator.challenge(stale=stale)
        await _respond(
            send,
            401,
            b"authentication required\n",
            b"text/plain; charset=utf-8",
            [(b"www-authenticate", challenge.encode("latin-1"))],
        )


def _request_target(scope: Scope) -> str:
    path = str(scope.get("raw_path", b"").decode("latin-1") or scope.get("path", ""))
    query = scope.get("query_string", b"")
    if query and "?" not in path:
        path += "?" + query.decode("latin-1")
    return path


def _split_envelope(root: etree._Element) -> tuple[etree._Element | None, etree._Element]:
    namespace = namespace_of(root.tag)
    if local_name(root.tag) != "Envelope" or namespace not in (SOAP12, SOAP11):
        raise well_formed(f"expected a SOAP Envelope, got <{local_name(root.tag)}>")
    header = root.find(qn(namespace, "Header"))
    body = root.find(qn(namespace, "Body"))
    if body is None:
        raise well_formed("SOAP Envelope has no Body")
    payload = next((c for c in body if isinstance(c.tag, str)), None)
    if payload is None:
        raise well_formed("SOAP Body is empty")
    return header, payload


def _envelope(
    response: etree._Element, request_header: etree._Element | None, *, soap11: bool
) -> bytes:
    namespace = SOAP11 if soap11 else SOAP12
    envelope = etree.Element(qn(namespace, "Envelope"), nsmap={"s": namespace})
    message_id = text(request_header, "MessageID") if request_header is not None else None
    action = text(request_header, "Action") if request_header is not None else None
    if message_id or action:
        header = etree.SubElement(envelope, qn(namespace, "Header"))
        reply_action = (
            action.removesuffix("Request") + "Response"
            if action
            else f"{namespace_of(response.tag)}/{local_name(response.tag)}"
        )
        header.append(element(WSA, "Action", reply_action))
        if message_id:
            header.append(element(WSA, "RelatesTo", message_id))
    body = etree.SubElement(envelope, qn(namespace, "Body"))
    body.append(response)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _HttpError(400, "client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _HttpError(413, f"request larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(
    send: Send,
    status: int,
    content: bytes,
    content_type: bytes,
    extra: list[tuple[bytes, bytes]],
    *,
    length: int | None = None,
) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(content) if length is None else length).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


async def _plain(send: Send, status: int, message: str) -> None:
    await _respond(send, status, (message + "\n").encode(), b"text/plain; charset=utf-8", [])


def create_device_app(
    state: DeviceState, streams: StreamManager, runtime_options: DeviceOptions | None = None
) -> DeviceApp:
    """The ASGI app of a device over ``state`` (see :meth:`DeviceState.load`).

    The returned app's ``device`` attribute is the :class:`Device`: fire events
    with ``app.device.events.fire("motion", True)``, create the first account
    with ``app.device.users.ensure_admin(...)``, bring the streams up with
    ``await app.device.start()``. Serve it with uvicorn.
    """
    return DeviceApp(Device(state, streams, runtime_options))
