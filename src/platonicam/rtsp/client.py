"""The RTSP/RTSPS client: pull one camera's live video (and AAC audio) without decoding it.

Strategy: two pure layers and a thin asyncio shell.

* :class:`~platonicam.rtsp.handshake.ClientHandshake` (in
  :mod:`platonicam.rtsp.handshake`) is the RFC 2326 request/response sequence,
  authentication included, and the choice of tracks; :func:`parse_url` (in
  :mod:`platonicam.rtsp.url`) takes credentials out of the URL.
* :class:`~platonicam.rtsp.receivers.VideoReceiver`, ``AacReceiver`` and
  ``MetadataReceiver`` (in :mod:`platonicam.rtsp.receivers`) turn RTP and RTCP
  of one track into access units, AAC frames and metadata documents, and
  tolerate the camera quirks listed there.
* :class:`RtspClient`, here, owns the connection: one reader task feeds the
  parser, resolves request futures by ``CSeq`` and queues media (from the
  interleaved channels, or the UDP port pairs it binds per track); a
  keep-alive task sends ``GET_PARAMETER`` (``OPTIONS`` when the server does
  not list it) at half the session timeout; :meth:`RtspClient.close` sends
  ``TEARDOWN``.

Bytes that break the ``$`` framing make the connection unusable
(:class:`~platonicam.rtsp.errors.RtspProtocolError`); a consumer slower than
the stream loses non-keyframes beyond :data:`MAX_QUEUED` queued events.

The names of the pure layers are re-exported here, so ``platonicam.rtsp.client``
stays the one import for users of the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import ssl
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Final, Self

from platonicam.clock import Clock, SystemClock
from platonicam.rtsp.errors import (
    RtpError,
    RtspConnectionError,
    RtspError,
    RtspStatusError,
    RtspTimeoutError,
)
from platonicam.rtsp.handshake import (
    DEFAULT_SESSION_TIMEOUT,
    USER_AGENT,
    ClientHandshake,
    HandshakeState,
    Track,
    TransportMode,
)
from platonicam.rtsp.message import (
    NEED_DATA,
    ConnectionClosed,
    Headers,
    InterleavedData,
    RtspParser,
    RtspRequest,
    RtspResponse,
)
from platonicam.rtsp.metadata import MetadataDocument
from platonicam.rtsp.ports import bind_port_pair
from platonicam.rtsp.receivers import (
    DEFAULT_MAX_MALFORMED,
    MALFORMED_WINDOW,
    AacReceiver,
    MetadataReceiver,
    VideoReceiver,
    _Budget,
)
from platonicam.rtsp.stream import AccessUnit, AudioDescription, AudioFrame, StreamDescription
from platonicam.rtsp.url import ParsedUrl, RtspCredentials, parse_url, resolve_control

__all__ = [
    "DEFAULT_MAX_MALFORMED",
    "DEFAULT_SESSION_TIMEOUT",
    "MALFORMED_WINDOW",
    "MAX_QUEUED",
    "USER_AGENT",
    "AacReceiver",
    "AccessUnit",
    "AudioDescription",
    "AudioFrame",
    "ClientHandshake",
    "HandshakeState",
    "MediaEvent",
    "MetadataDocument",
    "MetadataReceiver",
    "ParsedUrl",
    "RtspClient",
    "RtspCredentials",
    "StreamDescription",
    "Track",
    "TransportMode",
    "VideoReceiver",
    "parse_url",
    "resolve_control",
]

log = logging.getLogger(__name__)

#: Media events queued for a slow consumer beyond which non-keyframes are dropped.
MAX_QUEUED: Final = 2000

MediaEvent = AccessUnit | AudioFrame | MetadataDocument


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, client: RtspClient, track: int, rtcp: bool) -> None:
        self._client = client
        self._track = track
        self._rtcp = rtcp

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self._client._media_packet(self._track, self._rtcp, data)

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP error on an RTP port: %s", exc)


class RtspClient:
    """Pulls one RTSP (or RTSPS) stream: ``async with RtspClient(url, ...) as client:``.

    ``transport`` is ``"tcp"`` (interleaved on the RTSP connection, the
    default) or ``"udp"``. ``timeout`` (seconds) bounds connecting, each
    request's answer (PLAY included: some servers answer it only at the next
    keyframe) and each wait for media. ``tls`` is the context for ``rtsps://``
    (default: the system's, verifying the certificate and host name); passing
    one for an ``rtsp://`` URL also turns TLS on. Credentials come from
    ``username``/``password`` or from the URL (which is then stripped of them).

    :meth:`open` raises :class:`RtspConnectionError`, :class:`RtspTimeoutError`,
    :class:`RtspStatusError` (:class:`RtspAuthenticationError`),
    :class:`SdpError` or :class:`RtspProtocolError`; so does iterating
    :meth:`access_units` later, plus :class:`RtpError` when too many packets
    are malformed.
    """

    def __init__(
        self,
        url: str,
        username: str | None = None,
        password: str | None = None,
        *,
        transport: TransportMode = "tcp",
        timeout: float = 10.0,
        tls: ssl.SSLContext | None = None,
        clock: Clock | None = None,
        max_malformed: int = DEFAULT_MAX_MALFORMED,
        user_agent: str = USER_AGENT,
        metadata: bool = False,
    ) -> None:
        if transport not in ("tcp", "udp"):
            raise ValueError(f"transport must be 'tcp' or 'udp', not {transport!r}")
        parsed = parse_url(url)
        credentials = parsed.credentials
        if username is not None:
            credentials = RtspCredentials(username, password or "")
        self._parsed = parsed
        self.url = parsed.url
        self.username = credentials.username if credentials else None
        self.transport: TransportMode = transport
        self.timeout = timeout
        self._tls = (
            tls if tls is not None else (ssl.create_default_context() if parsed.tls else None)
        )
        self._clock: Clock = clock or SystemClock()
        self.handshake = ClientHandshake(
            parsed.url, credentials, transport=transport, user_agent=user_agent, metadata=metadata
        )
        self._budget = _Budget(max_malformed)
        self._video: VideoReceiver | None = None
        self._audio: AacReceiver | None = None
        self._metadata: MetadataReceiver | None = None
        self._channels: dict[int, tuple[int, bool]] = {}
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._udp: list[asyncio.DatagramTransport] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._waiters: dict[int, asyncio.Future[RtspResponse]] = {}
        self._queue: asyncio.Queue[MediaEvent | BaseException] = asyncio.Queue()
        self._failure: BaseException | None = None
        self._closed = False
        self._last_request_at = 0.0
        self.bytes_received = 0

    def __repr__(self) -> str:
        return (
            f"RtspClient(url={self.url!r}, username={self.username!r}, "
            f"transport={self.transport!r}, state={self.handshake.state!r})"
        )

    # -- what the stream is ----------------------------------------------------------

    @property
    def description(self) -> StreamDescription:
        """The video stream: from the SDP, then updated from in-band parameter sets.

        Raises :class:`RtspError` before :meth:`open` succeeded.
        """
        if self._video is not None:
            return self._video.description
        if self.handshake.video is None:
            raise RtspError("the stream is not described yet: open() first")
        return self.handshake.video

    @property
    def audio(self) -> AudioDescription | None:
        """The AAC track when the camera has one (``None`` otherwise)."""
        return self.handshake.audio

    @property
    def has_metadata(self) -> bool:
        """Whether a metadata track was set up (asked for with ``metadata=True``
        and offered by the camera's SDP)."""
        return any(t.kind == "metadata" for t in self.handshake.tracks)

    @property
    def malformed_packets(self) -> int:
        return self._budget.total

    @property
    def dropped_units(self) -> int:
        """Units dropped for lost packets (and their dependants up to the next keyframe)."""
        return self._video.dropped_units if self._video else 0

    # -- life cycle ------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect and run OPTIONS, DESCRIBE, SETUP (video, then AAC audio if any) and PLAY."""
        try:
            await self._open()
        except BaseException:
            await self._shutdown(teardown=False)
            raise

    async def _open(self) -> None:
        parsed = self._parsed
        try:
            async with asyncio.timeout(self.timeout):
                self._reader, self._writer = await asyncio.open_connection(
                    parsed.host,
                    parsed.port,
                    ssl=self._tls,
                    server_hostname=parsed.host if self._tls is not None else None,
                )
        except TimeoutError:
            raise RtspTimeoutError(
                f"connecting to {parsed.host}:{parsed.port} took over {self.timeout} s"
            ) from None
        except (OSError, ssl.SSLError) as exc:
            raise RtspConnectionError(
                f"cannot connect to {parsed.host}:{parsed.port}: {exc.strerror or exc}"
            ) from None
        self._tasks.append(asyncio.create_task(self._read_loop(), name=f"rtsp-read {self.url}"))
        handshake = self.handshake
        while True:
            if handshake.state == "setup" and handshake.tracks_needing_ports:
                for track in handshake.tracks_needing_ports:
                    handshake.set_client_ports(track, await self._bind_udp(len(self._udp) // 2))
            request = handshake.next_request()
            if request is None:
                break
            if handshake.state == "play":
                self._start_receivers()
            response = await self._transact(request)
            handshake.receive(response)
        self._tasks.append(
            asyncio.create_task(self._keepalive(), name=f"rtsp-keepalive {self.url}")
        )

    def _start_receivers(self) -> None:
        handshake = self.handshake
        assert handshake.video is not None
        for index, track in enumerate(handshake.tracks):
            if track.kind == "video":
                self._video = VideoReceiver(handshake.video, track.payload_type, self._budget)
            elif track.kind == "metadata":
                self._metadata = MetadataReceiver(
                    track.payload_type, self._budget, track.clock_rate
                )
            elif handshake.audio is not None:
                self._audio = AacReceiver(handshake.audio, track.payload_type, self._budget)
            if self.transport == "tcp":
                self._channels[track.interleaved[0]] = (index, False)
                self._channels[track.interleaved[1]] = (index, True)

    async def _bind_udp(self, track: int) -> tuple[int, int]:
        """Bind an even RTP port and the next odd one for RTCP, on the RTSP connection's address."""
        assert self._writer is not None
        local = self._writer.get_extra_info("sockname")
        host = str(local[0]) if local else "127.0.0.1"
        try:
            rtp_sock, rtcp_sock, port = bind_port_pair(host)
        except OSError as exc:
            raise RtspConnectionError(str(exc)) from None
        loop = asyncio.get_running_loop()
        for sock, rtcp in ((rtp_sock, False), (rtcp_sock, True)):
            transport, _ = await loop.create_datagram_endpoint(
                functools.partial(_Datagrams, self, track, rtcp), sock=sock
            )
            self._udp.append(transport)
        return port, port + 1

    async def close(self) -> None:
        """Send TEARDOWN (waiting at most a second for its answer) and release everything."""
        if self._closed:
            return
        await self._shutdown(teardown=True)

    async def _shutdown(self, *, teardown: bool) -> None:
        self._closed = True
        request = self.handshake.teardown_request() if teardown else None
        if request is not None and self._failure is None and self._writer is not None:
            with contextlib.suppress(RtspError, OSError):
                await self._transact(request, timeout=min(1.0, self.timeout))
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for transport in self._udp:
            transport.close()
        self._udp.clear()
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.cancel()
        self._waiters.clear()
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await self._writer.wait_closed()
            self._writer = None
        self._queue.put_nowait(RtspConnectionError("the client was closed"))

    # -- requests --------------------------------------------------------------------

    async def _transact(self, request: RtspRequest, timeout: float | None = None) -> RtspResponse:
        if self._failure is not None:
            raise self._failure
        assert self._writer is not None
        assert request.cseq is not None
        waiter: asyncio.Future[RtspResponse] = asyncio.get_running_loop().create_future()
        self._waiters[request.cseq] = waiter
        limit = self.timeout if timeout is None else timeout
        try:
            self._writer.write(bytes(request))
            self._last_request_at = asyncio.get_running_loop().time()
            async with asyncio.timeout(limit):
                return await waiter
        except TimeoutError:
            raise RtspTimeoutError(
                f"{request.method} {request.uri} got no answer within {limit} s"
            ) from None
        finally:
            self._waiters.pop(request.cseq, None)

    async def _keepalive(self) -> None:
        # Counted from the last request sent (PLAY may have been answered much later,
        # at the server's next keyframe), so the session never sits idle for longer.
        interval = max(1.0, self.handshake.session_timeout / 2)
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(max(0.0, self._last_request_at + interval - loop.time()))
            if loop.time() < self._last_request_at + interval:
                continue
            request = self.handshake.keepalive_request()
            try:
                response = await self._transact(request)
            except RtspTimeoutError as exc:
                self._fail(exc)
                return
            if response.status == 454:
                self._fail(
                    RtspStatusError(
                        "the server forgot our session", status=454, method=request.method
                    )
                )
                return

    # -- reading ---------------------------------------------------------------------

    def _fail(self, exc: BaseException) -> None:
        if self._failure is None:
            self._failure = exc
            self._queue.put_nowait(exc)
            for waiter in self._waiters.values():
                if not waiter.done():
                    waiter.set_exception(exc)

    async def _read_loop(self) -> None:
        assert self._reader is not None
        parser = RtspParser()
        reader = self._reader
        try:
            while True:
                event = parser.next_event()
                if event is NEED_DATA:
                    data = await reader.read(65536)
                    self.bytes_received += len(data)
                    parser.receive_data(data)
                    continue
                if isinstance(event, ConnectionClosed):
                    raise RtspConnectionError(f"{self._parsed.host} closed the connection")
                if isinstance(event, InterleavedData):
                    found = self._channels.get(event.channel)
                    if found is None:
                        self._budget.record(True)
                    else:
                        self._media_packet(found[0], found[1], event.payload)
                elif isinstance(event, RtspResponse):
                    cseq = event.cseq
                    waiter = self._waiters.get(cseq) if cseq is not None else None
                    if waiter is not None and not waiter.done():
                        waiter.set_result(event)
                elif isinstance(event, RtspRequest):
                    # Servers may ask us things (GET_PARAMETER as a liveness check, ANNOUNCE).
                    self._answer_server(event)
        except asyncio.CancelledError:
            raise
        except (RtspError, OSError, ssl.SSLError) as exc:
            if isinstance(exc, RtspError):
                self._fail(exc)
            else:
                self._fail(RtspConnectionError(f"connection to {self._parsed.host} lost: {exc}"))

    def _answer_server(self, request: RtspRequest) -> None:
        assert self._writer is not None
        headers = [("CSeq", request.headers.get("CSeq") or "0")]
        status = 200 if request.method in ("OPTIONS", "GET_PARAMETER") else 501
        self._writer.write(bytes(RtspResponse(status, Headers(tuple(headers)))))

    def _media_packet(self, track: int, rtcp: bool, data: bytes) -> None:
        if self._failure is not None:
            return
        arrival = self._clock.now().timestamp()
        if not data:
            return
        tracks = self.handshake.tracks
        try:
            if track == 0 and self._video is not None:
                if rtcp:
                    self._video.rtcp(data)
                else:
                    for unit in self._video.rtp(data, arrival):
                        self._enqueue(unit, unit.keyframe)
            elif track < len(tracks) and tracks[track].kind == "metadata":
                if self._metadata is not None:
                    if rtcp:
                        self._metadata.rtcp(data)
                    else:
                        for document in self._metadata.rtp(data, arrival):
                            self._enqueue(document, False)
            elif self._audio is not None:
                if rtcp:
                    self._audio.rtcp(data)
                else:
                    for frame in self._audio.rtp(data, arrival):
                        self._enqueue(frame, False)
        except RtpError as exc:
            self._fail(exc)

    def _enqueue(self, event: MediaEvent, keyframe: bool) -> None:
        if self._queue.qsize() >= MAX_QUEUED and not keyframe:
            return
        self._queue.put_nowait(event)

    async def media(self) -> AsyncIterator[MediaEvent]:
        """Video units and audio frames in arrival order, until the stream fails or is closed.

        Raises the error that ended the stream (see the class docstring), or
        :class:`RtspTimeoutError` after ``timeout`` seconds without media.
        """
        while True:
            try:
                async with asyncio.timeout(self.timeout):
                    item = await self._queue.get()
            except TimeoutError:
                error = RtspTimeoutError(f"{self.url} sent no media for {self.timeout} s")
                self._fail(error)
                raise error from None
            if isinstance(item, BaseException):
                self._queue.put_nowait(item)  # later iterations fail the same way
                if self._closed and self._failure is None:
                    return
                raise item
            yield item

    async def access_units(self) -> AsyncIterator[AccessUnit]:
        """The video access units (see :meth:`media`)."""
        async for item in self.media():
            if isinstance(item, AccessUnit):
                yield item

    async def metadata_documents(self) -> AsyncIterator[MetadataDocument]:
        """The metadata track's documents (see :meth:`media`); open with ``metadata=True``.

        Raises :class:`RtspError` at once when no metadata track was set up.
        """
        if not self.has_metadata:
            raise RtspError(f"{self.url} has no metadata track set up")
        async for item in self.media():
            if isinstance(item, MetadataDocument):
                yield item
