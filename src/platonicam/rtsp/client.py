"""The RTSP/RTSPS client: pull one camera's live video (and AAC audio) without decoding it.

Strategy: two pure layers and a thin asyncio shell.

* :class:`ClientHandshake` is the request/response state machine of RFC 2326
  (OPTIONS -> DESCRIBE -> SETUP per track -> PLAY), with the ``401`` answers
  (Digest preferred, Basic when it is all the camera offers), ``Content-Base``
  resolution of track URLs, the ``Session`` id and timeout, and the choice of
  keep-alive method. It builds :class:`~platonicam.rtsp.message.RtspRequest`
  objects and consumes :class:`~platonicam.rtsp.message.RtspResponse` objects;
  it never touches a socket, so tests script a server as a list of responses.
* :class:`VideoReceiver` and :class:`AacReceiver` turn RTP and RTCP packets of
  one track into :class:`~platonicam.rtsp.stream.AccessUnit` and
  :class:`AudioFrame` objects: depacketizing, RTP timestamp unwrapping, wall
  clock from RTCP sender reports, and the camera quirks listed below.
  :class:`MetadataReceiver` does the same for the ONVIF metadata track
  (``vnd.onvif.metadata``), set up only when asked for (``metadata=True``),
  yielding :class:`~platonicam.rtsp.metadata.MetadataDocument` objects.
* :class:`RtspClient` owns the connection: one reader task feeds the parser,
  resolves request futures by ``CSeq`` and queues media; a keep-alive task
  sends ``GET_PARAMETER`` (``OPTIONS`` when the server does not list it) at
  half the session timeout; :meth:`RtspClient.close` sends ``TEARDOWN``.

Quirks tolerated:

* Parameter sets sent as their own packets (GStreamer's ``rtph264pay
  config-interval=-1`` sends SPS and PPS as single-NAL packets with the IDR's
  timestamp; some cameras even set the marker bit on them): a unit without a
  picture is held back and its NAL units prepended to the next unit, so the
  IDR's access unit carries its SPS/PPS. In-band parameter sets that differ from
  the SDP's ``sprop`` replace them in :attr:`RtspClient.description`.
* Garbage: a malformed RTP packet or payload is counted and skipped; only when
  more than ``max_malformed`` of the last :data:`MALFORMED_WINDOW` packets were
  bad does the stream fail with :class:`~platonicam.rtsp.errors.RtpError`.
  Bytes that break the ``$`` framing make the connection unusable
  (:class:`~platonicam.rtsp.errors.RtspProtocolError`).
* Loss: a unit that lost packets is dropped, and so is everything after it up
  to the next keyframe (a decoder must not see references it cannot resolve).

The password is never put in a URL, a log line, an error message or a ``repr``:
credentials embedded in the URL are moved out of it at construction.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import socket
import ssl
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Final, Literal, Self

from platonicam.clock import Clock, SystemClock
from platonicam.rtsp import h264, h265
from platonicam.rtsp._nal import Depacketizer
from platonicam.rtsp.aac import AacDepacketizer
from platonicam.rtsp.auth import DigestChallenge, answer_challenge, basic_authorization
from platonicam.rtsp.errors import (
    AuthError,
    RtpError,
    RtspAuthenticationError,
    RtspConnectionError,
    RtspError,
    RtspProtocolError,
    RtspStatusError,
    RtspTimeoutError,
    SdpError,
)
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
from platonicam.rtsp.metadata import (
    METADATA_CLOCK_RATE,
    MetadataDepacketizer,
    MetadataDocument,
    is_metadata_media,
)
from platonicam.rtsp.rtp import RTCP_SR, RtcpSenderReport, RtpPacket, unix_from_ntp
from platonicam.rtsp.sdp import MediaDescription, SessionDescription, stream_from_media
from platonicam.rtsp.stream import (
    AccessUnit,
    AudioDescription,
    AudioFrame,
    StreamDescription,
    VideoCodec,
)

log = logging.getLogger(__name__)

TransportMode = Literal["tcp", "udp"]

#: Session timeout assumed when SETUP's ``Session`` header names none (RFC 2326 §12.37).
DEFAULT_SESSION_TIMEOUT: Final = 60
#: How many recent packets the malformed-packet budget looks at.
MALFORMED_WINDOW: Final = 100
#: Default: more than this many bad packets among the last :data:`MALFORMED_WINDOW` fail the stream.
DEFAULT_MAX_MALFORMED: Final = 50
#: Media events queued for a slow consumer beyond which non-keyframes are dropped.
MAX_QUEUED: Final = 2000
USER_AGENT: Final = "PlatoniCam"


@dataclass(frozen=True, slots=True)
class RtspCredentials:
    """A camera's username and password; ``repr`` never shows the password."""

    username: str
    password: str = field(repr=False)


