"""A stateful ONVIF camera in memory: a real SOAP peer behind the ``SoapTransport`` seam.

It keeps one media profile (encoder configuration and video source) and the
source's imaging settings, parses every request with the same models the
client uses, changes its state on Set requests (refusing values outside its
own options with an ``InvalidArgVal`` fault, as cameras do) and answers with
the models' ``to_xml``. Misbehaviours real firmware has are switches:

- ``lie_about_bitrate``: SetVideoEncoderConfiguration is acknowledged but the
  bitrate stays as it was (the rest is taken);
- ``fault_on``: these operations answer a SOAP fault (``fault_reason``);
- ``hang_on``: these operations never answer;
- ``delay``: every answer takes this long (seconds), and ``gauge`` records how
  many cameras had a request in flight at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from lxml import etree

from platonicam.onvif.errors import LocalProtocolError
from platonicam.onvif.models.common import FloatRange, IntRange, Resolution, Version
from platonicam.onvif.models.device import DateTimeType, Service, SystemDateAndTime
from platonicam.onvif.models.imaging import (
    BacklightCompensation,
    BacklightCompensationMode,
    BacklightCompensationOptions,
    Exposure,
    ExposureMode,
    ExposureOptions,
    ImagingOptions,
    ImagingSettings,
    IrCutFilterMode,
    WideDynamicMode,
    WideDynamicRange,
    WideDynamicRangeOptions,
)
from platonicam.onvif.models.media import (
    EncodingOptions,
    MediaProfile,
    Rectangle,
    VideoEncoderConfiguration,
    VideoEncoderConfigurationOptions,
    VideoEncoding,
    VideoSourceConfiguration,
)
from platonicam.onvif.services import device as device_ops
from platonicam.onvif.soap.build import element
from platonicam.onvif.soap.envelope import build_envelope, parse_envelope
from platonicam.onvif.soap.namespaces import SOAP12, TDS, TER, TIMG, TR2, TRT, local_name, qn
from platonicam.onvif.soap.xmlread import child
from platonicam.onvif.transport import HttpCredentials, SoapHttpResponse

CAMERA_TIME = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def main_encoder() -> VideoEncoderConfiguration:
    return VideoEncoderConfiguration(
        token="enc0",
        name="MainStream",
        use_count=1,
        encoding=VideoEncoding.H264,
        resolution=Resolution(1920, 1080),
        quality=5.0,
        frame_rate_limit=25.0,
        bitrate_limit=4096,
        gov_length=50,
        profile="Main",
    )


def encoder_options(*, h265: bool = True) -> VideoEncoderConfigurationOptions:
    h264 = EncodingOptions(
        encoding=VideoEncoding.H264,
        resolutions=(Resolution(1920, 1080), Resolution(1280, 720), Resolution(640, 360)),
        quality_range=FloatRange(0, 10),
        frame_rate_range=FloatRange(5, 25),
        frame_rates=(5.0, 10.0, 15.0, 20.0, 25.0),
        bitrate_range=IntRange(256, 16384),
        gov_length_range=IntRange(1, 250),
        profiles=("Baseline", "Main", "High"),
    )
    hevc = EncodingOptions(
        encoding=VideoEncoding.H265,
        resolutions=(Resolution(1920, 1080), Resolution(1280, 720)),
        quality_range=FloatRange(0, 10),
        frame_rate_range=FloatRange(5, 25),
        frame_rates=(5.0, 10.0, 15.0, 20.0, 25.0),
        bitrate_range=IntRange(256, 12288),
        gov_length_range=IntRange(1, 250),
        profiles=("Main", "Main10"),
    )
    return VideoEncoderConfigurationOptions(encodings=(h264, hevc) if h265 else (h264,))


def main_profile(encoder: VideoEncoderConfiguration) -> MediaProfile:
    return MediaProfile(
        token="profile_1",
        name="mainStream",
        fixed=True,
        video_source_configuration=VideoSourceConfiguration(
            token="vsc0",
            name="VideoSource_1",
            use_count=2,
            source_token="vs0",
            bounds=Rectangle(0, 0, 1920, 1080),
        ),
        video_encoder_configuration=encoder,
    )


def imaging_settings() -> ImagingSettings:
    return ImagingSettings(
        backlight_compensation=BacklightCompensation(BacklightCompensationMode.OFF),
        brightness=50.0,
        color_saturation=50.0,
        contrast=50.0,
        exposure=Exposure(
            mode=ExposureMode.AUTO,
            min_exposure_time=10.0,
            max_exposure_time=40000.0,
            exposure_time=10000.0,
            gain=0.0,
        ),
        ir_cut_filter=IrCutFilterMode.AUTO,
        sharpness=50.0,
        wide_dynamic_range=WideDynamicRange(WideDynamicMode.OFF, level=50.0),
    )


def imaging_options() -> ImagingOptions:
    return ImagingOptions(
        backlight_compensation=BacklightCompensationOptions(
            modes=(BacklightCompensationMode.OFF, BacklightCompensationMode.ON)
        ),
        brightness=FloatRange(0, 100),
        color_saturation=FloatRange(0, 100),
        contrast=FloatRange(0, 100),
        exposure=ExposureOptions(
            modes=(ExposureMode.AUTO, ExposureMode.MANUAL),
            exposure_time=FloatRange(10, 40000),
            gain=FloatRange(0, 100),
        ),
        ir_cut_filter_modes=(IrCutFilterMode.ON, IrCutFilterMode.OFF, IrCutFilterMode.AUTO),
        sharpness=FloatRange(0, 100),
        wide_dynamic_range=WideDynamicRangeOptions(
            modes=(WideDynamicMode.OFF, WideDynamicMode.ON), level=FloatRange(0, 100)
        ),
    )


@dataclass
class Gauge:
    """How many distinct cameras had a request in flight at the same time, at most."""

    in_flight: dict[str, int] = field(default_factory=dict)
    peak: int = 0

    def enter(self, name: str) -> None:
        self.in_flight[name] = self.in_flight.get(name, 0) + 1
        self.peak = max(self.peak, sum(1 for count in self.in_flight.values() if count > 0))

    def leave(self, name: str) -> None:
        self.in_flight[name] -= 1


class CameraFault(Exception):
    def __init__(self, reason: str, *subcodes: str, code: str = "Sender") -> None:
        super().__init__(reason)
        self.reason = reason
        self.subcodes = subcodes
        self.code = code


def _fault_envelope(fault: CameraFault) -> bytes:
    envelope = etree.Element(qn(SOAP12, "Envelope"), nsmap={"s": SOAP12, "ter": TER})
    body = etree.SubElement(envelope, qn(SOAP12, "Body"))
    node = etree.SubElement(body, qn(SOAP12, "Fault"))
    code = etree.SubElement(node, qn(SOAP12, "Code"))
    etree.SubElement(code, qn(SOAP12, "Value")).text = f"s:{fault.code}"
    parent = code
    for subcode in fault.subcodes:
        parent = etree.SubElement(parent, qn(SOAP12, "Subcode"))
        etree.SubElement(parent, qn(SOAP12, "Value")).text = f"ter:{subcode}"
    reason = etree.SubElement(node, qn(SOAP12, "Reason"))
    etree.SubElement(reason, qn(SOAP12, "Text")).text = fault.reason
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def _merge_imaging(current: ImagingSettings, change: ImagingSettings) -> ImagingSettings:
    """SetImagingSettings semantics: fields absent from the request stay as they are;
    inside Exposure and WideDynamicRange too."""
    merged = current
    for name in ("brightness", "color_saturation", "contrast", "sharpness", "ir_cut_filter"):
        value = getattr(change, name)
        if value is not None:
            merged = replace(merged, **{name: value})
    if change.backlight_compensation is not None:
        merged = replace(merged, backlight_compensation=change.backlight_compensation)
    if change.exposure is not None:
        exposure = current.exposure or Exposure(mode=change.exposure.mode)
        updates = {
            name: getattr(change.exposure, name)
            for name in ("mode", "exposure_time", "gain", "min_exposure_time", "max_exposure_time")
            if getattr(change.exposure, name) is not None
        }
        merged = replace(merged, exposure=replace(exposure, **updates))
    if change.wide_dynamic_range is not None:
        level = change.wide_dynamic_range.level
        if level is None and current.wide_dynamic_range is not None:
            level = current.wide_dynamic_range.level
        merged = replace(
            merged, wide_dynamic_range=WideDynamicRange(change.wide_dynamic_range.mode, level)
        )
    return merged


class FakeCamera:
    """One camera; pass it as an ``OnvifClient``'s transport."""

    def __init__(
        self,
        name: str = "cam",
        *,
        media2: bool = True,
        h265: bool = True,
        imaging: bool = True,
        lie_about_bitrate: bool = False,
        fault_on: Collection[str] = (),
        fault_reason: str = "the device refused the request",
        hang_on: Collection[str] = (),
        delay: float = 0.0,
        gauge: Gauge | None = None,
    ) -> None:
        self.name = name
        self.media2 = media2
        self.has_imaging = imaging
        self.lie_about_bitrate = lie_about_bitrate
        self.fault_on = set(fault_on)
        self.fault_reason = fault_reason
        self.hang_on = set(hang_on)
        self.delay = delay
        self.gauge = gauge
        self.encoder = main_encoder()
        self.options = encoder_options(h265=h265 and media2)
        self.imaging = imaging_settings()
        self.imaging_options = imaging_options()
        self.requests: list[str] = []

    @property
    def profile(self) -> MediaProfile:
        return main_profile(self.encoder)

    async def post(
        self,
        url: str,
        envelope: bytes,
        *,
        action: str,
        credentials: HttpCredentials | None = None,
        timeout: float | None = None,
    ) -> SoapHttpResponse:
        payload = parse_envelope(envelope).payload
        operation = local_name(payload.tag)
        self.requests.append(operation)
        if self.gauge is not None:
            self.gauge.enter(self.name)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if operation in self.hang_on:
                await asyncio.Event().wait()
            if operation in self.fault_on:
                raise CameraFault(self.fault_reason, "InvalidArgVal", "SettingsInvalid")
            answer = self.handle(operation, payload)
        except CameraFault as fault:
            status = 400 if fault.code == "Sender" else 500
            return SoapHttpResponse(status, _fault_envelope(fault), {})
        finally:
            if self.gauge is not None:
                self.gauge.leave(self.name)
        return SoapHttpResponse(200, build_envelope(answer), {})

    async def aclose(self) -> None:
        return None

    # ----------------------------------------------------------------- operations

    def handle(self, operation: str, request: etree._Element) -> etree._Element:
        media_ns = TR2 if self.media2 else TRT
        match operation:
            case "GetSystemDateAndTime":
                return device_ops.build_get_system_date_and_time_response(
                    SystemDateAndTime(DateTimeType.NTP, False, "UTC0", CAMERA_TIME, None)
                )
            case "GetServices":
                services = [
                    Service(TDS, "http://192.0.2.50/onvif/device_service", Version(2, 60)),
                    Service(media_ns, "http://192.0.2.50/onvif/media_service", Version(2, 60)),
                ]
                if self.has_imaging:
                    services.append(
                        Service(TIMG, "http://192.0.2.50/onvif/imaging_service", Version(2, 60))
                    )
                return device_ops.build_get_services_response(services)
            case "GetProfiles":
                response = element(media_ns, "GetProfilesResponse")
                self.profile.to_xml(response, media2=self.media2)
                return response
            case "GetVideoEncoderConfigurationOptions":
                response = element(media_ns, "GetVideoEncoderConfigurationOptionsResponse")
                if self.media2:
                    self.options.to_media2_xml(response)
                else:
                    self.options.to_xml(response)
                return response
            case "SetVideoEncoderConfiguration":
                node = child(request, "Configuration")
                if node is None:
                    raise CameraFault("no Configuration", "InvalidArgs")
                wanted = VideoEncoderConfiguration.from_xml(node)
                if wanted.token != self.encoder.token:
                    raise CameraFault(
                        f"no configuration {wanted.token}", "InvalidArgVal", "NoConfig"
                    )
                try:
                    self.options.check(wanted)
                except LocalProtocolError as exc:
                    raise CameraFault(str(exc), "InvalidArgVal", "ConfigModify") from None
                if self.lie_about_bitrate:
                    wanted = replace(wanted, bitrate_limit=self.encoder.bitrate_limit)
                self.encoder = wanted
                return element(media_ns, "SetVideoEncoderConfigurationResponse")
            case "GetImagingSettings" if self.has_imaging:
                response = element(TIMG, "GetImagingSettingsResponse")
                self.imaging.to_xml(response, "ImagingSettings", TIMG)
                return response
            case "GetOptions" if self.has_imaging:
                response = element(TIMG, "GetOptionsResponse")
                self.imaging_options.to_xml(response, "ImagingOptions", TIMG)
                return response
            case "SetImagingSettings" if self.has_imaging:
                node = child(request, "ImagingSettings")
                if node is None:
                    raise CameraFault("no ImagingSettings", "InvalidArgs")
                change = ImagingSettings.from_xml(node, operation=operation)
                try:
                    self.imaging_options.check(change)
                except LocalProtocolError as exc:
                    raise CameraFault(str(exc), "InvalidArgVal", "SettingsInvalid") from None
                self.imaging = _merge_imaging(self.imaging, change)
                return element(TIMG, "SetImagingSettingsResponse")
        raise CameraFault(
            f"the device does not support {operation}", "ActionNotSupported", code="Receiver"
        )
