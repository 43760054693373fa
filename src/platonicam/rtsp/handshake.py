"""The RTSP client's handshake: the request/response sequence and track selection, no I/O.

Strategy: :class:`ClientHandshake` is the request/response state machine of
RFC 2326 (OPTIONS -> DESCRIBE -> SETUP per track -> PLAY), with the ``401``
answers (Digest preferred, Basic when it is all the camera offers),
``Content-Base`` resolution of track URLs, the ``Session`` id and timeout, and
the choice of keep-alive method. It builds
:class:`~platonicam.rtsp.message.RtspRequest` objects and consumes
:class:`~platonicam.rtsp.message.RtspResponse` objects; it never touches a
socket, so tests script a server as a list of responses. From the DESCRIBE
answer's SDP it sets up the first video section (H.264/H.265), the first
``m=audio`` section it can carry (AAC, RFC 3640 ``AAC-hbr``) and, when asked
for, the ONVIF metadata section.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from platonicam.rtsp.auth import DigestChallenge, answer_challenge, basic_authorization
from platonicam.rtsp.errors import (
    AuthError,
    RtspAuthenticationError,
    RtspError,
    RtspProtocolError,
    RtspStatusError,
    SdpError,
)
from platonicam.rtsp.message import (
    Headers,
    RtspRequest,
    RtspResponse,
    TransportSpec,
    parse_session,
    parse_transport,
)
from platonicam.rtsp.metadata import is_metadata_media
from platonicam.rtsp.sdp import MediaDescription, SessionDescription, stream_from_media
from platonicam.rtsp.stream import AudioDescription, StreamDescription
from platonicam.rtsp.url import RtspCredentials, parse_url, resolve_control

log = logging.getLogger(__name__)

TransportMode = Literal["tcp", "udp"]

#: Session timeout assumed when SETUP's ``Session`` header names none (RFC 2326 §12.37).
DEFAULT_SESSION_TIMEOUT: Final = 60
USER_AGENT: Final = "PlatoniCam"


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
