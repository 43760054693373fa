"""Imaging service (timg, ver20): request builders and response parsers.

Element names and order follow ``ver20/imaging/wsdl/imaging.wsdl``.
"""

from __future__ import annotations

from lxml import etree

from platonicam.onvif.errors import LocalProtocolError, RemoteProtocolError
from platonicam.onvif.models.imaging import (
    FocusMove,
    ImagingOptions,
    ImagingServiceCapabilities,
    ImagingSettings,
    write_focus_move,
)
from platonicam.onvif.soap.build import element, sub, xml_bool
from platonicam.onvif.soap.namespaces import TIMG, local_name
from platonicam.onvif.soap.xmlread import require


def _with_token(operation: str, video_source_token: str) -> etree._Element:
    request = element(TIMG, operation)
    sub(request, TIMG, "VideoSourceToken", video_source_token)
    return request


def _expect_response(payload: etree._Element, operation: str) -> None:
    """Check that ``payload`` answers ``operation`` (for operations whose answer is empty)."""
    expected = f"{operation}Response"
    if local_name(payload.tag) != expected:
        raise RemoteProtocolError(
            f"expected {expected}, got {local_name(payload.tag)}", operation=operation
        )


def build_get_service_capabilities() -> etree._Element:
    return element(TIMG, "GetServiceCapabilities")


def parse_get_service_capabilities(payload: etree._Element) -> ImagingServiceCapabilities:
    operation = "GetServiceCapabilities"
    return ImagingServiceCapabilities.from_xml(
        require(payload, "Capabilities", operation=operation), operation=operation
    )


def build_get_imaging_settings(video_source_token: str) -> etree._Element:
    return _with_token("GetImagingSettings", video_source_token)


def parse_get_imaging_settings(payload: etree._Element) -> ImagingSettings:
    operation = "GetImagingSettings"
    return ImagingSettings.from_xml(
        require(payload, "ImagingSettings", operation=operation), operation=operation
    )


def build_set_imaging_settings(
    video_source_token: str, settings: ImagingSettings, *, force_persistence: bool = True
) -> etree._Element:
    """SetImagingSettings carrying only the fields set in ``settings``.

    Raises :class:`LocalProtocolError` when ``settings`` sets nothing: there
    would be nothing to change, and some firmware faults on an empty
    ``ImagingSettings``.
    """
    if settings.is_empty:
        raise LocalProtocolError("SetImagingSettings needs at least one setting to change")
    request = _with_token("SetImagingSettings", video_source_token)
    settings.to_xml(request, "ImagingSettings", TIMG)
    sub(request, TIMG, "ForcePersistence", xml_bool(force_persistence))
    return request


def parse_set_imaging_settings(payload: etree._Element) -> None:
    _expect_response(payload, "SetImagingSettings")


def build_get_options(video_source_token: str) -> etree._Element:
    return _with_token("GetOptions", video_source_token)


def parse_get_options(payload: etree._Element) -> ImagingOptions:
    operation = "GetOptions"
    return ImagingOptions.from_xml(
        require(payload, "ImagingOptions", operation=operation), operation=operation
    )


def build_move(video_source_token: str, focus: FocusMove) -> etree._Element:
    request = _with_token("Move", video_source_token)
    write_focus_move(request, focus)
    return request


def parse_move(payload: etree._Element) -> None:
    _expect_response(payload, "Move")


def build_stop(video_source_token: str) -> etree._Element:
    return _with_token("Stop", video_source_token)


def parse_stop(payload: etree._Element) -> None:
    _expect_response(payload, "Stop")