MediaEvent = AccessUnit | AudioFrame | MetadataDocument


@dataclass(frozen=True, slots=True)
class ParsedUrl:
    """An ``rtsp://`` or ``rtsps://`` URL with any ``user:password@`` moved out of it."""

    url: str
    host: str
    port: int
    tls: bool
    credentials: RtspCredentials | None


def parse_url(url: str) -> ParsedUrl:
    """Split ``url``; the returned ``url`` has no user information (safe to log and send).

    Percent-escapes in embedded credentials are decoded. Raises
    :class:`RtspError` for another scheme or a missing host (the message names
    the scheme and host only, never the password).
    """
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("rtsp", "rtsps"):
        raise RtspError(f"not an rtsp:// or rtsps:// URL (scheme {parts.scheme!r})")
    host = parts.hostname
    if not host:
        raise RtspError("RTSP URL has no host")
    try:
        port = parts.port or (322 if scheme == "rtsps" else 554)
    except ValueError:
        raise RtspError(f"RTSP URL for {host} has an invalid port") from None
    credentials = None
    if parts.username is not None:
        credentials = RtspCredentials(
            urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or "")
        )
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    clean = urllib.parse.urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    return ParsedUrl(clean, host, port, scheme == "rtsps", credentials)


def resolve_control(base: str, control: str | None) -> str:
    """The absolute URL of a ``a=control`` value against the ``Content-Base``.

    An absolute control is used as it is; ``*`` or none means the base itself;
    a relative one is appended to the base with one ``/`` between, which is how
    cameras mean it even when their base lacks the trailing slash that RFC 3986
    resolution would need (it would otherwise replace the last path segment).
    """
    if control is None or control in ("", "*"):
        return base
    if "://" in control:
        return control
    return base.rstrip("/") + "/" + control.lstrip("/")


# --- the handshake (sans-IO) ------------------------------------------------------------


@dataclass(slots=True)
class Track:
    """One media section we set up: its URL, payload type, clock rate and transport."""

    kind: Literal["video", "audio", "metadata"]
    uri: str
    payload_type: int
    clock_rate: int
    interleaved: tuple[int, int]
    client_ports: tuple[int, int] | None = None
    server_ports: tuple[int, int] | None = None
    ssrc: int | None = None


HandshakeState = Literal["options", "describe", "setup", "play", "playing", "closed"]


