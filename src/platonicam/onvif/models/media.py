"""Media (ver10, ``trt``) and Media2 (ver20, ``tr2``) types, one model per concept.

Strategy: one dataclass reads both generations. Media2 renamed and moved a few
things (``tt:VideoEncoder2Configuration`` keeps GOP length and profile in
attributes instead of an ``H264`` block, a profile's configurations sit in a
``Configurations`` set, GetStreamUri answers a bare URI) but the concepts are
the same, so :meth:`from_xml` looks at the shape it was given and every reader
goes by local name (see :mod:`platonicam.onvif.soap.xmlread`). Writers take
``media2=`` and produce the shape of that generation in schema order, because
cameras reject out-of-order elements.

Fields the schema makes mandatory but cameras leave out are ``None`` here
rather than an error: DESIGN.md ("What real cameras do") lists profiles whose
encoder block has no encoding or resolution at all. Writers skip ``None``
fields, so a parsed answer serialises back to the same shape.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from lxml import etree

from platonicam.onvif.errors import LocalProtocolError, RemoteProtocolError
from platonicam.onvif.models.common import FloatRange, IntRange, Resolution
from platonicam.onvif.soap.build import sub, xml_bool
from platonicam.onvif.soap.namespaces import TR2, TRT, TT, local_name, qn
from platonicam.onvif.soap.xmlread import (
    attr,
    bool_at,
    child,
    children,
    duration_at,
    float_at,
    format_duration,
    int_at,
    path_of,
    text,
    to_bool,
    to_float,
    to_int,
)

Element = etree._Element


class VideoEncoding(enum.StrEnum):
    """A video codec, normalised from ver10's ``tt:VideoEncoding`` and ver20's MIME names."""

    H264 = "H264"
    H265 = "H265"
    JPEG = "JPEG"
    MPEG4 = "MPEG4"

    @classmethod
    def parse(
        cls, raw: str | None, *, element: Element | None = None, operation: str | None = None
    ) -> VideoEncoding | None:
        """``None`` for an absent or empty value; :class:`RemoteProtocolError` for an
        unknown one. Accepts the spellings cameras use (``H.264``, ``HEVC``,
        ``MPV4-ES``, lower case)."""
        if raw is None or not raw.strip():
            return None
        key = raw.strip().upper().replace(".", "").replace("_", "")
        found = _ENCODING_ALIASES.get(key)
        if found is None:
            where = path_of(element) if element is not None else None
            raise RemoteProtocolError(
                f"unknown video encoding {raw!r}", operation=operation, path=where
            )
        return found

    @property
    def media2_name(self) -> str:
        """The ver20 spelling (``tt:VideoEncodingMimeNames``); MPEG-4 keeps its misspelling."""
        return "MPV4-ES" if self is VideoEncoding.MPEG4 else self.value


_ENCODING_ALIASES: dict[str, VideoEncoding] = {
    "H264": VideoEncoding.H264,
    "AVC": VideoEncoding.H264,
    "H265": VideoEncoding.H265,
    "HEVC": VideoEncoding.H265,
    "JPEG": VideoEncoding.JPEG,
    "MJPEG": VideoEncoding.JPEG,
    "MPEG4": VideoEncoding.MPEG4,
    "MPV4-ES": VideoEncoding.MPEG4,
    "MP4V-ES": VideoEncoding.MPEG4,
}


class StreamType(enum.StrEnum):
    """ver10 ``tt:StreamType``."""

    RTP_UNICAST = "RTP-Unicast"
    RTP_MULTICAST = "RTP-Multicast"


class TransportProtocol(enum.StrEnum):
    """ver10 ``tt:TransportProtocol``: how the RTP stream travels."""

    UDP = "UDP"
    TCP = "TCP"  # deprecated by ONVIF, still accepted by old firmware
    RTSP = "RTSP"  # RTP interleaved in the RTSP TCP connection
    HTTP = "HTTP"  # RTSP tunnelled over HTTP


class StreamProtocol(enum.StrEnum):
    """ver20 ``tr2:TransportProtocol`` values, the protocol a caller asks a URI for."""

    RTSP = "RTSP"  # RTP over the RTSP TCP connection
    RTSP_OVER_HTTP = "RtspOverHttp"
    RTSPS = "RTSPS"
    RTSP_UNICAST = "RtspUnicast"  # RTP over UDP unicast


def _fmt_number(value: float) -> str:
    """Integral values without a fraction (``30``), others exactly (``12.5``)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _int_text(value: float, field: str) -> str:
    if not float(value).is_integer():
        raise LocalProtocolError(f"{field} must be a whole number in Media (ver10), got {value}")
    return str(int(value))


