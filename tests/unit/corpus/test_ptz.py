"""PTZ (tptz) parsers against captured real-camera answers.

``CASES`` holds, per capture, the value its parser must return, written down by
reading the file (tests/corpus/SOURCES.md says where each came from). Moves,
Stop and the preset/home operations answer with an empty element: their case is
``None``, and the test checks the response element's name and that the parser
returns exactly that.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

import tests.corpus
from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.models._values import DurationRange
from platonicam.onvif.models.common import FloatRange
from platonicam.onvif.models.ptz import (
    MoveStatus,
    PTZConfiguration,
    PTZConfigurationOptions,
    PTZNode,
    PTZPreset,
    PTZSpaces,
    PTZSpeed,
    PTZStatus,
    PTZVector,
    Space1D,
    Space2D,
)
from platonicam.onvif.services import ptz as ops
from platonicam.onvif.soap.namespaces import local_name

PT = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/"
ZM = "http://www.onvif.org/ver10/tptz/ZoomSpaces/"
PT_POSITION = PT + "PositionGenericSpace"
ZM_POSITION = ZM + "PositionGenericSpace"


def s2(uri: str, x: tuple[float, float], y: tuple[float, float]) -> Space2D:
    return Space2D(uri, FloatRange(*x), FloatRange(*y))


def s1(uri: str, x: tuple[float, float]) -> Space1D:
    return Space1D(uri, FloatRange(*x))


def position(pan: float, tilt: float, zoom: float) -> PTZVector:
    return PTZVector(pan, tilt, zoom, pan_tilt_space=PT_POSITION, zoom_space=ZM_POSITION)


# ----------------------------------------------------------------------------- Axis Q6045-E

AXIS_SPACES = PTZSpaces(
    absolute_pan_tilt_position=(
        s2(PT_POSITION, (-1, 1), (-1, 1)),
        s2(PT + "SphericalPositionSpace", (-180, 180), (-200, 20)),
    ),
    absolute_zoom_position=(s1(ZM_POSITION, (0, 1)),),
    relative_pan_tilt_translation=(
        s2(PT + "TranslationGenericSpace", (-1, 1), (-1, 1)),
        s2(PT + "SphericalTranslationSpaceDegrees", (-360, 360), (-360, 360)),
        s2(PT + "TranslationSpaceFov", (-1, 1), (-1, 1)),
    ),
    relative_zoom_translation=(s1(ZM + "TranslationGenericSpace", (-1, 1)),),
    continuous_pan_tilt_velocity=(s2(PT + "VelocityGenericSpace", (-1, 1), (-1, 1)),),
    continuous_zoom_velocity=(s1(ZM + "VelocityGenericSpace", (-1, 1)),),
    pan_tilt_speed=(s1(PT + "GenericSpeedSpace", (0, 1)),),
    zoom_speed=(s1(ZM + "ZoomGenericSpeedSpace", (0, 1)),),
)
AXIS_NODE = PTZNode(
    token="1",
    name=None,
    supported_spaces=AXIS_SPACES,
    max_presets=256,
    home_supported=True,
    auxiliary_commands=("reset",),
)
AXIS_PRESETS = [
    PTZPreset(token, name, position(pan, tilt, zoom))
    for token, name, pan, tilt, zoom in [
        ("22", "Living Room", -4.66240772e-06, 5.93397374e-07, 1.52603152e-09),
        ("21", "Window", 3.56038413e-06, 6.78168419e-07, 3.19245783e-06),
        ("20", "Kitchen", -3.72992622e-06, 3.3908421e-07, 1.114003e-06),
        ("19", "Preset 206", 1.18679475e-06, 1.35633684e-06, 1.52603152e-09),
        ("18", "Preset 10", 2.62790263e-06, 8.4771051e-07, 7.78276075e-08),
        ("17", "Preset 104", 3.39084204e-06, 5.08626329e-07, 7.78276075e-08),
        ("16", "Preset 103", 3.22129995e-06, 1.18679475e-06, 7.78276075e-08),
        ("15", "Preset 32", 3.39084204e-06, 8.4771051e-07, 7.78276075e-08),
        ("14", "Preset 31", 4.66240772e-06, 8.4771051e-07, 7.78276075e-08),
        ("13", "Preset 9", 8.05324999e-06, 8.4771051e-07, 5.66157667e-07),
        ("12", "kl", 1.24613443e-05, 3.3908421e-07, 1.52603152e-09),
        ("11", "H2", 1.0342068e-05, 3.3908421e-07, 6.64434128e-06),
        ("10", "H1", 1.24613443e-05, 3.3908421e-07, 1.52603152e-09),
        ("9", "w", 4.83194981e-06, -4.06901063e-06, 2.44775447e-06),
        ("8", "Preset 6", -8.22279162e-06, 0.0, 1.25439794e-06),
        ("7", "Preset 2", 6.52737072e-06, -2.88221577e-06, 1.52603152e-09),
        ("6", "Preset 5", -6.27305781e-06, 1.35633684e-06, 1.52603152e-09),
        ("5", "Preset 4", -6.78168419e-07, 9.32481555e-07, 1.52603152e-09),
        ("4", "Preset 20", 2.03450531e-06, 0.0, 3.19245783e-06),
        ("3", "Preset 3", -9.32481555e-07, 3.3908421e-07, 1.52603152e-09),
        ("2", "Preset 1", 1.35633684e-06, -5.42534735e-06, 1.52603152e-09),
    ]
]

# ----------------------------------------------------------------------------- PREDATOR mock-up

PREDATOR_SPACES = PTZSpaces(
    absolute_pan_tilt_position=(s2(PT_POSITION, (0, 1), (0, 1)),),
    absolute_zoom_position=(s1(ZM_POSITION, (0, 1)),),
    relative_pan_tilt_translation=(s2(PT + "TranslationGenericSpace", (-1, 1), (-1, 1)),),
    relative_zoom_translation=(s1(ZM + "TranslationGenericSpace", (-1, 1)),),
    continuous_pan_tilt_velocity=(s2(PT + "VelocityGenericSpace", (-1, 1), (-1, 1)),),
    continuous_zoom_velocity=(s1(ZM + "VelocityGenericSpace", (-1, 1)),),
    pan_tilt_speed=(s1(PT + "GenericSpeedSpace", (0, 1)),),
    zoom_speed=(s1(ZM + "ZoomGenericSpeedSpace", (0, 1)),),
)

# ----------------------------------------------------------------------------- Hikvision

HIKVISION_SPACES = PTZSpaces(
    absolute_pan_tilt_position=(s2(PT_POSITION, (-1, 1), (-1, 1)),),
    absolute_zoom_position=(s1(ZM_POSITION, (0, 1)),),
    relative_pan_tilt_translation=(s2(PT + "TranslationGenericSpace", (-1, 1), (-1, 1)),),
    relative_zoom_translation=(s1(ZM + "TranslationGenericSpace", (-1, 1)),),
    continuous_pan_tilt_velocity=(
        s2(PT + "VelocityGenericSpace", (-1, 1), (-1, 1)),
        s2(PT + "VelocitySpaceFOV", (-7, 7), (-7, 7)),
    ),
    continuous_zoom_velocity=(
        s1(ZM + "VelocityGenericSpace", (-1, 1)),
        s1(ZM + "VelocitySpaceMillimeter", (-7, 7)),
    ),
    pan_tilt_speed=(s1(PT + "GenericSpeedSpace", (0, 1)),),
    zoom_speed=(s1(ZM + "ZoomGenericSpeedSpace", (0, 1)),),
)
HIKVISION_CONFIGURATION = PTZConfiguration(
    token="PTZToken",
    name="PTZ",
    node_token="PTZNODETOKEN",
    use_count=3,
    default_absolute_pan_tilt_position_space=PT_POSITION,
    default_absolute_zoom_position_space=ZM_POSITION,
    default_relative_pan_tilt_translation_space=PT + "TranslationGenericSpace",
    default_relative_zoom_translation_space=ZM + "TranslationGenericSpace",
    default_continuous_pan_tilt_velocity_space=PT + "VelocityGenericSpace",
    default_continuous_zoom_velocity_space=ZM + "VelocityGenericSpace",
    default_speed=PTZSpeed(
        0.1,
        0.1,
        1.0,
        pan_tilt_space=PT + "GenericSpeedSpace",
        zoom_space=ZM + "ZoomGenericSpeedSpace",
    ),
    default_timeout=timedelta(seconds=300),
    pan_tilt_limits=s2(PT_POSITION, (-1, 1), (-1, 1)),
    zoom_limits=s1(ZM_POSITION, (0, 1)),
)
# 255 preset slots, tokens 1..256 without 6; only these have a Name, none a position.
_HIKVISION_NAMES = {
    1: "preset 1",
    2: "preset 1",
    3: "preset 2",
    4: "Parking",
    5: "West",
    33: "Auto-flip",
    34: "Back to origin",
    35: "Call patrol 1",
    36: "Call patrol 2",
    37: "Call patrol 3",
    38: "Call patrol 4",
    39: "Day mode",
    40: "Night mode",
    41: "Call pattern 1",
    42: "Call pattern 2",
    43: "Call pattern 3",
    44: "Call pattern 4",
    92: "Set manual limits",
    93: "Save manual limits",
    94: "Remote reboot",
    95: "Call OSD menu",
    96: "Stop a scan",
    97: "Start random scan",
    98: "Start frame scan",
    99: "Start auto scan",
    100: "Start tilt scan",
    101: "Start panorama scan",
    102: "Call patrol 5",
    103: "Call patrol 6",
    104: "Call patrol 7",
    105: "Call patrol 8",
}
HIKVISION_PRESETS = [
    PTZPreset(str(number), _HIKVISION_NAMES.get(number)) for number in range(1, 257) if number != 6
]

# ----------------------------------------------------------------------------- Pelco D6230L

PELCO = "urn:schemas-pelco-com:onvif:ptz/"
PELCO_SPACES = PTZSpaces(
    absolute_pan_tilt_position=(
        s2(PT_POSITION, (-1, 1), (-1, 1)),
        s2(PT + "SphericalPositionSpaceDegrees", (-180, 180), (-93, 3)),
    ),
    absolute_zoom_position=(s1(ZM_POSITION, (0, 1)),),
    relative_pan_tilt_translation=(
        s2(PT + "SphericalTranslationSpaceDegrees", (-180, 180), (-96, 96)),
        s2(PT + "TranslationGenericSpace", (-1, 1), (-1, 1)),
        s2(PELCO + "PanTiltSpaces/PercentFOVSpace", (-100, 100), (-100, 100)),
    ),
    relative_zoom_translation=(
        s1(ZM + "TranslationGenericSpace", (-1, 1)),
        s1(PELCO + "ZoomSpaces/PercentFOVSpace", (1, 1000)),
    ),
    continuous_pan_tilt_velocity=(s2(PT + "VelocityGenericSpace", (-1, 1), (-1, 1)),),
    continuous_zoom_velocity=(s1(ZM + "VelocityGenericSpace", (-1, 1)),),
    pan_tilt_speed=(s1(PT + "GenericSpeedSpace", (0, 1)),),
)
PELCO_NODE = PTZNode(
    token="PTZID-0",
    name="PtzHardwareDriver",
    supported_spaces=PELCO_SPACES,
    max_presets=256,
    home_supported=True,
    fixed_home_position=False,
)
PELCO_CONFIGURATION = PTZConfiguration(
    token="0",
    name="default",
    node_token="PTZID-0",
    use_count=2,
    default_absolute_pan_tilt_position_space=PT_POSITION,
    default_absolute_zoom_position_space=ZM_POSITION,
    default_relative_pan_tilt_translation_space=PT + "TranslationGenericSpace",
    default_relative_zoom_translation_space=ZM + "TranslationGenericSpace",
    default_continuous_pan_tilt_velocity_space=PT + "VelocityGenericSpace",
    default_continuous_zoom_velocity_space=ZM + "VelocityGenericSpace",
    # No Zoom speed in this firmware's DefaultPTZSpeed.
    default_speed=PTZSpeed(1.0, 1.0, pan_tilt_space=PT + "GenericSpeedSpace"),
    default_timeout=timedelta(seconds=16),
    pan_tilt_limits=s2(PT_POSITION, (-1, 1), (-1, 1)),
    zoom_limits=s1(ZM_POSITION, (0, 0.08)),
)

CASES: dict[str, object] = {
    "ptz/axis_Q6045-E_ContinuousMove.xml": None,
    "ptz/axis_Q6045-E_GetConfigurationOptions.xml": PTZConfigurationOptions(
        spaces=AXIS_SPACES,
        timeout=DurationRange(timedelta(0), timedelta(seconds=2147)),
    ),
    "ptz/axis_Q6045-E_GetConfigurations.xml": [
        PTZConfiguration(
            token="0",
            name="user0",
            node_token="1",
            use_count=2,
            default_absolute_pan_tilt_position_space=PT_POSITION,
            default_absolute_zoom_position_space=ZM_POSITION,
            default_relative_pan_tilt_translation_space=PT + "TranslationGenericSpace",
            default_relative_zoom_translation_space=ZM + "TranslationGenericSpace",
            default_continuous_pan_tilt_velocity_space=PT + "VelocityGenericSpace",
            default_continuous_zoom_velocity_space=ZM + "VelocityGenericSpace",
            default_speed=PTZSpeed(
                1.0,
                1.0,
                1.0,
                pan_tilt_space=PT + "GenericSpeedSpace",
                zoom_space=ZM + "ZoomGenericSpeedSpace",
            ),
            default_timeout=timedelta(seconds=2147),
            pan_tilt_limits=s2(PT_POSITION, (-1, 1), (-1, 1)),
            zoom_limits=s1(ZM_POSITION, (0, 1)),
        )
    ],
    "ptz/axis_Q6045-E_GetNode.xml": AXIS_NODE,
    "ptz/axis_Q6045-E_GetNodes.xml": [AXIS_NODE],
    "ptz/axis_Q6045-E_GetPresets.xml": AXIS_PRESETS,
    "ptz/axis_Q6045-E_GetStatus.xml": PTZStatus(
        position=position(-0.387339115, 0.933800578, 0.0),
        pan_tilt_move_status=MoveStatus.IDLE,
        zoom_move_status=MoveStatus.IDLE,
        utc_time=datetime(2018, 2, 27, 0, 18, 43, tzinfo=UTC),
    ),
    "ptz/axis_Q6045-E_GotoHomePosition.xml": None,
    "ptz/axis_Q6045-E_GotoPreset.xml": None,
    "ptz/axis_Q6045-E_RemovePreset.xml": None,
    "ptz/axis_Q6045-E_SetPreset.xml": "23",
    "ptz/axis_Q6045-E_Stop.xml": None,
    "ptz/generic-gsoap_PREDATOR-mockup_GetConfigurationOptions.xml": PTZConfigurationOptions(
        spaces=PREDATOR_SPACES,
        timeout=DurationRange(timedelta(0), timedelta(seconds=10)),
    ),
    "ptz/generic-gsoap_PREDATOR-mockup_GetNodes.xml": [
        PTZNode(
            token="default",
            name="default",
            supported_spaces=PREDATOR_SPACES,
            max_presets=360,
            home_supported=True,
            auxiliary_commands=tuple(f"AUX{n}" for n in range(1, 9)),
        )
    ],
    "ptz/generic-gsoap_PREDATOR-mockup_GetStatus.xml": PTZStatus(
        position=position(-0.864665985, 0.267444015, 0.211861998),
        pan_tilt_move_status=MoveStatus.IDLE,
        zoom_move_status=MoveStatus.IDLE,
        utc_time=datetime(2014, 12, 29, 20, 1, 31, tzinfo=UTC),
    ),
    "ptz/hikvision_DS-2DF7276-AEL_ContinuousMove.xml": None,
    "ptz/hikvision_DS-2DF7276-AEL_GetConfiguration.xml": HIKVISION_CONFIGURATION,
    "ptz/hikvision_DS-2DF7276-AEL_GetConfigurationOptions.xml": PTZConfigurationOptions(
        spaces=HIKVISION_SPACES,
        timeout=DurationRange(timedelta(seconds=1), timedelta(seconds=600)),
    ),
    "ptz/hikvision_DS-2DF7276-AEL_GetConfigurations.xml": [HIKVISION_CONFIGURATION],
    "ptz/hikvision_DS-2DF7276-AEL_GetNode.xml": PTZNode(
        token="PTZNODETOKEN",
        name="PTZNODE",
        supported_spaces=HIKVISION_SPACES,
        max_presets=256,
        home_supported=True,
        auxiliary_commands=(),  # an empty <AuxiliaryCommands/> is no command
    ),
    "ptz/hikvision_DS-2DF7276-AEL_GetPresets.xml": HIKVISION_PRESETS,
    "ptz/hikvision_DS-2DF7276-AEL_GetStatus.xml": PTZStatus(
        position=position(0.333167, -0.682, 0.0),
        error="NO error",
        utc_time=datetime(2018, 2, 27, 14, 53, 6, tzinfo=UTC),
    ),
    "ptz/hikvision_DS-2DF7276-AEL_GotoHomePosition.xml": None,
    "ptz/hikvision_DS-2DF7276-AEL_GotoPreset.xml": None,
    "ptz/hikvision_DS-2DF7276-AEL_RelativeMove.xml": None,
    "ptz/hikvision_DS-2DF7276-AEL_Stop.xml": None,
    "ptz/pelco_D6230L_AbsoluteMove.xml": None,
    "ptz/pelco_D6230L_ContinuousMove.xml": None,
    "ptz/pelco_D6230L_GetConfiguration.xml": PELCO_CONFIGURATION,
    "ptz/pelco_D6230L_GetConfigurationOptions.xml": PTZConfigurationOptions(
        spaces=PELCO_SPACES,
        timeout=DurationRange(timedelta(milliseconds=100), timedelta(seconds=30)),
    ),
    "ptz/pelco_D6230L_GetConfigurations.xml": [PELCO_CONFIGURATION],
    "ptz/pelco_D6230L_GetNode.xml": PELCO_NODE,
    "ptz/pelco_D6230L_GetNodes.xml": [PELCO_NODE],
    "ptz/pelco_D6230L_GetPresets.xml": [
        PTZPreset("b8eb9b60-96b2-415e-aaa5-82a40217b93d", "Shane's Room", position(-0.26, 0.8, 0)),
        PTZPreset("e1bda071-cfbf-4199-94bd-b4b9ed01ec61", "Ashiq's Room", position(0.21, 0.8, 0)),
        PTZPreset("c9cf034b-3f77-4481-b61f-c93cb715a80a", "The Real Lab", position(0.56, 0.8, 0)),
        PTZPreset("9e943b75-2880-4b38-b8f0-1728c0382490", "Door Sign", position(0.56, 1, 0.016)),
        PTZPreset(
            "96fdea4f-3b13-4b02-b5bd-1c449e2b8a8b", "Bottom of Door", position(0.56, 0.93, 0.045)
        ),
        PTZPreset("293ab6a2-235d-4b1d-906e-68bc7f8af514", "Dev Room", position(-0.46, 0.88, 0)),
    ],
    "ptz/pelco_D6230L_GetStatus.xml": PTZStatus(
        position=position(-0.39, 0.81, 0.0),
        pan_tilt_move_status=MoveStatus.IDLE,
        zoom_move_status=MoveStatus.IDLE,
        utc_time=datetime(2018, 2, 27, 14, 57, 8, 890590, tzinfo=UTC),
    ),
    "ptz/pelco_D6230L_GotoPreset.xml": None,
    "ptz/pelco_D6230L_RelativeMove.xml": None,
    "ptz/pelco_D6230L_RemovePreset.xml": None,
    "ptz/pelco_D6230L_SetHomePosition.xml": None,
    "ptz/pelco_D6230L_SetPreset.xml": "76240dd2-26dd-48f1-bacf-a858550a14cc",
    "ptz/pelco_D6230L_Stop.xml": None,
}

PARSERS: dict[str, Callable[[etree._Element], object]] = {
    "AbsoluteMove": ops.parse_absolute_move,
    "ContinuousMove": ops.parse_continuous_move,
    "GetConfiguration": ops.parse_get_configuration,
    "GetConfigurationOptions": ops.parse_get_configuration_options,
    "GetConfigurations": ops.parse_get_configurations,
    "GetNode": ops.parse_get_node,
    "GetNodes": ops.parse_get_nodes,
    "GetPresets": ops.parse_get_presets,
    "GetStatus": ops.parse_get_status,
    "GotoHomePosition": ops.parse_goto_home_position,
    "GotoPreset": ops.parse_goto_preset,
    "RelativeMove": ops.parse_relative_move,
    "RemovePreset": ops.parse_remove_preset,
    "SetHomePosition": ops.parse_set_home_position,
    "SetPreset": ops.parse_set_preset,
    "Stop": ops.parse_stop,
}


def test_cases_cover_the_ptz_folder() -> None:
    on_disk = {p for p in tests.corpus.all_capture_paths() if p.startswith("ptz/")}
    assert set(CASES) == on_disk
    assert len(CASES) == 41


@pytest.mark.parametrize(("path", "expected"), list(CASES.items()), ids=tests.corpus.ids(CASES))
def test_capture(path: str, expected: object) -> None:
    operation = tests.corpus.capture(path).operation
    payload = tests.corpus.payload(path)
    assert local_name(payload.tag) == f"{operation}Response"
    assert PARSERS[operation](payload) == expected


def test_presets_keep_tokens_in_camera_order() -> None:
    presets = ops.parse_get_presets(tests.corpus.payload("ptz/axis_Q6045-E_GetPresets.xml"))
    assert [p.token for p in presets] == [str(n) for n in range(22, 1, -1)]


@pytest.mark.parametrize(
    "path",
    [p for p, expected in CASES.items() if expected is None],
    ids=tests.corpus.ids(p for p, expected in CASES.items() if expected is None),
)
def test_empty_answer_to_another_operation_is_refused(path: str) -> None:
    # An empty answer only counts for the operation it names.
    operation = tests.corpus.capture(path).operation
    other = "Stop" if operation != "Stop" else "GotoPreset"
    with pytest.raises(RemoteProtocolError, match=f"expected {other}Response"):
        PARSERS[other](tests.corpus.payload(path))