class ClientHandshake:
    """RFC 2326 client states, driven by the caller: no I/O.

    Loop: ``request = next_request()`` (``None`` once playing), send it, then
    pass its response to :meth:`receive`. A ``401`` is answered by building the
    same request again with credentials (so :meth:`next_request` repeats it);
    any other non-2xx status raises :class:`RtspStatusError`, a second ``401``
    (credentials refused) :class:`RtspAuthenticationError`. With
    ``transport="udp"`` the caller binds a port pair per track and passes it
    to :meth:`set_client_ports` before that track's SETUP (see
    :attr:`tracks_needing_ports`).
    """

    def __init__(
        self,
        url: str,
        credentials: RtspCredentials | None = None,
        *,
        transport: TransportMode = "tcp",
        user_agent: str = USER_AGENT,
        metadata: bool = False,
    ) -> None:
        parsed = parse_url(url)
        self.url = parsed.url
        self._credentials = credentials or parsed.credentials
        self.want_metadata = metadata
        self.metadata_media: MediaDescription | None = None
        self.transport: TransportMode = transport
        self._user_agent = user_agent
        self.state: HandshakeState = "options"
        self._cseq = 0
        self._challenge: DigestChallenge | None = None
        self._basic = False
        self._nonce_count = 0
        self._auth_failed_for: str | None = None  # the method whose credentials were refused
        self._outstanding: RtspRequest | None = None
        self._retry = False
        self.public: frozenset[str] = frozenset()
        self.base = self.url
        self.session_id: str | None = None
        self.session_timeout = DEFAULT_SESSION_TIMEOUT
        self.sdp: SessionDescription | None = None
        self.video: StreamDescription | None = None
        self.audio: AudioDescription | None = None
        self.audio_media: MediaDescription | None = None
        self.tracks: list[Track] = []
        self._setup_index = 0

    def __repr__(self) -> str:
        user = self._credentials.username if self._credentials else None
        return f"ClientHandshake(url={self.url!r}, user={user!r}, state={self.state!r})"

    @property
    def tracks_needing_ports(self) -> list[Track]:
        """UDP tracks still without a client port pair (empty for TCP)."""
        if self.transport != "udp":
            return []
        return [t for t in self.tracks if t.client_ports is None]

    def set_client_ports(self, track: Track, ports: tuple[int, int]) -> None:
        track.client_ports = ports

    @property
    def keepalive_method(self) -> str:
        """``GET_PARAMETER`` when the server lists it in ``Public``, else ``OPTIONS``."""
        return "GET_PARAMETER" if "GET_PARAMETER" in self.public else "OPTIONS"

    def request(
        self, method: str, uri: str, headers: Mapping[str, str] | None = None
    ) -> RtspRequest:
        """A request with ``CSeq``, ``User-Agent``, ``Session`` and ``Authorization`` filled in."""
        self._cseq += 1
        fields: list[tuple[str, str]] = [("CSeq", str(self._cseq))]
        fields.extend((headers or {}).items())
        fields.append(("User-Agent", self._user_agent))
        if self.session_id is not None and method not in ("OPTIONS", "DESCRIBE"):
            fields.append(("Session", self.session_id))
        authorization = self._authorization(method, uri)
        if authorization is not None:
            fields.append(("Authorization", authorization))
        return RtspRequest(method, uri, Headers(tuple(fields)))

    def _authorization(self, method: str, uri: str) -> str | None:
        credentials = self._credentials
        if credentials is None:
            return None
        if self._challenge is not None:
            self._nonce_count += 1
            answer = answer_challenge(
                self._challenge,
                username=credentials.username,
                password=credentials.password,
                method=method,
                uri=uri,
                nc=self._nonce_count,
            )
            return str(answer)
        if self._basic:
            return basic_authorization(credentials.username, credentials.password)
        return None

    def next_request(self) -> RtspRequest | None:
        """The next handshake request, or ``None`` once PLAY succeeded (or after close)."""
        if self._outstanding is not None and not self._retry:
            raise RtspError(f"{self._outstanding.method} is still waiting for its response")
        self._retry = False
        request: RtspRequest | None
        if self.state == "options":
            request = self.request("OPTIONS", self.url)
        elif self.state == "describe":
            request = self.request("DESCRIBE", self.url, {"Accept": "application/sdp"})
        elif self.state == "setup":
            track = self.tracks[self._setup_index]
            request = self.request("SETUP", track.uri, {"Transport": self._transport_for(track)})
        elif self.state == "play":
            uri = resolve_control(self.base, self.sdp.attribute("control") if self.sdp else None)
            request = self.request("PLAY", uri, {"Range": "npt=0.000-"})
        else:
            request = None
        self._outstanding = request
        return request

    def _transport_for(self, track: Track) -> str:
        if self.transport == "tcp":
            low, high = track.interleaved
            return f"RTP/AVP/TCP;unicast;interleaved={low}-{high}"
        if track.client_ports is None:
            raise RtspError("a UDP SETUP needs the client's port pair first")
        low, high = track.client_ports
        return f"RTP/AVP;unicast;client_port={low}-{high}"

    def receive(self, response: RtspResponse) -> None:
        """Advance on the response to the request :meth:`next_request` returned last.

        Raises :class:`RtspStatusError` (:class:`RtspAuthenticationError` for a
        refused login), :class:`SdpError` for an SDP without H.264/H.265 video,
        and :class:`RtspProtocolError` for a SETUP answer without a usable
        ``Transport`` or ``Session``.
        """
        request = self._outstanding
        if request is None:
            raise RtspError("a response arrived with no request outstanding")
        if response.status == 401:
            self._on_unauthorized(request, response)
            self._retry = True
            return
        self._outstanding = None
        if not 200 <= response.status < 300:
            reason = response.reason or str(response.status)
            raise RtspStatusError(
                f"{request.method} {request.uri} was answered {response.status} {reason}",
                status=response.status,
                method=request.method,
            )
        if self.state == "options":
            public = response.headers.get("Public") or ""
            self.public = frozenset(m.strip().upper() for m in public.split(",") if m.strip())
            self.state = "describe"
        elif self.state == "describe":
            self._on_describe(request, response)
            self.state = "setup"
        elif self.state == "setup":
            self._on_setup(self.tracks[self._setup_index], response)
            self._setup_index += 1
            if self._setup_index == len(self.tracks):
                self.state = "play"
        elif self.state == "play":
            self.state = "playing"

    def _on_unauthorized(self, request: RtspRequest, response: RtspResponse) -> None:
        user = self._credentials.username if self._credentials else None
        if self._credentials is None:
            raise RtspAuthenticationError(
                f"{request.method} {request.uri} needs credentials and none are configured",
                status=401,
                method=request.method,
            )
        digest: DigestChallenge | None = None
        basic = False
        for value in response.headers.get_all("WWW-Authenticate"):
            scheme = value.strip().split(" ", 1)[0].lower()
            if scheme == "digest" and digest is None:
                try:
                    digest = DigestChallenge.parse(value)
                except AuthError as exc:
                    log.debug("ignoring an unreadable Digest challenge: %s", exc)
            elif scheme == "basic":
                basic = True
        already = request.headers.get("Authorization") is not None
        if already and not (digest is not None and digest.stale):
            raise RtspAuthenticationError(
                f"{request.method} {request.uri} refused the credentials of user {user!r}",
                status=401,
                method=request.method,
            )
        if digest is not None:
            try:
                answer_challenge(digest, username="", password="", method="", uri="")
            except AuthError as exc:
                raise RtspAuthenticationError(
                    f"{request.method} {request.uri}: {exc}", status=401, method=request.method
                ) from None
            self._challenge = digest
            self._nonce_count = 0
        elif basic:
            self._basic = True
        else:
            raise RtspAuthenticationError(
                f"{request.method} {request.uri} answered 401 without a Digest or Basic challenge",
                status=401,
                method=request.method,
            )
        # next_request() now builds the same request again, with credentials.

    def _on_describe(self, request: RtspRequest, response: RtspResponse) -> None:
        try:
            text = response.body.decode("utf-8")
        except UnicodeDecodeError:
            raise SdpError("the DESCRIBE answer is not UTF-8 text") from None
        sdp = SessionDescription.parse(text)
        self.sdp = sdp
        base = response.headers.get("Content-Base") or response.headers.get("Content-Location")
        self.base = base.strip() if base else request.uri
        video_media = next((m for m in sdp.media if m.media == "video"), None)
        if video_media is None:
            raise SdpError("the camera's SDP has no video stream")
        self.video = stream_from_media(video_media)
        channel = 0
        self.tracks = [self._track("video", video_media, channel)]
        for media in sdp.media:
            if media.media != "audio":
                continue
            audio = _aac_description(media)
            if audio is not None:
                self.audio = audio
                self.audio_media = media
                self.tracks.append(self._track("audio", media, channel + 2))
                break
        if self.want_metadata:
            for media in sdp.media:
                if is_metadata_media(media):
                    self.metadata_media = media
                    low = 2 * len(self.tracks)
                    self.tracks.append(self._track("metadata", media, low))
                    break

    def _track(
        self, kind: Literal["video", "audio", "metadata"], media: MediaDescription, channel: int
    ) -> Track:
        payload_type = int(media.formats[0])
        mapping = media.rtpmap(payload_type)
        clock_rate = mapping[1] if mapping else 90_000
        uri = resolve_control(self.base, media.control)
        return Track(kind, uri, payload_type, clock_rate, (channel, channel + 1))

    def _on_setup(self, track: Track, response: RtspResponse) -> None:
        session = response.headers.get("Session")
        if session is None:
            raise RtspProtocolError(f"SETUP {track.uri} was answered without a Session header")
        session_id, timeout = parse_session(session)
        if self.session_id is not None and session_id != self.session_id:
            raise RtspProtocolError("the server changed the session id between SETUPs")
        self.session_id = session_id
        if timeout is not None and timeout > 0:
            self.session_timeout = timeout
        transport = response.headers.get("Transport")
        specs = parse_transport(transport) if transport else []
        if not specs:
            raise RtspProtocolError(f"SETUP {track.uri} was answered without a Transport header")
        spec: TransportSpec = specs[0]
        if self.transport == "tcp":
            if not spec.is_tcp:
                raise RtspProtocolError(f"asked for TCP, the server answered {spec}")
            if spec.interleaved is not None:
                track.interleaved = spec.interleaved
        else:
            if spec.is_tcp:
                raise RtspProtocolError(f"asked for UDP, the server answered {spec}")
            track.server_ports = spec.server_port
        track.ssrc = spec.ssrc

    def teardown_request(self) -> RtspRequest | None:
        """``TEARDOWN`` of the session, or ``None`` when no session was set up."""
        if self.session_id is None or self.state == "closed":
            return None
        self.state = "closed"
        return self.request("TEARDOWN", resolve_control(self.base, None))

    def keepalive_request(self) -> RtspRequest:
        return self.request(self.keepalive_method, resolve_control(self.base, None))