def _resolution_from(element: Element | None, *, operation: str | None) -> Resolution | None:
    if element is None:
        return None
    width = int_at(element, "Width", operation=operation)
    height = int_at(element, "Height", operation=operation)
    if width is None or height is None:
        return None
    return Resolution(width, height)


def _write_resolution(parent: Element, namespace: str, name: str, value: Resolution) -> None:
    node = sub(parent, namespace, name)
    sub(node, TT, "Width", str(value.width))
    sub(node, TT, "Height", str(value.height))


def _int_range_from(element: Element | None, *, operation: str | None) -> IntRange | None:
    if element is None:
        return None
    low = int_at(element, "Min", operation=operation)
    high = int_at(element, "Max", operation=operation)
    if low is None or high is None:
        return None
    return IntRange(low, high)


def _float_range_from(element: Element | None, *, operation: str | None) -> FloatRange | None:
    if element is None:
        return None
    low = float_at(element, "Min", operation=operation)
    high = float_at(element, "Max", operation=operation)
    if low is None or high is None:
        return None
    return FloatRange(low, high)


def _write_range(parent: Element, name: str, value: IntRange | FloatRange) -> None:
    node = sub(parent, TT, name)
    sub(node, TT, "Min", _fmt_number(value.min))
    sub(node, TT, "Max", _fmt_number(value.max))


def _attr_int(element: Element, name: str, operation: str | None) -> int | None:
    raw = attr(element, name)
    return to_int(raw, element=element, operation=operation) if raw else None


def _attr_bool(element: Element, name: str, operation: str | None) -> bool | None:
    raw = attr(element, name)
    return to_bool(raw, element=element, operation=operation) if raw else None


