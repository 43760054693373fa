"""Media (ver10) captures for audio, OSDs, metadata and video analytics configurations.

These are read with the xmlread helpers (no typed models yet): each case names
the token of every entry, and values by path inside the first entry (or, with
an index, inside that entry).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest
from lxml import etree

from platonicam.onvif.models.analytics import Config
from platonicam.onvif.soap.namespaces import local_name
from platonicam.onvif.soap.xmlread import (
    attr,
    bool_at,
    child,
    children,
    duration_at,
    float_at,
    int_at,
    text,
)
from tests.corpus import capture, ids, payload


@dataclass(frozen=True, slots=True)
class Entries:
    """``tokens``: the ``token`` attribute of each entry, in order. ``texts`` and
    ``ints``: values by path, keyed ``(entry index, *names)``. ``seconds``: durations."""

    entry: str
    tokens: tuple[str, ...]
    texts: Mapping[tuple[int | str, ...], str] = field(default_factory=dict)
    ints: Mapping[tuple[int | str, ...], int] = field(default_factory=dict)
    bools: Mapping[tuple[int | str, ...], bool] = field(default_factory=dict)
    seconds: Mapping[tuple[int | str, ...], float] = field(default_factory=dict)
    # Video analytics: (module names, rule names) of each configuration.
    analytics: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()


_AXIS_METADATA = Entries(
    "Configurations",
    tuple(str(n) for n in range(8)),
    texts={
        (0, "Name"): "user0",
        (7, "Name"): "user7",
        (0, "Multicast", "Address", "IPv4Address"): "0.0.0.0",
    },
    ints={(0, "UseCount"): 0, (0, "Multicast", "Port"): 0, (0, "Multicast", "TTL"): 5},
    bools={(0, "PTZStatus", "Status"): False, (0, "Multicast", "AutoStart"): False},
    seconds={(0, "SessionTimeout"): 60},
)


def _hik_metadata(port: int) -> Entries:
    return Entries(
        "Configurations",
        ("MetaDataToken",),
        texts={(0, "Name"): "metaData", (0, "Multicast", "Address", "Type"): "IPv4"},
        ints={(0, "Multicast", "Port"): port, (0, "Multicast", "TTL"): 1},
        bools={(0, "Analytics"): False, (0, "PTZStatus", "Position"): False},
        seconds={(0, "SessionTimeout"): 5},
    )


_HIK_MODULES = (
    "MyCellMotionModule",
    "MyLineDetectorModule",
    "MyFieldDetectorModule",
    "MyTamperDetecModule",
)
_HIK_RULES = ("MyMotionDetectorRule", "MyLineDetector1", "MyFieldDetector1", "MyTamperDetectorRule")

CASES: dict[str, Entries] = {
    "media/axis_Q6045-E_GetMetadataConfigurations.xml": _AXIS_METADATA,
    "media/hikvision_DS-2CD2012-I_GetMetadataConfigurations.xml": _hik_metadata(8600),
    "media/hikvision_DS-2CD2012-I_GetOSDs.xml": Entries(
        "OSDs",
        ("osd_token_0",),
        texts={
            (0, "VideoSourceConfigurationToken"): "VideoSourceToken",
            (0, "Type"): "Text",
            (0, "Position", "Type"): "Custom",
            (0, "TextString", "Type"): "Plain",
            (0, "TextString", "PlainText"): "Camera 01",
        },
        ints={(0, "TextString", "FontSize"): 32},
        bools={(0, "TextString", "Extension", "ChannelName"): True},
    ),
    "media/hikvision_DS-2CD2012-I_GetVideoAnalyticsConfigurations.xml": Entries(
        "Configurations",
        ("VideoAnalyticsToken",),
        texts={(0, "Name"): "VideoAnalyticsName"},
        ints={(0, "UseCount"): 2},
        analytics=((_HIK_MODULES, _HIK_RULES),),
    ),
    "media/hikvision_DS-2DF7276-AEL_GetAudioDecoderConfigurations.xml": Entries(
        "Configurations",
        ("AudioDecoderConfigToken",),
        texts={(0, "Name"): "AudioDecoderConfig"},
        ints={(0, "UseCount"): 3},
    ),
    "media/hikvision_DS-2DF7276-AEL_GetAudioEncoderConfigurations.xml": Entries(
        "Configurations",
        ("MainAudioEncoderToken",),
        texts={(0, "Name"): "AudioEncoderConfig", (0, "Encoding"): "G711"},
        ints={(0, "Bitrate"): 64, (0, "SampleRate"): 8, (0, "Multicast", "Port"): 8600},
        seconds={(0, "SessionTimeout"): 5},
    ),
    "media/hikvision_DS-2DF7276-AEL_GetAudioOutputConfigurations.xml": Entries(
        "Configurations",
        ("AudioOutputConfigToken",),
        texts={
            (0, "Name"): "AudioOutputConfigName",
            (0, "OutputToken"): "AudioOutputToken",
            (0, "SendPrimacy"): "www.onvif.org/ver20/HalfDuplex/Server",
        },
        ints={(0, "UseCount"): 3, (0, "OutputLevel"): 10},
    ),
    "media/hikvision_DS-2DF7276-AEL_GetAudioSourceConfigurations.xml": Entries(
        "Configurations",
        ("AudioSourceConfigToken",),
        texts={(0, "Name"): "AudioSourceConfig", (0, "SourceToken"): "AudioSourceChannel1"},
        ints={(0, "UseCount"): 3},
    ),
    "media/hikvision_DS-2DF7276-AEL_GetAudioSources.xml": Entries(
        "AudioSources", ("AudioSourceChannel1",), ints={(0, "Channels"): 1}
    ),
    "media/hikvision_DS-2DF7276-AEL_GetMetadataConfigurations.xml": _hik_metadata(8600),
    "media/hikvision_DS-2DF7276-AEL_GetOSDs.xml": Entries(
        "OSDs",
        ("osd_token_1", "osd_token_0"),
        texts={
            (0, "TextString", "Type"): "DateAndTime",
            (0, "TextString", "DateFormat"): "MM/dd/yyyy",
            (0, "TextString", "TimeFormat"): "HH:mm:ss",
            (1, "TextString", "PlainText"): "IPdome",
        },
        bools={
            (0, "TextString", "Extension", "ChannelName"): False,
            (1, "TextString", "Extension", "ChannelName"): True,
        },
    ),
    "media/hikvision_DS-2DF7276-AEL_GetVideoAnalyticsConfigurations.xml": Entries(
        "Configurations",
        ("VideoAnalyticsToken",),
        ints={(0, "UseCount"): 3},
        analytics=(
            (
                ("MyCellMotionModule", "MyTamperDetecModule"),
                ("MyMotionDetectorRule", "MyTamperDetectorRule"),
            ),
        ),
    ),
    "media/pelco_D6230L_GetAudioEncoderConfigurations.xml": Entries(
        "Configurations",
        ("0",),
        texts={(0, "Name"): "audio", (0, "Multicast", "Address", "IPv4Address"): "239.10.1.66"},
        ints={(0, "Multicast", "Port"): 6880, (0, "Multicast", "TTL"): 10},
        seconds={(0, "SessionTimeout"): 15 * 60},
    ),
    "media/pelco_D6230L_GetAudioOutputs.xml": Entries("AudioOutputs", ()),
    "media/pelco_D6230L_GetAudioSourceConfigurations.xml": Entries(
        "Configurations", ("0",), texts={(0, "Name"): "Camera", (0, "SourceToken"): "0"}
    ),
    "media/pelco_D6230L_GetMetadataConfigurations.xml": Entries("Configurations", ()),
    "media/pelco_D6230L_GetOSDs.xml": Entries(
        "OSDs",
        ("OSD", "OSD_1", "OSD_1_1"),
        texts={
            (0, "Position", "Type"): "LowerRight",
            (0, "TextString", "Type"): "DeviceNameDateTime",
            (0, "TextString", "TimeFormat"): "HH:mm:ss TZ",
            (1, "TextString", "Type"): "PtzPosition",
            (2, "Position", "Type"): "UpperLeft",
            (2, "TextString", "Type"): "AcquiredPTZPreset",
        },
        ints={(0, "TextString", "FontSize"): 52},
    ),
    # No Name element, and a vendor (pa:) module with an empty ActiveCells value.
    "media/pelco_D6230L_GetVideoAnalyticsConfigurations.xml": Entries(
        "Configurations",
        ("VACToken",),
        ints={(0, "UseCount"): 0},
        analytics=((("SceneAnalyzer",), ("Region1",)),),
    ),
    "media/trendnet_TV-IP320PI_GetMetadataConfigurations.xml": _hik_metadata(8864),
    "media/trendnet_TV-IP320PI_GetOSDs.xml": Entries(
        "OSDs",
        ("OsdToken_101", "OsdToken_100"),
        texts={(1, "TextString", "PlainText"): "TV-IP320PI", (0, "Position", "Type"): "Custom"},
    ),
    "media/trendnet_TV-IP320PI_GetVideoAnalyticsConfigurations.xml": Entries(
        "Configurations",
        ("VideoAnalyticsToken",),
        ints={(0, "UseCount"): 2},
        analytics=((_HIK_MODULES, _HIK_RULES),),
    ),
}


@pytest.mark.parametrize("path", list(CASES), ids=ids(CASES))
def test_media_capture(path: str) -> None:
    expected = CASES[path]
    answer = payload(path)
    assert local_name(answer.tag) == f"{capture(path).operation}Response"
    entries = list(children(answer, expected.entry))
    assert tuple(attr(e, "token") for e in entries) == expected.tokens

    def at(key: tuple[int | str, ...]) -> tuple[etree._Element, tuple[str, ...]]:
        index, *names = key
        assert isinstance(index, int)
        return entries[index], tuple(str(n) for n in names)

    for key, value in expected.texts.items():
        entry, names = at(key)
        assert text(entry, *names) == value, key
    for key, number in expected.ints.items():
        entry, names = at(key)
        assert int_at(entry, *names) == number, key
    for key, flag in expected.bools.items():
        entry, names = at(key)
        assert bool_at(entry, *names) is flag, key
    for key, seconds in expected.seconds.items():
        entry, names = at(key)
        duration = duration_at(entry, *names)
        assert duration is not None
        assert duration.total_seconds() == seconds, key
    analytics = expected.analytics
    if analytics:
        assert len(analytics) == len(entries)
    for entry, (modules, rules) in zip(entries, analytics, strict=False):
        module_list = child(entry, "AnalyticsEngineConfiguration")
        rule_list = child(entry, "RuleEngineConfiguration")
        assert module_list is not None
        assert rule_list is not None
        assert (
            tuple(Config.from_xml(m).name for m in children(module_list, "AnalyticsModule"))
            == modules
        )
        assert tuple(Config.from_xml(r).name for r in children(rule_list, "Rule")) == rules


def test_osd_position_and_colour() -> None:
    osd = next(children(payload("media/hikvision_DS-2CD2012-I_GetOSDs.xml"), "OSDs"))
    pos = child(osd, "Position", "Pos")
    assert float(attr(pos, "x") or "nan") == pytest.approx(0.454545)
    assert float(attr(pos, "y") or "nan") == pytest.approx(-0.733333)
    color = child(osd, "TextString", "FontColor", "Color")
    assert attr(color, "Colorspace") == "http://www.onvif.org/ver10/colorspace/YCbCr"
    assert float_at(osd, "TextString", "FontSize") == 32.0


def test_pelco_scene_analyzer_parameters() -> None:
    configuration = next(
        children(
            payload("media/pelco_D6230L_GetVideoAnalyticsConfigurations.xml"), "Configurations"
        )
    )
    module_list = child(configuration, "AnalyticsEngineConfiguration")
    rule_list = child(configuration, "RuleEngineConfiguration")
    assert module_list is not None
    assert rule_list is not None
    module = Config.from_xml(next(children(module_list, "AnalyticsModule")))
    assert module.type_name == "pa:SceneAnalyzerEngine"
    assert module.parameter("Sensitivity") == "5"
    assert module.element_items == ("Calibration", "ExcludeZones", "ObjectSizeFilters")
    rule = Config.from_xml(next(children(rule_list, "Rule")))
    assert rule.parameter("ActiveCells") == ""
    assert rule.parameter("AlarmOffDelay") == "10000"