def _aac_description(media: MediaDescription) -> AudioDescription | None:
    """The AAC track of an ``m=audio`` section, or ``None`` for a codec we do not carry."""
    if not media.formats or not media.formats[0].isdigit():
        return None
    payload_type = int(media.formats[0])
    try:
        mapping = media.rtpmap(payload_type)
    except SdpError:
        return None
    if mapping is None or mapping[0].lower() != "mpeg4-generic":
        return None
    params = media.fmtp(payload_type)
    if params.get("mode", "").lower() != "aac-hbr" or params.get("sizelength") != "13":
        return None
    try:
        config = bytes.fromhex(params.get("config", ""))
    except ValueError:
        return None
    channels = 1
    for key, value in media.attributes:
        if key == "rtpmap" and value and value.split(" ", 1)[0] == str(payload_type):
            fields = value.split("/")
            if len(fields) >= 3 and fields[2].isdigit():
                channels = int(fields[2])
    return AudioDescription("AAC", mapping[1], channels, config)


# --- media (sans-IO) --------------------------------------------------------------------


class _Clock32:
    """Unwraps 32-bit RTP timestamps and maps them to wall-clock time by RTCP SRs."""

    def __init__(self, clock_rate: int) -> None:
        self.clock_rate = clock_rate
        self._first: int | None = None
        self._last: int | None = None
        self._extended = 0
        self._sender_report: tuple[int, float] | None = None  # (rtp time, unix seconds)

    def extend(self, timestamp: int) -> int:
        """Ticks since the first timestamp seen (negative for a unit older than the first)."""
        if self._last is None:
            self._first = self._last = timestamp
            self._extended = 0
            return 0
        delta = ((timestamp - self._last + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        self._extended += delta
        self._last = timestamp
        return self._extended

    def sender_report(self, report: RtcpSenderReport) -> None:
        self._sender_report = (report.rtp_timestamp, unix_from_ntp(report.ntp_timestamp))

    @property
    def mapped(self) -> bool:
        return self._sender_report is not None

    def wallclock(self, timestamp: int, arrival: float) -> float:
        """Unix seconds of RTP time ``timestamp``: from the last SR, else ``arrival``."""
        if self._sender_report is None:
            return arrival
        rtp, unix = self._sender_report
        delta = ((timestamp - rtp + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        return unix + delta / self.clock_rate


class _Budget:
    """Counts bad packets among the last :data:`MALFORMED_WINDOW`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0
        self._window: collections.deque[bool] = collections.deque(maxlen=MALFORMED_WINDOW)
        self._bad = 0

    def record(self, bad: bool) -> None:
        if len(self._window) == self._window.maxlen and self._window[0]:
            self._bad -= 1
        self._window.append(bad)
        if bad:
            self._bad += 1
            self.total += 1
            if self._bad > self.limit:
                raise RtpError(
                    f"{self._bad} of the last {len(self._window)} RTP packets were malformed"
                )


class VideoReceiver:
    """H.264/H.265 RTP and RTCP of one track -> :class:`AccessUnit` objects (no I/O).

    ``wallclock`` of a unit is mapped from the latest RTCP sender report; until
    one has arrived it is ``arrival`` (the Unix time the caller passes with the
    packet that completed the unit). ``timestamp`` counts 90 kHz ticks from the
    first packet. :attr:`description` starts as the SDP's and follows in-band
    parameter sets. ``budget`` counts malformed packets (shared by the tracks).
    """

    def __init__(
        self, description: StreamDescription, payload_type: int, budget: _Budget | None = None
    ) -> None:
        self.description = description
        self.payload_type = payload_type
        self._codec = h264 if description.codec is VideoCodec.H264 else h265
        self._depacketizer: Depacketizer = (
            h264.H264Depacketizer()
            if description.codec is VideoCodec.H264
            else h265.H265Depacketizer()
        )
        self._clock = _Clock32(90_000)
        self._budget = budget or _Budget(DEFAULT_MAX_MALFORMED)
        self._prefix: tuple[bytes, ...] = ()
        self._need_keyframe = False
        self._ssrc: int | None = None
        self.units = 0
        self.dropped_units = 0
        self.bytes_received = 0

    @property
    def malformed_packets(self) -> int:
        return self._budget.total

    @property
    def wallclock_mapped(self) -> bool:
        """Whether an RTCP sender report has arrived (units carry the sender's clock)."""
        return self._clock.mapped

    def rtp(self, data: bytes, arrival: float) -> list[AccessUnit]:
        """Feed one RTP packet; returns the units it completed.

        Raises :class:`RtpError` only when the malformed-packet budget is spent.
        """
        self.bytes_received += len(data)
        try:
            packet = RtpPacket.parse(data)
            if packet.payload_type != self.payload_type:
                raise RtpError(f"unexpected RTP payload type {packet.payload_type}")
            if self._ssrc is not None and packet.ssrc != self._ssrc:
                # The camera restarted its encoder: old fragments are worthless.
                self._depacketizer = type(self._depacketizer)()
                self._prefix = ()
            self._ssrc = packet.ssrc
            done = self._depacketizer.push(packet)
        except RtpError as exc:
            log.debug("skipping a malformed RTP packet: %s", exc)
            self._budget.record(True)
            return []
        self._budget.record(False)
        units = []
        for unit in done:
            made = self._unit(unit.nal_units, unit.timestamp, unit.complete, arrival)
            if made is not None:
                units.append(made)
        return units

    def rtcp(self, data: bytes) -> None:
        """Feed one RTCP compound packet; a sender report updates the wall-clock mapping."""
        offset = 0
        while offset + 4 <= len(data):
            length = 4 * (((data[offset + 2] << 8) | data[offset + 3]) + 1)
            if data[offset + 1] == RTCP_SR:
                try:
                    self._clock.sender_report(
                        RtcpSenderReport.parse(data[offset : offset + length])
                    )
                except RtpError as exc:
                    log.debug("skipping a malformed RTCP sender report: %s", exc)
                    self._budget.record(True)
                    return
            offset += length

    def _unit(
        self, nal_units: tuple[bytes, ...], rtp_time: int, complete: bool, arrival: float
    ) -> AccessUnit | None:
        codec = self._codec
        if not complete:
            self.dropped_units += 1
            self._need_keyframe = True
            self._prefix = ()
            return None
        vcl_limit = 24 if codec is h264 else 32
        has_picture = any(
            nal
            and (
                1 <= codec.nal_type(nal) <= 5 if codec is h264 else codec.nal_type(nal) < vcl_limit
            )
            for nal in nal_units
        )
        if not has_picture:
            # Parameter sets (or SEI) on their own: they belong to the next picture.
            self._prefix = (*self._prefix, *nal_units)
            return None
        nal_units = (*self._prefix, *nal_units)
        self._prefix = ()
        keyframe = codec.is_keyframe(nal_units)
        if self._need_keyframe:
            if not keyframe:
                self.dropped_units += 1
                return None
            self._need_keyframe = False
        if keyframe:
            self._update_parameter_sets(nal_units)
        self.units += 1
        return AccessUnit(
            nal_units=nal_units,
            timestamp=self._clock.extend(rtp_time),
            keyframe=keyframe,
            wallclock=self._clock.wallclock(rtp_time, arrival),
        )

    def _update_parameter_sets(self, nal_units: tuple[bytes, ...]) -> None:
        codec = self._codec
        order = (h264.SPS, h264.PPS) if codec is h264 else (h265.VPS, h265.SPS, h265.PPS)
        found: dict[int, bytes] = {}
        for nal in nal_units:
            kind = codec.nal_type(nal)
            if kind in order:
                found.setdefault(kind, nal)
        if not found:
            return
        current = {codec.nal_type(n): n for n in self.description.parameter_sets if n}
        merged = {**current, **found}
        sets = tuple(merged[kind] for kind in order if kind in merged)
        if sets != self.description.parameter_sets:
            self.description = replace(self.description, parameter_sets=sets)


class AacReceiver:
    """AAC over RTP (RFC 3640 ``AAC-hbr``: 13-bit sizes, 3-bit indices) -> :class:`AudioFrame`.

    Each AU header names one AAC frame of 1024 samples; a frame larger than one
    packet comes in fragments, joined here (one that lost a fragment is dropped,
    see :class:`~platonicam.rtsp.aac.AacDepacketizer`).
    """

    def __init__(self, description: AudioDescription, payload_type: int, budget: _Budget) -> None:
        self.description = description
        self.payload_type = payload_type
        self._clock = _Clock32(description.sample_rate)
        self._budget = budget
        self._depacketizer = AacDepacketizer()

    def rtp(self, data: bytes, arrival: float) -> list[AudioFrame]:
        try:
            packet = RtpPacket.parse(data)
            if packet.payload_type != self.payload_type:
                raise RtpError(f"unexpected RTP payload type {packet.payload_type}")
            frames = self._depacketizer.push(packet)
        except RtpError as exc:
            log.debug("skipping a malformed AAC packet: %s", exc)
            self._budget.record(True)
            return []
        self._budget.record(False)
        out = []
        for index, frame in enumerate(frames):
            rtp_time = (packet.timestamp + 1024 * index) & 0xFFFFFFFF
            out.append(
                AudioFrame(
                    frame, self._clock.extend(rtp_time), self._clock.wallclock(rtp_time, arrival)
                )
            )
        return out

    def rtcp(self, data: bytes) -> None:
        if len(data) >= 28 and data[1] == RTCP_SR:
            with contextlib.suppress(RtpError):
                self._clock.sender_report(RtcpSenderReport.parse(data))


class MetadataReceiver:
    """ONVIF metadata RTP and RTCP of one track -> :class:`MetadataDocument` objects (no I/O).

    Documents are reassembled up to the marker bit (see
    :class:`~platonicam.rtsp.metadata.MetadataDepacketizer` for loss); the XML
    is handed on unparsed. ``wallclock`` comes from the track's RTCP sender
    reports, else the arrival time; ``timestamp`` counts 90 kHz ticks from the
    first document.
    """

    def __init__(self, payload_type: int, budget: _Budget, clock_rate: int = 0) -> None:
        self.payload_type = payload_type
        self._clock = _Clock32(clock_rate or METADATA_CLOCK_RATE)
        self._budget = budget
        self._depacketizer = MetadataDepacketizer()
        self.documents = 0

    @property
    def dropped_documents(self) -> int:
        return self._depacketizer.dropped

    def rtp(self, data: bytes, arrival: float) -> list[MetadataDocument]:
        try:
            packet = RtpPacket.parse(data)
            if packet.payload_type != self.payload_type:
                raise RtpError(f"unexpected RTP payload type {packet.payload_type}")
        except RtpError as exc:
            log.debug("skipping a malformed metadata packet: %s", exc)
            self._budget.record(True)
            return []
        self._budget.record(False)
        done = self._depacketizer.push(packet)
        if done is None:
            return []
        self.documents += 1
        return [
            MetadataDocument(
                xml=done.xml,
                wallclock=self._clock.wallclock(done.rtp_timestamp, arrival),
                timestamp=self._clock.extend(done.rtp_timestamp),
            )
        ]

    def rtcp(self, data: bytes) -> None:
        if len(data) >= 28 and data[1] == RTCP_SR:
            with contextlib.suppress(RtpError):
                self._clock.sender_report(RtcpSenderReport.parse(data))


# --- the asyncio shell ------------------------------------------------------------------


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
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        loop = asyncio.get_running_loop()
        for _ in range(64):
            rtp_sock = socket.socket(family, socket.SOCK_DGRAM)
            rtcp_sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                rtp_sock.bind((host, 0))
                port = int(rtp_sock.getsockname()[1])
                if port % 2 or port == 65535:
                    raise OSError("odd RTP port")
                rtcp_sock.bind((host, port + 1))
            except OSError:
                rtp_sock.close()
                rtcp_sock.close()
                continue
            for sock, rtcp in ((rtp_sock, False), (rtcp_sock, True)):
                transport, _ = await loop.create_datagram_endpoint(
                    functools.partial(_Datagrams, self, track, rtcp), sock=sock
                )
                self._udp.append(transport)
            return port, port + 1
        raise RtspConnectionError("no free even/odd UDP port pair for RTP")

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
