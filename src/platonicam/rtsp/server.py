"""The RTSP server: live streams mounted at paths, served to many clients over TCP or UDP.

The server answers the requests and keeps the sessions; what it serves lives
beside it: :mod:`platonicam.rtsp.mount` (a mounted stream: its one
subscription, packetized once for every playing client),
:mod:`platonicam.rtsp.session` (one client's session: it starts at a keyframe
and skips while congested), :mod:`platonicam.rtsp.track` (a track's RTP state
and sender reports), :mod:`platonicam.rtsp.sinks` (delivery interleaved on the
RTSP connection or from the server's one UDP port pair) and
:mod:`platonicam.rtsp.mountpoint` (what a resolver mounts, who may use it).

Strategy:

* **Sessions** (RFC 2326 §12.37) expire after ``session_timeout`` seconds
  without a request, RTCP or interleaved data from the client. A TCP-interleaved
  session also ends with its connection; a UDP session outlives it until
  TEARDOWN or timeout, as the RFC intends. A client that disconnects only ends
  its own sessions. A session has the mount's video track (``trackID=0``) and,
  when the mount has them, its AAC audio track (``trackID=2``) and its ONVIF
  metadata track (``trackID=1``); a second SETUP of a track replaces its
  transport instead of adding a track. PLAY is answered when the session's
  first keyframe goes out (at most :data:`PLAY_START_TIMEOUT` later).
* **Reconfiguration.** DESCRIBE always answers with the stream's current
  description (sessions set up for an older one end, see the mount).
* **On demand.** A mount made with ``on_demand=True`` subscribes only when a
  client asks for it: DESCRIBE, SETUP and PLAY wait (at most
  :data:`PLAY_START_TIMEOUT`) for its first access unit, so the description is
  the live one. Once no session has used it for ``idle_timeout`` seconds the
  subscription is closed again (the source, e.g. a camera, can disconnect).
* **Mounts made on request.** A server given a ``resolver`` asks it about
  paths nobody mounted (on DESCRIBE, and on SETUP of a track under such a
  path) and about the paths it mounted that way (on every DESCRIBE, so a path
  that went away answers 404 and its sessions end). Such a mount is removed
  once it has been idle for ``idle_timeout`` seconds.
* **Per-mount access.** A mount's ``authorize`` callable sees every request
  that names it without one of its sessions (DESCRIBE, a session's first
  SETUP, a sessionless GET_PARAMETER) and answers who asks or 401 with its
  challenge. A session, created by an authorized SETUP and named by 64 random
  bits, then authorizes its own PLAY, PAUSE, TEARDOWN and keep-alives on its
  mount (and nothing on another one). Credentials may
  ride in the URL's query: when the DESCRIBE URL has one, the SDP names each
  track by an absolute URL carrying the same query, because clients disagree
  on whether a relative control URL inherits the query (an absolute one is
  used as is by FFmpeg, GStreamer and live555). Queries never reach the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import urllib.parse
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType
from typing import Final, Self

from platonicam.rtsp.aac import describe_aac_media
from platonicam.rtsp.auth import DigestVerifier, PasswordLookup
from platonicam.rtsp.errors import RtspError, RtspProtocolError
from platonicam.rtsp.message import (
    NEED_DATA,
    ConnectionClosed,
    Headers,
    InterleavedData,
    RtspParser,
    RtspRequest,
    RtspResponse,
    TransportSpec,
    parse_session,
    parse_transport,
)
from platonicam.rtsp.metadata import MetadataSource, describe_metadata_media
from platonicam.rtsp.mount import MAX_AUDIO_JUMP as MAX_AUDIO_JUMP
from platonicam.rtsp.mount import Mount
from platonicam.rtsp.mountpoint import AccessDecision as AccessDecision
from platonicam.rtsp.mountpoint import MountAuthorizer as MountAuthorizer
from platonicam.rtsp.mountpoint import Mountpoint as Mountpoint
from platonicam.rtsp.mountpoint import MountResolver as MountResolver
from platonicam.rtsp.sdp import describe_stream
from platonicam.rtsp.session import Session
from platonicam.rtsp.sinks import Address as Address
from platonicam.rtsp.sinks import TcpSink, UdpPorts, UdpSink, bind_udp_ports
from platonicam.rtsp.stream import LiveStream
from platonicam.rtsp.track import SENDER_REPORT_INTERVAL as SENDER_REPORT_INTERVAL
from platonicam.tasks import cancel_and_wait

# The ``X as X`` imports re-export names that moved beside what uses them: they stay
# importable from here as they always were.

log = logging.getLogger(__name__)

DEFAULT_SESSION_TIMEOUT: Final = 60.0
#: Bytes queued for a TCP client beyond which it skips forward to the next keyframe.
TCP_HIGH_WATER: Final = 1024 * 1024
#: How long PLAY waits for a keyframe before answering 503.
PLAY_START_TIMEOUT: Final = 10.0
#: The control name of the (only) track of a mount.
TRACK_CONTROL: Final = "trackID=0"
#: The control name of a mount's metadata track (when it has a metadata source).
METADATA_CONTROL: Final = "trackID=1"
#: The control name of a mount's AAC audio track (when its stream has sound).
AUDIO_CONTROL: Final = "trackID=2"
#: Default seconds an on-demand mount stays subscribed after its last session ended.
DEFAULT_IDLE_TIMEOUT: Final = 10.0
PUBLIC_METHODS: Final = (
    "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"
)
SERVER_NAME: Final = "PlatoniCam"
_METHODS: Final = frozenset(m.strip() for m in PUBLIC_METHODS.split(","))

_Reply = Callable[..., RtspResponse]


def _without_query(uri: str) -> str:
    """``uri`` without its query (which may carry credentials: never logged)."""
    return uri.split("?", 1)[0]


def _control(uri: str, name: str) -> str:
    """The SDP control URL of track ``name`` for a DESCRIBE of ``uri``: the relative
    name, or an absolute URL repeating the query when ``uri`` has one."""
    split = urllib.parse.urlsplit(uri)
    if not split.query or not split.scheme or not split.netloc:
        return name
    base = urllib.parse.urlunsplit((split.scheme, split.netloc, split.path.rstrip("/"), "", ""))
    return f"{base}/{name}?{split.query}"


class _Connection:
    """One client's RTSP connection: reads requests and answers them in order."""

    def __init__(
        self, server: RtspServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        transport = writer.transport
        assert isinstance(transport, asyncio.WriteTransport)
        self.transport = transport
        peer = writer.get_extra_info("peername")
        self.peer_host = str(peer[0]) if peer else "127.0.0.1"
        self.sessions: set[Session] = set()

    def write(self, response: RtspResponse) -> None:
        if not self.transport.is_closing():
            self.transport.write(bytes(response))

    def close(self) -> None:
        self.transport.close()

    async def run(self) -> None:
        parser = RtspParser()
        while True:
            try:
                event = parser.next_event()
            except RtspProtocolError as exc:
                log.info("closing RTSP connection from %s: %s", self.peer_host, exc)
                self.write(RtspResponse(400, Headers.of({"Server": SERVER_NAME})))
                return
            if event is NEED_DATA:
                try:
                    data = await self.reader.read(65536)
                except ConnectionError:
                    return
                parser.receive_data(data)
                continue
            if isinstance(event, ConnectionClosed):
                return
            if isinstance(event, InterleavedData):
                # RTCP receiver reports over TCP: proof the client is alive.
                self.server._touch(self.sessions)
                continue
            if isinstance(event, RtspResponse):
                continue
            try:
                response = await self.server._answer(self, event)
            except (RtspError, OSError) as exc:
                # E.g. no UDP port pair could be bound: this request fails, the connection lives.
                log.warning("RTSP %s %s failed: %s", event.method, _without_query(event.uri), exc)
                response = RtspResponse(500, Headers.of({"CSeq": event.headers.get("CSeq") or "0"}))
            if response is not None:
                self.write(response)


class RtspServer:
    """An RTSP/1.0 server for live streams (see the module docstring for its behaviour).

    ``authenticator`` maps a username to its password; when given, every method
    but OPTIONS needs HTTP Digest credentials (realm ``realm``). Bind to
    ``host``/``port`` (port 0 picks a free one, read it from :attr:`port` after
    :meth:`start`). Use as ``async with RtspServer(...) as server:``.

    ``session_timeout`` is in seconds; ``max_payload`` caps RTP payloads in
    bytes; ``tcp_high_water`` is the per-client backlog (bytes) beyond which a
    TCP client skips to the next keyframe. ``resolver`` mounts paths on request
    and ``idle_timeout`` is how long (seconds) an on-demand mount stays
    subscribed, and a resolved one mounted, without sessions (see the module
    docstring).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        authenticator: PasswordLookup | None = None,
        *,
        realm: str = "PlatoniCam",
        session_timeout: float = DEFAULT_SESSION_TIMEOUT,
        max_payload: int = 1400,
        tcp_high_water: int = TCP_HIGH_WATER,
        resolver: MountResolver | None = None,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        self.host = host
        self._resolver = resolver
        self.idle_timeout = idle_timeout
        self._requested_port = port
        self._verifier = DigestVerifier(realm, authenticator) if authenticator else None
        self.session_timeout = session_timeout
        # Whole seconds in the Session header (RFC 2326 §12.37); round up, never to 0.
        self._timeout_header = max(1, math.ceil(session_timeout))
        self.max_payload = max_payload
        self.tcp_high_water = tcp_high_water
        self._mounts: dict[str, Mount] = {}
        self._sessions: dict[str, Session] = {}
        self._connections: dict[_Connection, asyncio.Task[None]] = {}
        self._udp_clients: dict[Address, Session] = {}
        self._udp: UdpPorts | None = None
        self._server: asyncio.Server | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._port = 0

    # -- life cycle ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port the server listens on (valid after :meth:`start`)."""
        return self._port

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def session_ids(self) -> frozenset[str]:
        """The ids of the sessions alive now."""
        return frozenset(self._sessions)

    def playing(self, path: str) -> int:
        """How many sessions are playing (or starting to play) the stream at ``path``."""
        mount = self._mounts.get(path.strip("/"))
        if mount is None:
            return 0
        return sum(1 for session in mount.sessions if session.state in ("starting", "playing"))

    @property
    def connection_count(self) -> int:
        """How many client connections are open now."""
        return len(self._connections)

    @property
    def mounted(self) -> frozenset[str]:
        """The paths mounted now (those a resolver mounted included)."""
        return frozenset(self._mounts)

    @property
    def subscribed(self) -> frozenset[str]:
        """The mounted paths whose stream is subscribed now."""
        return frozenset(path for path, mount in self._mounts.items() if mount.subscribed)

    def url(self, path: str) -> str:
        """``rtsp://host:port/path`` of a mount on this server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"rtsp://{host}:{self._port}/{path.strip('/')}"

    async def start(self) -> None:
        """Listen, and subscribe to every mounted stream. Raises ``OSError`` if the bind fails."""
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._handle_connection, self.host, self._requested_port
        )
        self._port = int(self._server.sockets[0].getsockname()[1])
        for mount in self._mounts.values():
            mount.start()
        self._reaper = asyncio.get_running_loop().create_task(self._reap(), name="rtsp-reaper")

    async def close(self) -> None:
        """Stop listening, end every session and connection, and unsubscribe from every stream."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        if self._reaper is not None:
            await cancel_and_wait(self._reaper)
        for mount in self._mounts.values():
            await mount.stop()
        for session in list(self._sessions.values()):
            self._end_session(session, close_connection=False)
        tasks = list(self._connections.values())
        for connection in list(self._connections):
            connection.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def mount(
        self,
        path: str,
        stream: LiveStream,
        metadata: MetadataSource | None = None,
        *,
        authorize: MountAuthorizer | None = None,
        on_demand: bool = False,
    ) -> None:
        """Serve ``stream`` at ``rtsp://host:port/path``, with an ONVIF metadata
        track (:data:`METADATA_CONTROL`) fed by ``metadata`` when given.

        ``authorize`` decides who may use the path; ``on_demand`` subscribes to
        the stream only while clients use it (see the module docstring).
        Raises :class:`RtspError` when ``path`` is empty or already mounted.
        """
        self._add_mount(path, Mountpoint(stream, metadata, authorize, on_demand), resolved=False)

    def _add_mount(self, path: str, point: Mountpoint, *, resolved: bool) -> Mount:
        key = path.strip("/")
        if not key:
            raise RtspError("cannot mount a stream at the root path")
        if key in self._mounts:
            raise RtspError(f"a stream is already mounted at {key!r}")
        mount = Mount(
            key,
            point.stream,
            point.metadata,
            max_payload=self.max_payload,
            end_session=lambda session: self._end_session(session, close_connection=True),
            authorize=point.authorize,
            on_demand=point.on_demand,
            resolved=resolved,
        )
        if self._server is not None:
            mount.used_at = asyncio.get_running_loop().time()
        self._mounts[key] = mount
        if self._server is not None:
            mount.start()
        return mount

    async def unmount(self, path: str) -> None:
        """Stop serving ``path``: its sessions end and its subscription is closed."""
        mount = self._mounts.pop(path.strip("/"), None)
        if mount is not None:
            await mount.stop()
            for session in list(mount.sessions):
                self._end_session(session, close_connection=True)
            for session in list(self._sessions.values()):
                if session.mount is mount:
                    self._end_session(session, close_connection=True)

    # -- connections and sessions ---------------------------------------------------------

    async def _handle_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        connection = _Connection(self, reader, writer)
        task = asyncio.current_task()
        assert task is not None
        self._connections[connection] = task
        try:
            await connection.run()
        finally:
            self._connections.pop(connection, None)
            for session in list(connection.sessions):
                if not isinstance(session.sink, UdpSink):
                    self._end_session(session, close_connection=False)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    def _end_session(self, session: Session, *, close_connection: bool) -> None:
        self._sessions.pop(session.id, None)
        session.mount.sessions.discard(session)
        session.connection.sessions.discard(session)
        for old in (session.sink, session.metadata_sink, session.audio_sink):
            if isinstance(old, UdpSink):
                self._udp_clients.pop(old.rtp, None)
                self._udp_clients.pop(old.rtcp, None)
        if session.started is not None and not session.started.done():
            session.started.set_result(None)  # PLAY, if waiting, answers 454
        session.sink = None
        session.metadata_sink = None
        session.audio_sink = None
        session.state = "ended"
        if close_connection:
            session.connection.close()

    def _touch(self, sessions: set[Session]) -> None:
        now = asyncio.get_running_loop().time()
        for session in sessions:
            session.last_activity = now

    def _udp_activity(self, source: Address) -> None:
        session = self._udp_clients.get(source)
        if session is not None:
            self._touch({session})

    async def _reap(self) -> None:
        loop = asyncio.get_running_loop()
        period = max(0.05, min(1.0, self.session_timeout / 4, self.idle_timeout / 4))
        while True:
            await asyncio.sleep(period)
            now = loop.time()
            for session in list(self._sessions.values()):
                if now - session.last_activity > self.session_timeout:
                    log.info("RTSP session %s timed out", session.id)
                    self._end_session(session, close_connection=False)
            await self._release_idle(now)

    async def _release_idle(self, now: float) -> None:
        """Unsubscribe on-demand mounts, and remove resolved ones, idle for ``idle_timeout``."""
        used = {session.mount for session in self._sessions.values()}
        for mount in list(self._mounts.values()):
            if mount in used or mount.waiters:
                mount.used_at = now
                continue
            if now - mount.used_at < self.idle_timeout:
                continue
            if mount.resolved:
                log.info("RTSP mount %s idle: removed", mount.path)
                await self.unmount(mount.path)
            elif mount.on_demand and mount.subscribed:
                log.info("RTSP mount %s idle: unsubscribed", mount.path)
                await mount.stop()

    async def _udp_ports(self) -> UdpPorts:
        if self._udp is None:
            self._udp = await bind_udp_ports(self.host, self._udp_activity)
        return self._udp

    # -- requests -------------------------------------------------------------------------

    @staticmethod
    def _path(uri: str) -> str:
        return urllib.parse.unquote(urllib.parse.urlsplit(uri).path).strip("/")

    async def _resolve(self, request: RtspRequest) -> None:
        """Ask the resolver about the path a DESCRIBE or SETUP names, and (un)mount
        what it says (see the module docstring)."""
        resolver = self._resolver
        if resolver is None or request.method not in ("DESCRIBE", "SETUP"):
            return
        found = self._find_mount(request.uri)
        if found is not None and not found[0].resolved:
            return  # mounted by hand: the resolver has no say
        path = self._path(request.uri)
        if request.method == "SETUP":
            if found is not None:
                return
            head, _, control = path.rpartition("/")
            if control in (TRACK_CONTROL, METADATA_CONTROL, AUDIO_CONTROL):
                path = head
        if not path:
            return
        point = await resolver(path)
        current = self._mounts.get(path)
        if point is None:
            if current is not None and current.resolved:
                log.info("RTSP mount %s is gone: removed", path)
                await self.unmount(path)
            return
        if current is None:
            self._add_mount(path, point, resolved=True)

    def _find_mount(self, uri: str) -> tuple[Mount, str] | None:
        path = self._path(uri)
        best: Mount | None = None
        for key, mount in self._mounts.items():
            if (path == key or path.startswith(key + "/")) and (
                best is None or len(key) > len(best.path)
            ):
                best = mount
        if best is None:
            return None
        return best, path[len(best.path) :].strip("/")

    async def _answer(self, connection: _Connection, request: RtspRequest) -> RtspResponse | None:
        cseq = request.headers.get("CSeq")
        base: dict[str, str] = {"Server": SERVER_NAME}
        if cseq is not None:
            base = {"CSeq": cseq, **base}

        def reply(
            status: int, extra: dict[str, str] | None = None, body: bytes = b""
        ) -> RtspResponse:
            return RtspResponse(status, Headers.of({**base, **(extra or {})}), body)

        if cseq is None:
            return reply(400)
        loop = asyncio.get_running_loop()
        session: Session | None = None
        session_header = request.headers.get("Session")
        if session_header is not None:
            session = self._sessions.get(parse_session(session_header)[0])
            if session is not None:
                session.last_activity = loop.time()
        method = request.method
        if method not in _METHODS:
            return reply(501, {"Public": PUBLIC_METHODS})
        if method == "OPTIONS":
            return reply(200, {"Public": PUBLIC_METHODS})
        if self._verifier is not None:
            verdict = self._verifier.verify(
                method, request.headers.get("Authorization"), loop.time()
            )
            if verdict.username is None:
                challenge = self._verifier.challenge(loop.time(), stale=verdict.stale)
                return reply(401, {"WWW-Authenticate": str(challenge)})
        if session_header is not None and session is None:
            return reply(454)
        await self._resolve(request)
        found = self._find_mount(request.uri)
        if (
            found is not None
            and found[0].authorize is not None
            and (session is None or session.mount is not found[0])
        ):
            # The mount the URL names decides who may use it, unless the request comes
            # with a session of that mount (whose SETUP was authorized).
            decision = found[0].authorize(request)
            if decision.principal is None:
                log.info(
                    "RTSP %s %s from %s refused",
                    method,
                    _without_query(request.uri),
                    connection.peer_host,
                )
                extra = (
                    {} if decision.challenge is None else {"WWW-Authenticate": decision.challenge}
                )
                return reply(401, extra)
        if method == "DESCRIBE":
            return await self._describe(request, reply)
        if method == "SETUP":
            return await self._setup(connection, request, session, reply)
        if method in ("GET_PARAMETER", "SET_PARAMETER"):
            if method == "SET_PARAMETER" and request.body.strip():
                return reply(451)
            return reply(200)
        if session is None:
            return reply(454)
        session_value = f"{session.id};timeout={self._timeout_header}"
        if method == "PLAY":
            return await self._play(connection, request, session, reply, session_value)
        if method == "PAUSE":
            if session.state in ("playing", "starting"):
                session.state = "ready"
                session.mount.sessions.discard(session)
            return reply(200, {"Session": session_value})
        if method == "TEARDOWN":
            self._end_session(session, close_connection=False)
            return reply(200, {"Session": session.id})
        raise AssertionError(f"unhandled method {method}")  # _METHODS and the branches agree

    async def _describe(self, request: RtspRequest, reply: _Reply) -> RtspResponse:
        found = self._find_mount(request.uri)
        if found is None or found[1]:
            return reply(404)
        mount = found[0]
        if not await mount.ready(PLAY_START_TIMEOUT):
            log.warning("cannot describe %s: no video from its stream", mount.path)
            return reply(503)
        try:
            sdp = describe_stream(
                mount.stream.description,
                control=_control(request.uri, TRACK_CONTROL),
                session_id=mount.video.ssrc,
                address=self.host,
            )
        except RtspError as exc:
            log.warning("cannot describe %s: %s", mount.path, exc)
            return reply(503)
        audio = mount.audio
        if audio is not None:
            media = describe_aac_media(audio, control=_control(request.uri, AUDIO_CONTROL))
            sdp = replace(sdp, media=(*sdp.media, media))
        if mount.metadata is not None:
            media = describe_metadata_media(control=_control(request.uri, METADATA_CONTROL))
            sdp = replace(sdp, media=(*sdp.media, media))
        base = _without_query(request.uri).rstrip("/") + "/"
        return reply(
            200,
            {"Content-Type": "application/sdp", "Content-Base": base},
            str(sdp).encode(),
        )

    async def _setup(
        self,
        connection: _Connection,
        request: RtspRequest,
        session: Session | None,
        reply: _Reply,
    ) -> RtspResponse:
        found = self._find_mount(request.uri)
        if found is None or found[1] not in (TRACK_CONTROL, "", METADATA_CONTROL, AUDIO_CONTROL):
            return reply(404)
        mount = found[0]
        kind = {METADATA_CONTROL: "metadata", AUDIO_CONTROL: "audio"}.get(found[1], "video")
        if kind == "metadata" and mount.metadata is None:
            return reply(404)
        if session is not None and session.mount is not mount:
            return reply(459)
        if session is not None and session.state != "ready":
            return reply(455)
        if not await mount.ready(PLAY_START_TIMEOUT):
            return reply(503)
        audio = mount.audio
        if kind == "audio" and audio is None:
            return reply(404)
        transport_header = request.headers.get("Transport")
        if transport_header is None:
            return reply(461)
        try:
            specs = parse_transport(transport_header)
        except RtspProtocolError:
            return reply(400)
        chosen: TransportSpec | None = None
        for spec in specs:
            if spec.unicast and (spec.is_tcp or (spec.protocol == "RTP/AVP" and spec.client_port)):
                chosen = spec
                break
        if chosen is None:
            return reply(461)
        loop = asyncio.get_running_loop()
        if session is None:
            session = Session(secrets.token_hex(8), connection, mount, loop.time())
            self._sessions[session.id] = session
            connection.sessions.add(session)
        else:
            previous = {
                "video": session.sink,
                "metadata": session.metadata_sink,
                "audio": session.audio_sink,
            }[kind]
            if isinstance(previous, UdpSink):
                self._udp_clients.pop(previous.rtp, None)
                self._udp_clients.pop(previous.rtcp, None)
        sink: TcpSink | UdpSink
        if chosen.is_tcp:
            # A session's data rides on the connection that set it up.
            if session.connection is not connection:
                session.connection.sessions.discard(session)
                session.connection = connection
                connection.sessions.add(session)
            channels = chosen.interleaved or ((2, 3) if kind == "audio" else (0, 1))
            sink = TcpSink(connection.transport, channels, self.tcp_high_water)
        else:
            assert chosen.client_port is not None
            ports = await self._udp_ports()
            rtp = (connection.peer_host, chosen.client_port[0])
            rtcp = (connection.peer_host, chosen.client_port[1])
            sink = UdpSink(ports, rtp, rtcp)
            self._udp_clients[rtp] = session
            self._udp_clients[rtcp] = session
        if kind == "metadata":
            session.metadata_sink = sink
            session.metadata_uri = request.uri
            ssrc = mount.metadata_track.ssrc
        elif kind == "audio":
            session.audio_sink = sink
            session.audio_uri = request.uri
            session.audio_description = audio
            ssrc = mount.audio_track.ssrc
        else:
            session.sink = sink
            session.track_uri = request.uri
            ssrc = mount.video.ssrc
        session.generation = mount.stream.description.generation
        return reply(
            200,
            {
                "Transport": str(sink.describe(ssrc)),
                "Session": f"{session.id};timeout={self._timeout_header}",
            },
        )

    async def _play(
        self,
        connection: _Connection,
        request: RtspRequest,
        session: Session,
        reply: _Reply,
        session_value: str,
    ) -> RtspResponse | None:
        if session.sink is None and session.metadata_sink is None and session.audio_sink is None:
            return reply(455)
        if session.state != "ready":
            return reply(200, {"Session": session_value})
        if not await session.mount.ready(PLAY_START_TIMEOUT):
            return reply(503, {"Session": session_value})
        if session.state != "ready":  # ended (or played by a pipelined request) meanwhile
            return reply(454 if session.state == "ended" else 200, {"Session": session_value})
        started: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_start(sequence: int, rtp_time: int) -> None:
            infos = []
            mount = session.mount
            if session.sink is not None:
                infos.append(f"url={session.track_uri};seq={sequence};rtptime={rtp_time}")
            if session.audio_sink is not None:
                infos.append(
                    f"url={session.audio_uri};seq={mount.audio_track.sequence};"
                    f"rtptime={mount.audio_start_time()}"
                )
            if session.metadata_sink is not None:
                track = mount.metadata_track
                infos.append(
                    f"url={session.metadata_uri};seq={track.sequence};rtptime={track.mapping[1]}"
                )
            info = ",".join(infos)
            headers = {"Session": session_value, "Range": "npt=0.000-", "RTP-Info": info}
            connection.write(reply(200, headers))

        session.on_start = on_start
        session.started = started
        session.state = "starting"
        session.mount.sessions.add(session)
        try:
            await asyncio.wait_for(started, PLAY_START_TIMEOUT)
        except TimeoutError:
            session.state = "ready"
            session.on_start = None
            session.mount.sessions.discard(session)
            return reply(503, {"Session": session_value})
        if session.state == "ended":
            return reply(454)
        return None  # on_start wrote the answer, ahead of the first packet
