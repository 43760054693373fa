"""Imaging and PTZ models, request builders, option checks and facades.

Round trips (Hypothesis for ImagingSettings and PTZStatus, every parsed corpus
answer for the rest), the element order of each request against the WSDL/XSD,
the checks that refuse a request before it is sent, and the facades driven
through a real :class:`OnvifClient` over an in-memory transport.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

import tests.corpus
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import LocalProtocolError, RemoteProtocolError
from platonicam.onvif.models.common import FloatRange
from platonicam.onvif.models.imaging import (
    AbsoluteFocus,
    AutoFocusMode,
    BacklightCompensation,
    BacklightCompensationMode,
    BacklightCompensationOptions,
    ContinuousFocus,
    Exposure,
    ExposureMode,
    ExposureOptions,
    ExposurePriority,
    Focus,
    FocusOptions,
    ImagingOptions,
    ImagingServiceCapabilities,
    ImagingSettings,
    IrCutFilterMode,
    RelativeFocus,
    WhiteBalance,
    WhiteBalanceMode,
    WhiteBalanceOptions,
    WideDynamicMode,
    WideDynamicRange,
    WideDynamicRangeOptions,
)
from platonicam.onvif.models.ptz import (
    MoveStatus,
    PTZConfiguration,
    PTZConfigurationOptions,
    PTZNode,
    PTZPreset,
    PTZServiceCapabilities,
    PTZSpeed,
    PTZStatus,
    PTZVector,
)
from platonicam.onvif.services import imaging as imaging_ops
from platonicam.onvif.services import ptz as ptz_ops
from platonicam.onvif.soap.build import element
from platonicam.onvif.soap.envelope import action_of, build_envelope, parse_envelope
from platonicam.onvif.soap.namespaces import TIMG, TPTZ, TT, local_name, namespace_of
from platonicam.onvif.soap.xml import parse_xml
from platonicam.onvif.transport import HttpCredentials, SoapHttpResponse

PT_GENERIC = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace"
ZOOM_GENERIC = "http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace"


def names(node: etree._Element) -> list[str]:
    return [local_name(c.tag) for c in node]


def through_bytes(node: etree._Element) -> etree._Element:
    """Serialise and parse again, as the wire would."""
    return parse_xml(etree.tostring(node))


def holder() -> etree._Element:
    return element(TPTZ, "Holder")


# ----------------------------------------------------------------------------- round trips

floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
maybe = st.none() | floats
# Text the XML writer accepts and the reader gives back unchanged (stripped).
xml_text = (
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1)
    .map(str.strip)
    .filter(bool)
)

imaging_settings = st.builds(
    ImagingSettings,
    backlight_compensation=st.none()
    | st.builds(BacklightCompensation, st.sampled_from(BacklightCompensationMode), maybe),
    brightness=maybe,
    color_saturation=maybe,
    contrast=maybe,
    exposure=st.none()
    | st.builds(
        Exposure,
        mode=st.sampled_from(ExposureMode),
        priority=st.none() | st.sampled_from(ExposurePriority),
        min_exposure_time=maybe,
        max_exposure_time=maybe,
        min_gain=maybe,
        max_gain=maybe,
        min_iris=maybe,
        max_iris=maybe,
        exposure_time=maybe,
        gain=maybe,
        iris=maybe,
    ),
    focus=st.none() | st.builds(Focus, st.sampled_from(AutoFocusMode), maybe, maybe, maybe),
    ir_cut_filter=st.none() | st.sampled_from(IrCutFilterMode),
    sharpness=maybe,
    wide_dynamic_range=st.none()
    | st.builds(WideDynamicRange, st.sampled_from(WideDynamicMode), maybe),
    white_balance=st.none()
    | st.builds(WhiteBalance, st.sampled_from(WhiteBalanceMode), maybe, maybe),
)


@given(imaging_settings)
def test_imaging_settings_round_trip(settings: ImagingSettings) -> None:
    written = settings.to_xml(element(TIMG, "GetImagingSettingsResponse"))
    assert ImagingSettings.from_xml(through_bytes(written)) == settings


def _vector(kind: type[PTZVector] | type[PTZSpeed]) -> st.SearchStrategy[PTZVector | PTZSpeed]:
    space = st.none() | st.sampled_from([PT_GENERIC, ZOOM_GENERIC, "urn:vendor:space"])
    pan_tilt = st.none() | st.tuples(floats, floats)
    return st.builds(
        lambda pt, zoom, pt_space, zoom_space: kind(
            pan=pt[0] if pt else None,
            tilt=pt[1] if pt else None,
            zoom=zoom,
            pan_tilt_space=pt_space if pt else None,
            zoom_space=zoom_space if zoom is not None else None,
        ),
        pan_tilt,
        maybe,
        space,
        space,
    )


ptz_status = st.builds(
    PTZStatus,
    position=st.none() | _vector(PTZVector),
    pan_tilt_move_status=st.none() | st.sampled_from(MoveStatus),
    zoom_move_status=st.none() | st.sampled_from(MoveStatus),
    error=st.none() | xml_text,
    utc_time=st.none()
    | st.datetimes(
        min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
    ),
)


@given(ptz_status)
def test_ptz_status_round_trip(status: PTZStatus) -> None:
    assert PTZStatus.from_xml(through_bytes(status.to_xml(holder()))) == status


PARSED: list[tuple[str, Callable[[etree._Element], object]]] = [
    ("ptz/axis_Q6045-E_GetNodes.xml", ptz_ops.parse_get_nodes),
    ("ptz/pelco_D6230L_GetNodes.xml", ptz_ops.parse_get_nodes),
    ("ptz/generic-gsoap_PREDATOR-mockup_GetNodes.xml", ptz_ops.parse_get_nodes),
    ("ptz/hikvision_DS-2DF7276-AEL_GetConfigurations.xml", ptz_ops.parse_get_configurations),
    ("ptz/pelco_D6230L_GetConfigurations.xml", ptz_ops.parse_get_configurations),
    ("ptz/axis_Q6045-E_GetConfigurations.xml", ptz_ops.parse_get_configurations),
    ("ptz/axis_Q6045-E_GetPresets.xml", ptz_ops.parse_get_presets),
    ("ptz/hikvision_DS-2DF7276-AEL_GetPresets.xml", ptz_ops.parse_get_presets),
    ("ptz/pelco_D6230L_GetPresets.xml", ptz_ops.parse_get_presets),
]


@pytest.mark.parametrize(("path", "parse"), PARSED, ids=tests.corpus.ids(p for p, _ in PARSED))
def test_corpus_lists_round_trip(path: str, parse: Callable[[etree._Element], object]) -> None:
    models = parse(tests.corpus.payload(path))
    assert isinstance(models, list)
    assert models
    for model in models:
        assert isinstance(model, PTZNode | PTZConfiguration | PTZPreset)
        again = type(model).from_xml(through_bytes(model.to_xml(holder())))
        assert again == model


@pytest.mark.parametrize(
    "path",
    [
        "ptz/axis_Q6045-E_GetConfigurationOptions.xml",
        "ptz/hikvision_DS-2DF7276-AEL_GetConfigurationOptions.xml",
        "ptz/pelco_D6230L_GetConfigurationOptions.xml",
    ],
)
def test_configuration_options_round_trip(path: str) -> None:
    options = ptz_ops.parse_get_configuration_options(tests.corpus.payload(path))
    written = through_bytes(options.to_xml(holder()))
    assert PTZConfigurationOptions.from_xml(written) == options


def test_configuration_writes_the_xsd_spelling_pant_tilt() -> None:
    configuration = ptz_ops.parse_get_configuration(
        tests.corpus.payload("ptz/pelco_D6230L_GetConfiguration.xml")
    )
    written = configuration.to_xml(holder())
    assert names(written)[:4] == [
        "Name",
        "UseCount",
        "NodeToken",
        "DefaultAbsolutePantTiltPositionSpace",
    ]


def test_configuration_reads_the_corrected_spelling_too() -> None:
    node = parse_xml(
        b'<tt:PTZConfiguration xmlns:tt="http://www.onvif.org/ver10/schema" token="c">'
        b"<tt:Name>n</tt:Name><tt:UseCount>1</tt:UseCount><tt:NodeToken>n1</tt:NodeToken>"
        b"<tt:DefaultAbsolutePanTiltPositionSpace>urn:x</tt:DefaultAbsolutePanTiltPositionSpace>"
        b"</tt:PTZConfiguration>"
    )
    configuration = PTZConfiguration.from_xml(node)
    assert configuration.default_absolute_pan_tilt_position_space == "urn:x"
    assert configuration.node_token == "n1"


def test_full_imaging_options_round_trip() -> None:
    options = FULL_OPTIONS
    written = through_bytes(options.to_xml(element(TIMG, "GetOptionsResponse")))
    assert ImagingOptions.from_xml(written) == options
    assert names(written) == [
        "BacklightCompensation",
        "Brightness",
        "ColorSaturation",
        "Contrast",
        "Exposure",
        "Focus",
        "IrCutFilterModes",
        "IrCutFilterModes",
        "Sharpness",
        "WideDynamicRange",
        "WhiteBalance",
    ]


def test_service_capabilities_round_trip() -> None:
    imaging = ImagingServiceCapabilities(image_stabilization=True, presets=False)
    assert ImagingServiceCapabilities.from_xml(imaging.to_xml(holder())) == imaging
    ptz = PTZServiceCapabilities(eflip=False, move_status=True, status_position=True)
    assert PTZServiceCapabilities.from_xml(ptz.to_xml(holder())) == ptz


# ----------------------------------------------------------------------------- camera quirks


def test_mode_words_are_read_case_insensitively() -> None:
    node = parse_xml(
        b'<x xmlns="http://www.onvif.org/ver10/schema"><IrCutFilter>auto</IrCutFilter>'
        b"<Exposure><Mode>Manual</Mode><Gain>12</Gain></Exposure></x>"
    )
    settings = ImagingSettings.from_xml(node)
    assert settings.ir_cut_filter is IrCutFilterMode.AUTO
    assert settings.exposure == Exposure(mode=ExposureMode.MANUAL, gain=12.0)


def test_an_unknown_mode_word_is_the_cameras_error() -> None:
    node = parse_xml(b"<x><WideDynamicRange><Mode>SUPER</Mode></WideDynamicRange></x>")
    with pytest.raises(RemoteProtocolError, match=r"WideDynamicMode expected.*'SUPER'") as info:
        ImagingSettings.from_xml(node)
    assert info.value.path == "/x/WideDynamicRange/Mode"


def test_unknown_move_status_reads_as_unknown() -> None:
    node = parse_xml(b"<s><MoveStatus><PanTilt>moving</PanTilt><Zoom>STUCK</Zoom></MoveStatus></s>")
    status = PTZStatus.from_xml(node)
    assert status.pan_tilt_move_status is MoveStatus.MOVING
    assert status.zoom_move_status is MoveStatus.UNKNOWN
    assert status.utc_time is None


def test_vector_without_y_is_the_cameras_error() -> None:
    node = parse_xml(b'<p><Position><PanTilt x="0.5"/></Position></p>')
    with pytest.raises(RemoteProtocolError, match="missing attribute y"):
        PTZStatus.from_xml(node)


def test_vector_needs_pan_and_tilt_together() -> None:
    with pytest.raises(LocalProtocolError, match="needs pan and tilt together"):
        PTZVector(pan=0.5)
    with pytest.raises(LocalProtocolError, match="needs pan and tilt together"):
        PTZSpeed(tilt=0.5)


# ----------------------------------------------------------------------------- imaging requests

SETTINGS_ORDER = [
    "BacklightCompensation",
    "Brightness",
    "ColorSaturation",
    "Contrast",
    "Exposure",
    "Focus",
    "IrCutFilter",
    "Sharpness",
    "WideDynamicRange",
    "WhiteBalance",
]

FULL_SETTINGS = ImagingSettings(
    backlight_compensation=BacklightCompensation(BacklightCompensationMode.ON, 5.0),
    brightness=50.0,
    color_saturation=60.0,
    contrast=70.0,
    exposure=Exposure(
        mode=ExposureMode.AUTO,
        priority=ExposurePriority.LOW_NOISE,
        min_exposure_time=100.0,
        max_exposure_time=33000.0,
        min_gain=0.0,
        max_gain=30.0,
        min_iris=0.0,
        max_iris=10.0,
        exposure_time=1000.0,
        gain=3.0,
        iris=1.0,
    ),
    focus=Focus(AutoFocusMode.AUTO, default_speed=1.0, near_limit=0.5, far_limit=100.0),
    ir_cut_filter=IrCutFilterMode.AUTO,
    sharpness=40.0,
    wide_dynamic_range=WideDynamicRange(WideDynamicMode.ON, 50.0),
    white_balance=WhiteBalance(WhiteBalanceMode.MANUAL, cr_gain=10.0, cb_gain=20.0),
)

FULL_OPTIONS = ImagingOptions(
    backlight_compensation=BacklightCompensationOptions(
        (BacklightCompensationMode.OFF, BacklightCompensationMode.ON), FloatRange(0, 10)
    ),
    brightness=FloatRange(0, 100),
    color_saturation=FloatRange(0, 100),
    contrast=FloatRange(0, 100),
    exposure=ExposureOptions(
        modes=(ExposureMode.AUTO, ExposureMode.MANUAL),
        priorities=(ExposurePriority.LOW_NOISE,),
        min_exposure_time=FloatRange(10, 1000),
        max_exposure_time=FloatRange(1000, 40000),
        min_gain=FloatRange(0, 10),
        max_gain=FloatRange(0, 48),
        min_iris=FloatRange(0, 5),
        max_iris=FloatRange(0, 20),
        exposure_time=FloatRange(10, 40000),
        gain=FloatRange(0, 48),
        iris=FloatRange(0, 20),
    ),
    focus=FocusOptions(
        (AutoFocusMode.AUTO, AutoFocusMode.MANUAL),
        default_speed=FloatRange(0, 1),
        near_limit=FloatRange(0, 10),
        far_limit=FloatRange(0, 1000),
    ),
    ir_cut_filter_modes=(IrCutFilterMode.ON, IrCutFilterMode.AUTO),
    sharpness=FloatRange(0, 100),
    wide_dynamic_range=WideDynamicRangeOptions(
        (WideDynamicMode.OFF, WideDynamicMode.ON), FloatRange(0, 100)
    ),
    white_balance=WhiteBalanceOptions(
        (WhiteBalanceMode.AUTO, WhiteBalanceMode.MANUAL), FloatRange(0, 255), FloatRange(0, 255)
    ),
)


def test_set_imaging_settings_follows_the_wsdl_and_xsd_order() -> None:
    request = imaging_ops.build_set_imaging_settings("src0", FULL_SETTINGS)
    assert request.tag == f"{{{TIMG}}}SetImagingSettings"
    assert names(request) == ["VideoSourceToken", "ImagingSettings", "ForcePersistence"]
    assert [namespace_of(c.tag) for c in request] == [TIMG, TIMG, TIMG]
    assert request[0].text == "src0"
    assert request[2].text == "true"
    settings = request[1]
    assert names(settings) == SETTINGS_ORDER
    assert {namespace_of(c.tag) for c in settings} == {TT}
    exposure = settings[4]
    assert names(exposure) == [
        "Mode",
        "Priority",
        "MinExposureTime",
        "MaxExposureTime",
        "MinGain",
        "MaxGain",
        "MinIris",
        "MaxIris",
        "ExposureTime",
        "Gain",
        "Iris",
    ]
    assert [c.text for c in list(exposure)[:3]] == ["AUTO", "LowNoise", "100.0"]
    assert names(settings[5]) == ["AutoFocusMode", "DefaultSpeed", "NearLimit", "FarLimit"]
    assert names(settings[9]) == ["Mode", "CrGain", "CbGain"]
    assert ImagingSettings.from_xml(through_bytes(settings)) == FULL_SETTINGS


def test_partial_settings_send_only_what_is_set() -> None:
    partial = ImagingSettings(
        sharpness=10.0,
        brightness=42.5,
        ir_cut_filter=IrCutFilterMode.OFF,
        wide_dynamic_range=WideDynamicRange(WideDynamicMode.OFF),
    )
    request = imaging_ops.build_set_imaging_settings("vs", partial, force_persistence=False)
    settings = request[1]
    assert names(settings) == ["Brightness", "IrCutFilter", "Sharpness", "WideDynamicRange"]
    assert [c.text for c in list(settings)[:3]] == ["42.5", "OFF", "10.0"]
    assert names(settings[3]) == ["Mode"]
    assert request[2].text == "false"


def test_empty_settings_are_refused() -> None:
    assert ImagingSettings().is_empty
    with pytest.raises(LocalProtocolError, match="at least one setting"):
        imaging_ops.build_set_imaging_settings("vs", ImagingSettings())


def test_imaging_token_requests() -> None:
    for build, operation in (
        (imaging_ops.build_get_imaging_settings, "GetImagingSettings"),
        (imaging_ops.build_get_options, "GetOptions"),
        (imaging_ops.build_stop, "Stop"),
    ):
        request = build("VideoSource_1")
        assert request.tag == f"{{{TIMG}}}{operation}"
        assert names(request) == ["VideoSourceToken"]
        assert request[0].text == "VideoSource_1"
        assert action_of(request) == f"{TIMG}/{operation}"


@pytest.mark.parametrize(
    ("focus", "kind", "children"),
    [
        (AbsoluteFocus(0.25, speed=1.0), "Absolute", [("Position", "0.25"), ("Speed", "1.0")]),
        (RelativeFocus(-0.5), "Relative", [("Distance", "-0.5")]),
        (ContinuousFocus(0.75), "Continuous", [("Speed", "0.75")]),
    ],
)
def test_focus_move_request(
    focus: AbsoluteFocus | RelativeFocus | ContinuousFocus,
    kind: str,
    children: list[tuple[str, str]],
) -> None:
    request = imaging_ops.build_move("vs", focus)
    assert names(request) == ["VideoSourceToken", "Focus"]
    assert names(request[1]) == [kind]
    assert [(local_name(c.tag), c.text) for c in request[1][0]] == children


def test_set_imaging_settings_answer_must_be_its_own() -> None:
    imaging_ops.parse_set_imaging_settings(element(TIMG, "SetImagingSettingsResponse"))
    with pytest.raises(RemoteProtocolError, match="expected SetImagingSettingsResponse"):
        imaging_ops.parse_set_imaging_settings(element(TIMG, "GetOptionsResponse"))


# ----------------------------------------------------------------------------- option checks


def test_settings_within_the_options_pass() -> None:
    FULL_OPTIONS.check(FULL_SETTINGS)
    # Bounds themselves are allowed, also after float32 rounding by the camera.
    FULL_OPTIONS.check(ImagingSettings(brightness=100.0000001, contrast=0.0))


def test_options_that_say_nothing_let_values_through() -> None:
    ImagingOptions().check(FULL_SETTINGS)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            ImagingSettings(brightness=101.0),
            "brightness 101 is outside the camera's range 0..100",
        ),
        (
            ImagingSettings(color_saturation=-1.0),
            "color_saturation -1 is outside the camera's range 0..100",
        ),
        (ImagingSettings(sharpness=250.0), "sharpness 250 is outside the camera's range 0..100"),
        (
            ImagingSettings(ir_cut_filter=IrCutFilterMode.OFF),
            "ir_cut_filter OFF is not one of the camera's modes (ON, AUTO)",
        ),
        (
            ImagingSettings(exposure=Exposure(ExposureMode.MANUAL, gain=60.0)),
            "exposure.gain 60 is outside the camera's range 0..48",
        ),
        (
            ImagingSettings(exposure=Exposure(ExposureMode.AUTO, max_exposure_time=50000.0)),
            "exposure.max_exposure_time 50000 is outside the camera's range 1000..40000",
        ),
        (
            ImagingSettings(
                exposure=Exposure(ExposureMode.AUTO, priority=ExposurePriority.FRAME_RATE)
            ),
            "exposure.priority FrameRate is not one of the camera's modes (LowNoise)",
        ),
        (
            ImagingSettings(
                backlight_compensation=BacklightCompensation(BacklightCompensationMode.ON, 11.0)
            ),
            "backlight_compensation.level 11 is outside the camera's range 0..10",
        ),
        (
            ImagingSettings(wide_dynamic_range=WideDynamicRange(WideDynamicMode.ON, 100.5)),
            "wide_dynamic_range.level 100.5 is outside the camera's range 0..100",
        ),
        (
            ImagingSettings(focus=Focus(AutoFocusMode.MANUAL, near_limit=20.0)),
            "focus.near_limit 20 is outside the camera's range 0..10",
        ),
        (
            ImagingSettings(white_balance=WhiteBalance(WhiteBalanceMode.MANUAL, cb_gain=300.0)),
            "white_balance.cb_gain 300 is outside the camera's range 0..255",
        ),
    ],
)
def test_out_of_range_values_are_refused_naming_field_and_range(
    settings: ImagingSettings, message: str
) -> None:
    with pytest.raises(LocalProtocolError) as info:
        FULL_OPTIONS.check(settings)
    assert str(info.value) == message


def test_exposure_mode_outside_the_options_is_refused() -> None:
    options = ImagingOptions(exposure=ExposureOptions(modes=(ExposureMode.AUTO,)))
    with pytest.raises(LocalProtocolError, match=r"exposure\.mode MANUAL is not one of.*\(AUTO\)"):
        options.check(ImagingSettings(exposure=Exposure(ExposureMode.MANUAL)))


# ----------------------------------------------------------------------------- PTZ requests


def test_continuous_move_request() -> None:
    velocity = PTZSpeed(0.5, -0.25, 0.1, pan_tilt_space="urn:pt", zoom_space="urn:z")
    request = ptz_ops.build_continuous_move("Profile_1", velocity, timeout=timedelta(seconds=1.5))
    assert request.tag == f"{{{TPTZ}}}ContinuousMove"
    assert names(request) == ["ProfileToken", "Velocity", "Timeout"]
    assert [namespace_of(c.tag) for c in request] == [TPTZ, TPTZ, TPTZ]
    assert request[2].text == "PT1.500S"
    pan_tilt, zoom = request[1]
    assert pan_tilt.tag == f"{{{TT}}}PanTilt"
    assert dict(pan_tilt.items()) == {"x": "0.5", "y": "-0.25", "space": "urn:pt"}
    assert dict(zoom.items()) == {"x": "0.1", "space": "urn:z"}
    assert action_of(request) == f"{TPTZ}/ContinuousMove"


def test_continuous_move_without_timeout_or_zoom() -> None:
    request = ptz_ops.build_continuous_move("P", PTZSpeed(pan=1.0, tilt=0.0))
    assert names(request) == ["ProfileToken", "Velocity"]
    assert names(request[1]) == ["PanTilt"]
    assert dict(request[1][0].items()) == {"x": "1.0", "y": "0.0"}


def test_move_refusals() -> None:
    with pytest.raises(LocalProtocolError, match="ContinuousMove needs a velocity"):
        ptz_ops.build_continuous_move("P", PTZSpeed())
    with pytest.raises(LocalProtocolError, match="timeout must be positive"):
        ptz_ops.build_continuous_move("P", PTZSpeed(zoom=0.5), timeout=timedelta(0))
    with pytest.raises(LocalProtocolError, match="AbsoluteMove needs a position"):
        ptz_ops.build_absolute_move("P", PTZVector())
    with pytest.raises(LocalProtocolError, match="RelativeMove needs a translation"):
        ptz_ops.build_relative_move("P", PTZVector())
    with pytest.raises(LocalProtocolError, match="Stop needs pan_tilt or zoom"):
        ptz_ops.build_stop("P", pan_tilt=False, zoom=False)


def test_absolute_and_relative_move_requests() -> None:
    speed = PTZSpeed(zoom=0.5)
    absolute = ptz_ops.build_absolute_move("P", PTZVector(0.1, 0.2, 0.3), speed=speed)
    assert names(absolute) == ["ProfileToken", "Position", "Speed"]
    assert names(absolute[1]) == ["PanTilt", "Zoom"]
    assert names(absolute[2]) == ["Zoom"]
    relative = ptz_ops.build_relative_move("P", PTZVector(zoom=-0.1))
    assert names(relative) == ["ProfileToken", "Translation"]
    assert dict(relative[1][0].items()) == {"x": "-0.1"}


def test_stop_request_writes_both_flags() -> None:
    request = ptz_ops.build_stop("P", zoom=False)
    assert names(request) == ["ProfileToken", "PanTilt", "Zoom"]
    assert [c.text for c in request] == ["P", "true", "false"]
    assert {namespace_of(c.tag) for c in request} == {TPTZ}


def test_preset_requests() -> None:
    request = ptz_ops.build_set_preset("P", name="Gate", preset_token="7")
    assert names(request) == ["ProfileToken", "PresetName", "PresetToken"]
    assert [c.text for c in request] == ["P", "Gate", "7"]
    assert names(ptz_ops.build_set_preset("P")) == ["ProfileToken"]
    goto = ptz_ops.build_goto_preset("P", "7", speed=PTZSpeed(1.0, 1.0))
    assert names(goto) == ["ProfileToken", "PresetToken", "Speed"]
    assert names(ptz_ops.build_remove_preset("P", "7")) == ["ProfileToken", "PresetToken"]
    assert names(ptz_ops.build_goto_home_position("P")) == ["ProfileToken"]
    home = ptz_ops.build_goto_home_position("P", speed=PTZSpeed(zoom=1.0))
    assert names(home) == ["ProfileToken", "Speed"]
    assert names(ptz_ops.build_set_home_position("P")) == ["ProfileToken"]
    assert names(ptz_ops.build_get_presets("P")) == ["ProfileToken"]


def test_token_requests_use_the_wsdl_names() -> None:
    assert names(ptz_ops.build_get_node("n")) == ["NodeToken"]
    assert names(ptz_ops.build_get_configuration("c")) == ["PTZConfigurationToken"]
    assert names(ptz_ops.build_get_configuration_options("c")) == ["ConfigurationToken"]
    assert names(ptz_ops.build_get_status("p")) == ["ProfileToken"]
    assert names(ptz_ops.build_get_nodes()) == []
    assert names(ptz_ops.build_get_configurations()) == []


def test_set_preset_answer_without_token_is_refused() -> None:
    payload = element(TPTZ, "SetPresetResponse")
    with pytest.raises(RemoteProtocolError, match="missing element PresetToken"):
        ptz_ops.parse_set_preset(payload)


# ----------------------------------------------------------------------------- facades

_DEVICE_ANSWERS = {
    "GetSystemDateAndTime": b"""<tds:GetSystemDateAndTimeResponse
        xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema">
      <tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>
        <tt:DaylightSavings>false</tt:DaylightSavings>
        <tt:UTCDateTime><tt:Time><tt:Hour>3</tt:Hour><tt:Minute>4</tt:Minute>
          <tt:Second>5</tt:Second></tt:Time><tt:Date><tt:Year>2026</tt:Year>
          <tt:Month>1</tt:Month><tt:Day>2</tt:Day></tt:Date></tt:UTCDateTime>
      </tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>""",
    "GetServices": b"""<tds:GetServicesResponse
        xmlns:tds="http://www.onvif.org/ver10/device/wsdl">
      <tds:Service><tds:Namespace>http://www.onvif.org/ver20/imaging/wsdl</tds:Namespace>
        <tds:XAddr>http://127.0.0.1:8080/onvif/imaging</tds:XAddr></tds:Service>
      <tds:Service><tds:Namespace>http://www.onvif.org/ver20/ptz/wsdl</tds:Namespace>
        <tds:XAddr>http://127.0.0.1:8080/onvif/ptz</tds:XAddr></tds:Service>
    </tds:GetServicesResponse>""",
}


class InMemoryCamera:
    """A SoapTransport that answers device calls itself and the rest from the
    captured corpus, recording every request it receives."""

    def __init__(self, answers: dict[str, str | bytes]) -> None:
        self.answers = answers  # operation -> corpus path, or the answer element's XML
        self.requests: list[tuple[str, etree._Element]] = []

    async def post(
        self,
        url: str,
        envelope: bytes,
        *,
        action: str,
        credentials: HttpCredentials | None = None,
        timeout: float | None = None,
    ) -> SoapHttpResponse:
        request = parse_envelope(envelope).payload
        operation = local_name(request.tag)
        self.requests.append((url, request))
        answer = _DEVICE_ANSWERS.get(operation) or self.answers[operation]
        if isinstance(answer, bytes):
            body = build_envelope(parse_xml(answer))
        else:
            body = tests.corpus.envelope_bytes(answer)
        return SoapHttpResponse(200, body, {"content-type": "application/soap+xml"})

    async def aclose(self) -> None:
        return None

    def sent(self, operation: str) -> list[etree._Element]:
        return [r for _, r in self.requests if local_name(r.tag) == operation]


async def _connected(camera: InMemoryCamera) -> OnvifClient:
    client = OnvifClient("127.0.0.1", 8080, transport=camera)
    await client.connect()
    return client


async def test_ptz_facade_reads_status_and_stores_a_preset() -> None:
    camera = InMemoryCamera(
        {
            "GetStatus": "ptz/pelco_D6230L_GetStatus.xml",
            "SetPreset": "ptz/pelco_D6230L_SetPreset.xml",
            "Stop": "ptz/pelco_D6230L_Stop.xml",
        }
    )
    client = await _connected(camera)
    status = await client.ptz.get_status("Profile_1")
    assert status.pan_tilt_move_status is MoveStatus.IDLE
    assert status.position == PTZVector(
        -0.39, 0.81, 0.0, pan_tilt_space=PT_GENERIC, zoom_space=ZOOM_GENERIC
    )
    token = await client.ptz.set_preset("Profile_1", name="Door")
    assert token == "76240dd2-26dd-48f1-bacf-a858550a14cc"
    await client.ptz.stop("Profile_1", zoom=False)
    (url, _), *_ = [(u, r) for u, r in camera.requests if local_name(r.tag) == "SetPreset"]
    assert url == "http://127.0.0.1:8080/onvif/ptz"
    assert [c.text for c in camera.sent("SetPreset")[0]] == ["Profile_1", "Door"]
    assert [c.text for c in camera.sent("Stop")[0]] == ["Profile_1", "true", "false"]


async def test_imaging_facade_reads_settings_and_options() -> None:
    camera = InMemoryCamera(
        {
            "GetImagingSettings": "imaging/bosch_FLEXIDOME-indoor-5100i-IR_GetImagingSettings.xml",
            "GetOptions": "imaging/generic-gsoap_PREDATOR-mockup_GetOptions.xml",
        }
    )
    client = await _connected(camera)
    settings = await client.imaging.get_imaging_settings("VideoSource_1")
    assert settings == ImagingSettings(brightness=128.0, color_saturation=128.0, contrast=128.0)
    options = await client.imaging.get_options("VideoSource_1")
    assert options.brightness == FloatRange(0.0, 255.0)
    assert [c.text for c in camera.sent("GetOptions")[0]] == ["VideoSource_1"]


async def test_set_imaging_settings_refuses_out_of_range_before_sending() -> None:
    camera = InMemoryCamera({})
    client = await _connected(camera)
    before = len(camera.requests)
    options = ImagingOptions(brightness=FloatRange(0.0, 255.0))
    with pytest.raises(LocalProtocolError, match=r"brightness 300 is outside .* 0\.\.255"):
        await client.imaging.set_imaging_settings(
            "VideoSource_1", ImagingSettings(brightness=300.0), options=options
        )
    assert len(camera.requests) == before
    assert camera.sent("SetImagingSettings") == []


async def test_set_imaging_settings_sends_the_checked_partial_settings() -> None:
    camera = InMemoryCamera(
        {"SetImagingSettings": f'<SetImagingSettingsResponse xmlns="{TIMG}"/>'.encode()}
    )
    client = await _connected(camera)
    await client.imaging.set_imaging_settings(
        "VideoSource_1",
        ImagingSettings(contrast=55.0, ir_cut_filter=IrCutFilterMode.AUTO),
        force_persistence=False,
        options=FULL_OPTIONS,
    )
    (request,) = camera.sent("SetImagingSettings")
    assert names(request) == ["VideoSourceToken", "ImagingSettings", "ForcePersistence"]
    assert [(local_name(c.tag), c.text) for c in request[1]] == [
        ("Contrast", "55.0"),
        ("IrCutFilter", "AUTO"),
    ]
    assert request[2].text == "false"