def _token(element: Element, operation: str | None) -> str:
    token = attr(element, "token")
    if token is None:
        raise RemoteProtocolError(
            "missing attribute token", operation=operation, path=path_of(element)
        )
    return token


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True, slots=True)
class Rectangle:
    """``tt:IntRectangle``: a window on the sensor, in pixels."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class VideoSource:
    """A physical video input. ``framerate`` in frames per second."""

    token: str
    framerate: float | None
    resolution: Resolution | None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> VideoSource:
        return cls(
            token=_token(element, operation),
            framerate=float_at(element, "Framerate", operation=operation),
            resolution=_resolution_from(child(element, "Resolution"), operation=operation),
        )

    def to_xml(self, parent: Element, tag: str = qn(TRT, "VideoSources")) -> Element:
        node = etree.SubElement(parent, tag, token=self.token)
        if self.framerate is not None:
            sub(node, TT, "Framerate", _fmt_number(self.framerate))
        if self.resolution is not None:
            _write_resolution(node, TT, "Resolution", self.resolution)
        return node


@dataclass(frozen=True, slots=True)
class VideoSourceConfiguration:
    """Which video source a profile uses and the window (``bounds``) it reads."""

    token: str
    name: str
    use_count: int
    source_token: str | None
    bounds: Rectangle | None

    @classmethod
    def from_xml(
        cls, element: Element, *, operation: str | None = None
    ) -> VideoSourceConfiguration:
        bounds_node = child(element, "Bounds")
        bounds = None
        if bounds_node is not None:
            values = [
                _attr_int(bounds_node, key, operation) for key in ("x", "y", "width", "height")
            ]
            x, y, width, height = values
            if x is not None and y is not None and width is not None and height is not None:
                bounds = Rectangle(x, y, width, height)
        return cls(
            token=_token(element, operation),
            name=text(element, "Name") or "",
            use_count=int_at(element, "UseCount", operation=operation) or 0,
            source_token=text(element, "SourceToken") or None,
            bounds=bounds,
        )

    def to_xml(self, parent: Element, tag: str = qn(TT, "VideoSourceConfiguration")) -> Element:
        """The same shape in ver10 and ver20 (both use ``tt:VideoSourceConfiguration``)."""
        node = etree.SubElement(parent, tag, token=self.token)
        sub(node, TT, "Name", self.name)
        sub(node, TT, "UseCount", str(self.use_count))
        if self.source_token is not None:
            sub(node, TT, "SourceToken", self.source_token)
        if self.bounds is not None:
            b = self.bounds
            sub(
                node,
                TT,
                "Bounds",
                x=str(b.x),
                y=str(b.y),
                width=str(b.width),
                height=str(b.height),
            )
        return node


# --------------------------------------------------------------------------- encoder


@dataclass(frozen=True, slots=True)
class MulticastConfiguration:
    """``tt:MulticastConfiguration``. ``0.0.0.0`` / port 0 is how cameras say "unset"."""

    address: str | None
    port: int | None
    ttl: int | None
    auto_start: bool | None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> MulticastConfiguration:
        address = text(element, "Address", "IPv4Address") or text(element, "Address", "IPv6Address")
        return cls(
            address=address or None,
            port=int_at(element, "Port", operation=operation),
            ttl=int_at(element, "TTL", operation=operation),
            auto_start=bool_at(element, "AutoStart", operation=operation),
        )

    def to_xml(self, parent: Element, tag: str = qn(TT, "Multicast")) -> Element:
        node = etree.SubElement(parent, tag)
        if self.address is not None:
            address = sub(node, TT, "Address")
            ipv6 = ":" in self.address
            sub(address, TT, "Type", "IPv6" if ipv6 else "IPv4")
            sub(address, TT, "IPv6Address" if ipv6 else "IPv4Address", self.address)
        if self.port is not None:
            sub(node, TT, "Port", str(self.port))
        if self.ttl is not None:
            sub(node, TT, "TTL", str(self.ttl))
        if self.auto_start is not None:
            sub(node, TT, "AutoStart", xml_bool(self.auto_start))
        return node


@dataclass(frozen=True, slots=True)
class VideoEncoderConfiguration:
    """One encoder setting, ver10 ``tt:VideoEncoderConfiguration`` or ver20
    ``tt:VideoEncoder2Configuration``.

    Units: ``bitrate_limit`` in kbit/s, ``frame_rate_limit`` in frames per
    second (an integer in ver10, a float in ver20), ``gov_length`` in frames,
    ``encoding_interval`` as "every n-th frame" (ver10 only). ``profile`` is the
    codec profile as the camera spells it (``Baseline``, ``Main``, ``High``,
    ``Main10`` ...). ``quality`` is on the camera's own scale (see the options'
    quality range). GOP length and profile are only read from, and written to,
    H.264 and MPEG-4 blocks in ver10 (ver10 has no H.265, and JPEG has no GOP).
    """

    token: str
    name: str
    use_count: int
    encoding: VideoEncoding | None
    resolution: Resolution | None
    quality: float | None = None
    frame_rate_limit: float | None = None
    encoding_interval: int | None = None
    bitrate_limit: int | None = None
    gov_length: int | None = None
    profile: str | None = None
    multicast: MulticastConfiguration | None = None
    session_timeout: timedelta | None = None
    guaranteed_frame_rate: bool | None = None

    @classmethod
    def from_xml(
        cls, element: Element, *, operation: str | None = None
    ) -> VideoEncoderConfiguration:
        """Reads both generations: ver20 keeps ``GovLength`` and ``Profile`` in attributes."""
        encoding_node = child(element, "Encoding")
        encoding = VideoEncoding.parse(
            text(encoding_node), element=encoding_node, operation=operation
        )
        rate = child(element, "RateControl")
        gov_length = _attr_int(element, "GovLength", operation)
        profile = attr(element, "Profile") or None
        codec_block = (
            child(element, "MPEG4")
            if encoding is VideoEncoding.MPEG4
            else child(element, "H264")
            if encoding in (VideoEncoding.H264, None)
            else None
        )
        if codec_block is not None:
            if gov_length is None:
                gov_length = int_at(codec_block, "GovLength", operation=operation)
            if profile is None:
                profile = text(codec_block, "H264Profile") or text(codec_block, "Mpeg4Profile")
                profile = profile or None
        multicast = child(element, "Multicast")
        return cls(
            token=_token(element, operation),
            name=text(element, "Name") or "",
            use_count=int_at(element, "UseCount", operation=operation) or 0,
            encoding=encoding,
            resolution=_resolution_from(child(element, "Resolution"), operation=operation),
            quality=float_at(element, "Quality", operation=operation),
            frame_rate_limit=float_at(rate, "FrameRateLimit", operation=operation),
            encoding_interval=int_at(rate, "EncodingInterval", operation=operation),
            bitrate_limit=int_at(rate, "BitrateLimit", operation=operation),
            gov_length=gov_length,
            profile=profile,
            multicast=(
                MulticastConfiguration.from_xml(multicast, operation=operation)
                if multicast is not None
                else None
            ),
            session_timeout=duration_at(element, "SessionTimeout", operation=operation),
            guaranteed_frame_rate=_attr_bool(element, "GuaranteedFrameRate", operation),
        )

    def to_xml(
        self,
        parent: Element,
        tag: str = qn(TT, "VideoEncoderConfiguration"),
        *,
        media2: bool = False,
    ) -> Element:
        """Write the ver10 shape, or the ver20 one with ``media2=True``.

        Raises :class:`LocalProtocolError` for what ver10 cannot carry: H.265,
        and fractional frame rates.
        """
        node = etree.SubElement(parent, tag, token=self.token)
        if media2:
            self._write_media2(node)
        else:
            self._write_media1(node)
        return node

    def _write_media1(self, node: Element) -> None:
        if self.encoding is VideoEncoding.H265:
            raise LocalProtocolError(
                f"encoder configuration {self.token!r}: H265 needs Media2 (ver10 has no H.265)"
            )
        if self.guaranteed_frame_rate is not None:
            node.set("GuaranteedFrameRate", xml_bool(self.guaranteed_frame_rate))
        sub(node, TT, "Name", self.name)
        sub(node, TT, "UseCount", str(self.use_count))
        if self.encoding is not None:
            sub(node, TT, "Encoding", self.encoding.value)
        if self.resolution is not None:
            _write_resolution(node, TT, "Resolution", self.resolution)
        if self.quality is not None:
            sub(node, TT, "Quality", _fmt_number(self.quality))
        rate_values = (self.frame_rate_limit, self.encoding_interval, self.bitrate_limit)
        if any(value is not None for value in rate_values):
            rate = sub(node, TT, "RateControl")
            if self.frame_rate_limit is not None:
                sub(
                    rate, TT, "FrameRateLimit", _int_text(self.frame_rate_limit, "frame_rate_limit")
                )
            if self.encoding_interval is not None:
                sub(rate, TT, "EncodingInterval", str(self.encoding_interval))
            if self.bitrate_limit is not None:
                sub(rate, TT, "BitrateLimit", str(self.bitrate_limit))
        if (self.gov_length is not None or self.profile is not None) and self.encoding in (
            VideoEncoding.H264,
            VideoEncoding.MPEG4,
        ):
            mpeg4 = self.encoding is VideoEncoding.MPEG4
            block = sub(node, TT, "MPEG4" if mpeg4 else "H264")
            if self.gov_length is not None:
                sub(block, TT, "GovLength", str(self.gov_length))
            if self.profile is not None:
                sub(block, TT, "Mpeg4Profile" if mpeg4 else "H264Profile", self.profile)
        if self.multicast is not None:
            self.multicast.to_xml(node)
        if self.session_timeout is not None:
            sub(node, TT, "SessionTimeout", format_duration(self.session_timeout))

    def _write_media2(self, node: Element) -> None:
        if self.gov_length is not None:
            node.set("GovLength", str(self.gov_length))
        if self.profile is not None:
            node.set("Profile", self.profile)
        if self.guaranteed_frame_rate is not None:
            node.set("GuaranteedFrameRate", xml_bool(self.guaranteed_frame_rate))
        sub(node, TT, "Name", self.name)
        sub(node, TT, "UseCount", str(self.use_count))
        if self.encoding is not None:
            sub(node, TT, "Encoding", self.encoding.media2_name)
        if self.resolution is not None:
            _write_resolution(node, TT, "Resolution", self.resolution)
        if self.frame_rate_limit is not None or self.bitrate_limit is not None:
            rate = sub(node, TT, "RateControl")
            if self.frame_rate_limit is not None:
                sub(rate, TT, "FrameRateLimit", _fmt_number(self.frame_rate_limit))
            if self.bitrate_limit is not None:
                sub(rate, TT, "BitrateLimit", str(self.bitrate_limit))
        if self.multicast is not None:
            self.multicast.to_xml(node)
        if self.quality is not None:
            sub(node, TT, "Quality", _fmt_number(self.quality))


# --------------------------------------------------------------------------- options


@dataclass(frozen=True, slots=True)
class EncodingOptions:
    """What the camera allows for one encoding.

    ``frame_rates`` is Media2's explicit list; when it is empty the allowed
    frame rates are ``frame_rate_range`` (ver10). ``bitrate_range`` is in kbit/s.
    ``encoding_interval_range`` exists only in ver10.
    """

    encoding: VideoEncoding
    resolutions: tuple[Resolution, ...] = ()
    quality_range: FloatRange | None = None
    frame_rate_range: FloatRange | None = None
    frame_rates: tuple[float, ...] = ()
    encoding_interval_range: IntRange | None = None
    bitrate_range: IntRange | None = None
    gov_length_range: IntRange | None = None
    profiles: tuple[str, ...] = ()

    @classmethod
    def from_media2_xml(
        cls, element: Element, *, operation: str | None = None
    ) -> EncodingOptions | None:
        """One ver20 ``Options`` entry; ``None`` for an encoding we do not know."""
        encoding_node = child(element, "Encoding")
        try:
            encoding = VideoEncoding.parse(
                text(encoding_node), element=encoding_node, operation=operation
            )
        except RemoteProtocolError:
            # A vendor codec (e.g. a "smart" H.264 variant) must not hide the
            # options of the standard ones listed beside it.
            return None
        if encoding is None:
            return None
        gov_raw = (attr(element, "GovLengthRange") or "").split()
        gov = [to_int(value, element=element, operation=operation) for value in gov_raw]
        frame_rates = tuple(
            to_float(value, element=element, operation=operation)
            for value in (attr(element, "FrameRatesSupported") or "").split()
        )
        return cls(
            encoding=encoding,
            resolutions=tuple(
                resolution
                for node in children(element, "ResolutionsAvailable")
                if (resolution := _resolution_from(node, operation=operation)) is not None
            ),
            quality_range=_float_range_from(child(element, "QualityRange"), operation=operation),
            frame_rate_range=(
                FloatRange(min(frame_rates), max(frame_rates)) if frame_rates else None
            ),
            frame_rates=frame_rates,
            bitrate_range=_int_range_from(child(element, "BitrateRange"), operation=operation),
            gov_length_range=IntRange(min(gov), max(gov)) if gov else None,
            profiles=tuple((attr(element, "ProfilesSupported") or "").split()),
        )

    def to_media2_xml(self, parent: Element, tag: str = qn(TR2, "Options")) -> Element:
        node = etree.SubElement(parent, tag)
        if self.gov_length_range is not None:
            node.set("GovLengthRange", f"{self.gov_length_range.min} {self.gov_length_range.max}")
        if self.frame_rates:
            node.set("FrameRatesSupported", " ".join(map(_fmt_number, self.frame_rates)))
        if self.profiles:
            node.set("ProfilesSupported", " ".join(self.profiles))
        sub(node, TT, "Encoding", self.encoding.media2_name)
        if self.quality_range is not None:
            _write_range(node, "QualityRange", self.quality_range)
        for resolution in self.resolutions:
            _write_resolution(node, TT, "ResolutionsAvailable", resolution)
        if self.bitrate_range is not None:
            _write_range(node, "BitrateRange", self.bitrate_range)
        return node

    def allows_frame_rate(self, value: float) -> bool:
        if self.frame_rates:
            return any(abs(value - allowed) < 1e-6 for allowed in self.frame_rates)
        return self.frame_rate_range is None or value in self.frame_rate_range

    def describe_frame_rates(self) -> str:
        if self.frame_rates:
            return ", ".join(map(_fmt_number, self.frame_rates))
        if self.frame_rate_range is None:
            return "any"
        return f"{_fmt_number(self.frame_rate_range.min)}..{_fmt_number(self.frame_rate_range.max)}"


_MEDIA1_BLOCKS: tuple[tuple[str, VideoEncoding, str | None], ...] = (
    ("JPEG", VideoEncoding.JPEG, None),
    ("MPEG4", VideoEncoding.MPEG4, "Mpeg4ProfilesSupported"),
    ("H264", VideoEncoding.H264, "H264ProfilesSupported"),
)


@dataclass(frozen=True, slots=True)
class VideoEncoderConfigurationOptions:
    """The values a camera accepts for an encoder configuration, per encoding."""

    encodings: tuple[EncodingOptions, ...]
    guaranteed_frame_rate_supported: bool | None = None

    def for_encoding(self, encoding: VideoEncoding) -> EncodingOptions | None:
        return next((o for o in self.encodings if o.encoding is encoding), None)

    @classmethod
    def from_xml(
        cls, element: Element, *, operation: str | None = None
    ) -> VideoEncoderConfigurationOptions:
        """A ver10 ``Options`` element (``tt:VideoEncoderConfigurationOptions``).

        The ``Extension`` blocks (``H264Options2`` ...) repeat the base block and
        add ``BitrateRange``; when both are present the extension wins.
        """
        quality = _float_range_from(child(element, "QualityRange"), operation=operation)
        extension = child(element, "Extension")
        found: list[EncodingOptions] = []
        for name, encoding, profiles_name in _MEDIA1_BLOCKS:
            base = child(element, name)
            extended = child(extension, name)
            block = extended if extended is not None else base
            if block is None:
                continue
            found.append(
                EncodingOptions(
                    encoding=encoding,
                    resolutions=tuple(
                        resolution
                        for node in children(block, "ResolutionsAvailable")
                        if (resolution := _resolution_from(node, operation=operation)) is not None
                    ),
                    quality_range=quality,
                    frame_rate_range=_float_range_from(
                        child(block, "FrameRateRange"), operation=operation
                    ),
                    encoding_interval_range=_int_range_from(
                        child(block, "EncodingIntervalRange"), operation=operation
                    ),
                    bitrate_range=_int_range_from(
                        child(block, "BitrateRange"), operation=operation
                    ),
                    gov_length_range=_int_range_from(
                        child(block, "GovLengthRange"), operation=operation
                    ),
                    profiles=tuple(
                        text(node) or ""
                        for node in (children(block, profiles_name) if profiles_name else ())
                    ),
                )
            )
        return cls(
            encodings=tuple(found),
            guaranteed_frame_rate_supported=_attr_bool(
                element, "GuaranteedFrameRateSupported", operation
            ),
        )

    @classmethod
    def from_media2_xml(
        cls, elements: Iterable[Element], *, operation: str | None = None
    ) -> VideoEncoderConfigurationOptions:
        """The ver20 list of ``Options`` (``tt:VideoEncoder2ConfigurationOptions``)."""
        nodes = list(elements)
        flags = [_attr_bool(node, "GuaranteedFrameRateSupported", operation) for node in nodes]
        return cls(
            encodings=tuple(
                option
                for node in nodes
                if (option := EncodingOptions.from_media2_xml(node, operation=operation))
                is not None
            ),
            guaranteed_frame_rate_supported=next((f for f in flags if f is not None), None),
        )

    def to_xml(self, parent: Element, tag: str = qn(TRT, "Options")) -> Element:
        """The ver10 shape. Frame rates are written as ranges and ``BitrateRange``
        goes into the ``Extension`` blocks, as ver10 cameras do."""
        node = etree.SubElement(parent, tag)
        if self.guaranteed_frame_rate_supported is not None:
            node.set("GuaranteedFrameRateSupported", xml_bool(self.guaranteed_frame_rate_supported))
        quality = next(
            (o.quality_range for o in self.encodings if o.quality_range is not None), None
        )
        _write_range(node, "QualityRange", quality or FloatRange(0, 0))
        by_encoding = {o.encoding: o for o in self.encodings}
        for name, encoding, profiles_name in _MEDIA1_BLOCKS:
            if encoding in by_encoding:
                _write_media1_block(node, name, by_encoding[encoding], profiles_name, False)
        if any(o.bitrate_range is not None for o in by_encoding.values()):
            extension = sub(node, TT, "Extension")
            for name, encoding, profiles_name in _MEDIA1_BLOCKS:
                if encoding in by_encoding:
                    _write_media1_block(extension, name, by_encoding[encoding], profiles_name, True)
        return node

    def to_media2_xml(self, parent: Element) -> list[Element]:
        """The ver20 shape: one ``tr2:Options`` per encoding, appended to ``parent``."""
        nodes = [option.to_media2_xml(parent) for option in self.encodings]
        if self.guaranteed_frame_rate_supported is not None:
            for node in nodes:
                node.set(
                    "GuaranteedFrameRateSupported", xml_bool(self.guaranteed_frame_rate_supported)
                )
        return nodes

    def check(self, config: VideoEncoderConfiguration) -> None:
        """Raise :class:`LocalProtocolError` naming the first field of ``config``
        outside these options, with the allowed values. ``None`` fields are not
        checked (they are not sent)."""
        if config.encoding is None:
            return
        option = self.for_encoding(config.encoding)
        if option is None:
            allowed = ", ".join(o.encoding.value for o in self.encodings) or "none"
            raise LocalProtocolError(
                f"encoding {config.encoding.value} is not offered by the camera "
                f"(allowed: {allowed})"
            )
        if (
            option.resolutions
            and config.resolution is not None
            and config.resolution not in option.resolutions
        ):
            allowed = ", ".join(map(str, option.resolutions))
            raise LocalProtocolError(
                f"resolution {config.resolution} is not offered for {option.encoding.value} "
                f"(allowed: {allowed})"
            )
        if config.frame_rate_limit is not None and not option.allows_frame_rate(
            config.frame_rate_limit
        ):
            raise LocalProtocolError(
                f"frame_rate_limit {_fmt_number(config.frame_rate_limit)} is outside what the "
                f"camera allows for {option.encoding.value} "
                f"(allowed: {option.describe_frame_rates()})"
            )
        _check_range("quality", config.quality, option.quality_range, option.encoding)
        _check_range("bitrate_limit", config.bitrate_limit, option.bitrate_range, option.encoding)
        _check_range("gov_length", config.gov_length, option.gov_length_range, option.encoding)
        _check_range(
            "encoding_interval",
            config.encoding_interval,
            option.encoding_interval_range,
            option.encoding,
        )
        if option.profiles and config.profile is not None and config.profile not in option.profiles:
            raise LocalProtocolError(
                f"profile {config.profile} is not offered for {option.encoding.value} "
                f"(allowed: {', '.join(option.profiles)})"
            )


def _check_range(
    field: str,
    value: float | None,
    allowed: IntRange | FloatRange | None,
    encoding: VideoEncoding,
) -> None:
    if value is None or allowed is None or allowed.min <= value <= allowed.max:
        return
    raise LocalProtocolError(
        f"{field} {_fmt_number(value)} is outside what the camera allows for {encoding.value} "
        f"(allowed: {_fmt_number(allowed.min)}..{_fmt_number(allowed.max)})"
    )


def _write_media1_block(
    parent: Element,
    name: str,
    option: EncodingOptions,
    profiles_name: str | None,
    extended: bool,
) -> None:
    block = sub(parent, TT, name)
    for resolution in option.resolutions:
        _write_resolution(block, TT, "ResolutionsAvailable", resolution)
    if profiles_name is not None and option.gov_length_range is not None:
        _write_range(block, "GovLengthRange", option.gov_length_range)
    frame_rates = option.frame_rate_range
    if frame_rates is not None:
        _write_range(block, "FrameRateRange", frame_rates)
    if option.encoding_interval_range is not None:
        _write_range(block, "EncodingIntervalRange", option.encoding_interval_range)
    if profiles_name is not None:
        for profile in option.profiles:
            sub(block, TT, profiles_name, profile)
    if extended and option.bitrate_range is not None:
        _write_range(block, "BitrateRange", option.bitrate_range)


# --------------------------------------------------------------------------- profiles


# Configuration kinds a profile may reference, as (ver10 element, ver20 element).
_REFERENCED: dict[str, tuple[str, str]] = {
    "audio_source": ("AudioSourceConfiguration", "AudioSource"),
    "audio_encoder": ("AudioEncoderConfiguration", "AudioEncoder"),
    "video_analytics": ("VideoAnalyticsConfiguration", "Analytics"),
    "ptz": ("PTZConfiguration", "PTZ"),
    "metadata": ("MetadataConfiguration", "Metadata"),
}


@dataclass(frozen=True, slots=True)
class MediaProfile:
    """A media profile: the video source and encoder it combines, and the tokens
    of the other configurations it references (their contents belong to the
    services that own them: PTZ, audio, metadata, analytics).

    ``fixed`` is ``None`` when the camera does not say whether the profile can
    be deleted.
    """

    token: str
    name: str
    fixed: bool | None = None
    video_source_configuration: VideoSourceConfiguration | None = None
    video_encoder_configuration: VideoEncoderConfiguration | None = None
    audio_source_configuration_token: str | None = None
    audio_encoder_configuration_token: str | None = None
    video_analytics_configuration_token: str | None = None
    ptz_configuration_token: str | None = None
    metadata_configuration_token: str | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> MediaProfile:
        """A ver10 ``tt:Profile`` or a ver20 ``tr2:MediaProfile`` (told apart by the
        ver20 ``Configurations`` set)."""
        configurations = child(element, "Configurations")
        media2 = configurations is not None
        holder = configurations if configurations is not None else element
        source = child(holder, "VideoSource" if media2 else "VideoSourceConfiguration")
        encoder = child(holder, "VideoEncoder" if media2 else "VideoEncoderConfiguration")
        tokens: dict[str, str | None] = {}
        for key, (media1_name, media2_name) in _REFERENCED.items():
            node = child(holder, media2_name if media2 else media1_name)
            tokens[key] = attr(node, "token") if node is not None else None
        return cls(
            token=_token(element, operation),
            name=text(element, "Name") or "",
            fixed=_attr_bool(element, "fixed", operation),
            video_source_configuration=(
                VideoSourceConfiguration.from_xml(source, operation=operation)
                if source is not None
                else None
            ),
            video_encoder_configuration=(
                VideoEncoderConfiguration.from_xml(encoder, operation=operation)
                if encoder is not None
                else None
            ),
            audio_source_configuration_token=tokens["audio_source"],
            audio_encoder_configuration_token=tokens["audio_encoder"],
            video_analytics_configuration_token=tokens["video_analytics"],
            ptz_configuration_token=tokens["ptz"],
            metadata_configuration_token=tokens["metadata"],
        )

    def to_xml(self, parent: Element, tag: str | None = None, *, media2: bool = False) -> Element:
        """ver10 ``trt:Profiles`` (``tt:Profile``), or ver20 ``tr2:Profiles`` with
        ``media2=True``, in schema order.

        Referenced configurations other than video source and encoder are
        written as empty elements carrying their token; a device that answers
        with full configurations appends their contents itself.
        """
        default = qn(TR2 if media2 else TRT, "Profiles")
        node = etree.SubElement(parent, tag or default, token=self.token)
        if self.fixed is not None:
            node.set("fixed", xml_bool(self.fixed))
        if media2:
            sub(node, TR2, "Name", self.name)
            holder = sub(node, TR2, "Configurations")
            namespace, index = TR2, 1
        else:
            sub(node, TT, "Name", self.name)
            holder, namespace, index = node, TT, 0
        tokens = {
            "audio_source": self.audio_source_configuration_token,
            "audio_encoder": self.audio_encoder_configuration_token,
            "video_analytics": self.video_analytics_configuration_token,
            "ptz": self.ptz_configuration_token,
            "metadata": self.metadata_configuration_token,
        }

        def reference(key: str) -> None:
            token = tokens[key]
            if token is not None:
                sub(holder, namespace, _REFERENCED[key][index], token=token)

        # Schema order (onvif.xsd tt:Profile; ver20 tr2:ConfigurationSet):
        # VideoSource, AudioSource, VideoEncoder, AudioEncoder, Analytics, PTZ, Metadata.
        if self.video_source_configuration is not None:
            self.video_source_configuration.to_xml(
                holder, qn(namespace, "VideoSource" if media2 else "VideoSourceConfiguration")
            )
        reference("audio_source")
        if self.video_encoder_configuration is not None:
            self.video_encoder_configuration.to_xml(
                holder,
                qn(namespace, "VideoEncoder" if media2 else "VideoEncoderConfiguration"),
                media2=media2,
            )
        for key in ("audio_encoder", "video_analytics", "ptz", "metadata"):
            reference(key)
        return node


# --------------------------------------------------------------------------- URIs


def _media_uri_fields(
    element: Element, operation: str | None
) -> tuple[str, bool, bool, timedelta | None]:
    # Media2 answers a bare tr2:Uri (Axis M2025-LE, corpus
    # media2/axis_M2025-LE_GetStreamUri.xml); ver10 a tt:MediaUri with Uri inside.
    if local_name(element.tag) == "Uri":
        return (text(element) or "", False, False, None)
    uri = text(element, "Uri")
    if not uri:
        raise RemoteProtocolError("missing element Uri", operation=operation, path=path_of(element))
    return (
        uri,
        bool(bool_at(element, "InvalidAfterConnect", operation=operation)),
        bool(bool_at(element, "InvalidAfterReboot", operation=operation)),
        duration_at(element, "Timeout", operation=operation),
    )


def _write_media_uri(
    parent: Element,
    media2: bool,
    uri: str,
    invalid_after_connect: bool,
    invalid_after_reboot: bool,
    timeout: timedelta | None,
) -> Element:
    if media2:
        return sub(parent, TR2, "Uri", uri)
    node = sub(parent, TRT, "MediaUri")
    sub(node, TT, "Uri", uri)
    sub(node, TT, "InvalidAfterConnect", xml_bool(invalid_after_connect))
    sub(node, TT, "InvalidAfterReboot", xml_bool(invalid_after_reboot))
    sub(node, TT, "Timeout", format_duration(timeout or timedelta()))
    return node


@dataclass(frozen=True, slots=True)
class StreamUri:
    """Where to open a stream. ``uri`` is unescaped (``&amp;`` in the XML is ``&``
    here: Dahua, corpus ``media/dahua_unknown_GetStreamUri.xml``).

    ``invalid_after_connect`` true means the URI serves one session only (the
    same Dahua capture). Media2 answers only the URI: the flags are then false
    and ``timeout`` is ``None``. A ``timeout`` of zero means "does not expire".
    """

    uri: str
    invalid_after_connect: bool = False
    invalid_after_reboot: bool = False
    timeout: timedelta | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> StreamUri:
        """A ver10 ``MediaUri`` or a ver20 bare ``Uri``."""
        return cls(*_media_uri_fields(element, operation))

    def to_xml(self, parent: Element, *, media2: bool = False) -> Element:
        return _write_media_uri(
            parent,
            media2,
            self.uri,
            self.invalid_after_connect,
            self.invalid_after_reboot,
            self.timeout,
        )


@dataclass(frozen=True, slots=True)
class SnapshotUri:
    """Where to fetch a JPEG snapshot over HTTP(S); same fields as :class:`StreamUri`."""

    uri: str
    invalid_after_connect: bool = False
    invalid_after_reboot: bool = False
    timeout: timedelta | None = None

    @classmethod
    def from_xml(cls, element: Element, *, operation: str | None = None) -> SnapshotUri:
        return cls(*_media_uri_fields(element, operation))

    def to_xml(self, parent: Element, *, media2: bool = False) -> Element:
        return _write_media_uri(
            parent,
            media2,
            self.uri,
            self.invalid_after_connect,
            self.invalid_after_reboot,
            self.timeout,
        )
