"""SDP (RFC 8866) for RTSP DESCRIBE: build it for our streams, parse it from cameras.

Only what RTSP video needs is modelled: the session lines, media lines and
their attributes in order. :func:`describe_stream` writes H.264 (RFC 6184 §8.1:
``profile-level-id`` and ``sprop-parameter-sets``) and H.265 (RFC 7798 §7.1:
``sprop-vps/sps/pps``) media; :func:`stream_from_media` reads them back, so the
RTSP client and server share one codec.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, replace

from platonicam.rtsp import h264, h265
from platonicam.rtsp.errors import SdpError
from platonicam.rtsp.stream import VIDEO_CLOCK_RATE, StreamDescription, VideoCodec

#: The dynamic payload type our server uses for video.
VIDEO_PAYLOAD_TYPE = 96

Attribute = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class MediaDescription:
    """One ``m=`` section and its attributes (``(name, value)``; ``value`` ``None`` for flags)."""

    media: str
    port: int
    protocol: str
    formats: tuple[str, ...]
    attributes: tuple[Attribute, ...] = ()
    connection: str | None = None

    def attribute(self, name: str) -> str | None:
        """The first value of attribute ``name`` (``""`` for a flag), or ``None``."""
        for key, value in self.attributes:
            if key == name:
                return "" if value is None else value
        return None

    @property
    def control(self) -> str | None:
        return self.attribute("control")

    def rtpmap(self, payload_type: int) -> tuple[str, int] | None:
        """``(encoding name, clock rate)`` of ``payload_type``, or ``None``."""
        for key, value in self.attributes:
            if key == "rtpmap" and value:
                pt, _, rest = value.partition(" ")
                if pt.strip() == str(payload_type):
                    name, _, clock = rest.strip().partition("/")
                    rate = clock.partition("/")[0]
                    if not rate.isdigit():
                        raise SdpError(f"malformed rtpmap {value!r}")
                    return name, int(rate)
        return None

    def fmtp(self, payload_type: int) -> dict[str, str]:
        """The ``a=fmtp`` parameters of ``payload_type`` (keys lower-cased)."""
        for key, value in self.attributes:
            if key == "fmtp" and value:
                pt, _, rest = value.partition(" ")
                if pt.strip() == str(payload_type):
                    params = {}
                    for item in rest.split(";"):
                        name, eq, val = item.strip().partition("=")
                        if name:
                            params[name.strip().lower()] = val.strip() if eq else ""
                    return params
        return {}

    def _lines(self) -> list[str]:
        lines = [f"m={self.media} {self.port} {self.protocol} {' '.join(self.formats)}"]
        if self.connection is not None:
            lines.append(f"c={self.connection}")
        lines.extend(_attribute_line(a) for a in self.attributes)
        return lines


@dataclass(frozen=True, slots=True)
class SessionDescription:
    """A whole SDP document; ``str()`` writes it with CRLF line ends."""

    origin: str
    session_name: str
    connection: str | None = None
    timing: str = "0 0"
    attributes: tuple[Attribute, ...] = ()
    media: tuple[MediaDescription, ...] = ()

    def attribute(self, name: str) -> str | None:
        for key, value in self.attributes:
            if key == name:
                return "" if value is None else value
        return None

    def __str__(self) -> str:
        lines = ["v=0", f"o={self.origin}", f"s={self.session_name}"]
        if self.connection is not None:
            lines.append(f"c={self.connection}")
        lines.append(f"t={self.timing}")
        lines.extend(_attribute_line(a) for a in self.attributes)
        for media in self.media:
            lines.extend(media._lines())
        return "\r\n".join(lines) + "\r\n"

    @classmethod
    def parse(cls, text: str) -> SessionDescription:
        """Parse an SDP document; unknown line types are skipped.

        Tolerates bare ``LF`` line ends and trailing blanks, as cameras send them.
        Raises :class:`SdpError` without ``v=0`` first or with a malformed ``m=`` line.
        """
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines or lines[0] != "v=0":
            raise SdpError("SDP does not start with v=0")
        origin = session_name = ""
        connection: str | None = None
        timing = "0 0"
        attributes: list[Attribute] = []
        media: list[MediaDescription] = []
        for line in lines[1:]:
            kind, eq, value = line.partition("=")
            if not eq or len(kind) != 1:
                raise SdpError(f"malformed SDP line {line!r}")
            if kind == "m":
                parts = value.split()
                if len(parts) < 4 or not parts[1].partition("/")[0].isdigit():
                    raise SdpError(f"malformed media line {line!r}")
                port = int(parts[1].partition("/")[0])
                media.append(MediaDescription(parts[0], port, parts[2], tuple(parts[3:])))
            elif kind == "a":
                name, colon, attr = value.partition(":")
                attribute = (name, attr if colon else None)
                if media:
                    media[-1] = replace(media[-1], attributes=(*media[-1].attributes, attribute))
                else:
                    attributes.append(attribute)
            elif kind == "c":
                if media:
                    media[-1] = replace(media[-1], connection=value)
                else:
                    connection = value
            elif kind == "o" and not media:
                origin = value
            elif kind == "s" and not media:
                session_name = value
            elif kind == "t" and not media:
                timing = value
        return cls(origin, session_name, connection, timing, tuple(attributes), tuple(media))


def _attribute_line(attribute: Attribute) -> str:
    name, value = attribute
    return f"a={name}" if value is None else f"a={name}:{value}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except binascii.Error:
        raise SdpError(f"parameter set {text!r} is not base64") from None


def _format_fps(fps: float) -> str:
    return str(int(fps)) if float(fps).is_integer() else f"{fps:.3f}".rstrip("0")


def describe_media(
    stream: StreamDescription,
    *,
    control: str,
    payload_type: int = VIDEO_PAYLOAD_TYPE,
    dimensions: bool = True,
) -> MediaDescription:
    """The ``m=video`` section for ``stream``.

    Raises :class:`SdpError` when a parameter set the codec needs (SPS and PPS;
    VPS too for H.265) is missing from ``stream.parameter_sets``.
    """
    by_type: dict[int, bytes] = {}
    if stream.codec is VideoCodec.H264:
        for nal in stream.parameter_sets:
            by_type.setdefault(h264.nal_type(nal), nal)
        sps, pps = by_type.get(h264.SPS), by_type.get(h264.PPS)
        if sps is None or pps is None or len(sps) < 4:
            raise SdpError("an H.264 stream description needs an SPS and a PPS")
        fmtp = (
            f"packetization-mode=1;profile-level-id={sps[1:4].hex()};"
            f"sprop-parameter-sets={_b64(sps)},{_b64(pps)}"
        )
    else:
        for nal in stream.parameter_sets:
            by_type.setdefault(h265.nal_type(nal), nal)
        names = (("sprop-vps", h265.VPS), ("sprop-sps", h265.SPS), ("sprop-pps", h265.PPS))
        missing = [name for name, kind in names if kind not in by_type]
        if missing:
            raise SdpError(f"an H.265 stream description lacks {', '.join(missing)}")
        fmtp = ";".join(f"{name}={_b64(by_type[kind])}" for name, kind in names)
    attributes: list[Attribute] = [
        ("rtpmap", f"{payload_type} {stream.codec.value}/{VIDEO_CLOCK_RATE}"),
        ("fmtp", f"{payload_type} {fmtp}"),
        ("control", control),
        ("framerate", _format_fps(stream.fps)),
    ]
    if dimensions:
        attributes.append(("x-dimensions", f"{stream.width},{stream.height}"))
    return MediaDescription(
        "video",
        0,
        "RTP/AVP",
        (str(payload_type),),
        tuple(attributes),
        # Unicast RTSP negotiates addresses in SETUP; the SDP's address is a placeholder.
        "IN IP4 0.0.0.0",
    )


def describe_stream(
    stream: StreamDescription,
    *,
    control: str = "trackID=0",
    session_id: int = 0,
    address: str = "127.0.0.1",
    session_name: str = "PlatoniCam",
) -> SessionDescription:
    """The SDP a DESCRIBE answers with for one live video stream.

    ``session_id`` goes into ``o=``; the version there is ``stream.generation``,
    so a reconfigured encoder yields a visibly newer description.
    """
    family = "IP6" if ":" in address else "IP4"
    return SessionDescription(
        origin=f"- {session_id} {stream.generation} IN {family} {address}",
        session_name=session_name,
        timing="0 0",
        attributes=(("control", "*"), ("range", "npt=now-"), ("tool", "platonicam")),
        media=(describe_media(stream, control=control),),
    )


def stream_from_media(media: MediaDescription) -> StreamDescription:
    """The stream a camera's ``m=video`` section describes (for the RTSP client).

    Width and height come from ``a=x-dimensions`` (0 when absent: the SPS has
    them, and a decoder reads it); fps from ``a=framerate`` (0 when absent).
    Raises :class:`SdpError` for a codec other than H.264/H.265 or a missing
    rtpmap.
    """
    if not media.formats or not media.formats[0].isdigit():
        raise SdpError(f"media line has no payload type: {media.formats!r}")
    payload_type = int(media.formats[0])
    mapping = media.rtpmap(payload_type)
    if mapping is None:
        raise SdpError(f"no rtpmap for payload type {payload_type}")
    name = mapping[0].upper()
    params = media.fmtp(payload_type)
    if name == "H264":
        codec = VideoCodec.H264
        sets = tuple(
            _unb64(p) for p in params.get("sprop-parameter-sets", "").split(",") if p.strip()
        )
    elif name in ("H265", "HEVC"):
        codec = VideoCodec.H265
        sets = tuple(
            _unb64(params[key]) for key in ("sprop-vps", "sprop-sps", "sprop-pps") if key in params
        )
    else:
        raise SdpError(f"unsupported video encoding {mapping[0]!r}")
    width = height = 0
    dimensions = media.attribute("x-dimensions")
    if dimensions:
        w, _, h = dimensions.partition(",")
        if w.strip().isdigit() and h.strip().isdigit():
            width, height = int(w), int(h)
    fps = 0.0
    framerate = media.attribute("framerate")
    if framerate:
        try:
            fps = float(framerate)
        except ValueError:
            raise SdpError(f"malformed framerate {framerate!r}") from None
    return StreamDescription(codec, width, height, fps, sets)
