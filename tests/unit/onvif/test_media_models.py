"""Media and Media2 models, request builders and the media facade.

Round trips (Hypothesis) for the models the reference device answers with,
request element order against the WSDL sequences, options parsing in both
generations and the checks made before a change is sent, NAT rewriting of
stream URIs, and the facade against an in-memory device speaking real SOAP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import LocalProtocolError, RemoteProtocolError
from platonicam.onvif.facades.media import rewrite_media_uri
from platonicam.onvif.models.common import FloatRange, IntRange, Resolution, ServiceKind
from platonicam.onvif.models.media import (
    EncodingOptions,
    MediaProfile,
    MulticastConfiguration,
    Rectangle,
    SnapshotUri,
    StreamProtocol,
    StreamType,
    StreamUri,
    TransportProtocol,
    VideoEncoderConfiguration,
    VideoEncoderConfigurationOptions,
    VideoEncoding,
    VideoSource,
    VideoSourceConfiguration,
)
from platonicam.onvif.services import media as media1
from platonicam.onvif.services import media2
from platonicam.onvif.soap.build import element, sub
from platonicam.onvif.soap.envelope import build_envelope, parse_envelope
from platonicam.onvif.soap.namespaces import TDS, TR2, TRT, TT, local_name, namespace_of, qn
from platonicam.onvif.soap.xml import parse_xml
from platonicam.onvif.transport import HttpCredentials, SoapHttpResponse

# --------------------------------------------------------------------------- strategies

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_-.", min_size=1, max_size=12)
_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_-.", max_size=12)
_RESOLUTION = st.builds(Resolution, st.integers(1, 8192), st.integers(1, 8192))
_MULTICAST = st.builds(
    MulticastConfiguration,
    address=st.none() | st.ip_addresses().map(str),
    port=st.none() | st.integers(0, 65535),
    ttl=st.none() | st.integers(0, 255),
    auto_start=st.none() | st.booleans(),
)
_QUALITY = st.none() | st.floats(0, 100, allow_nan=False, allow_infinity=False)


@st.composite
def media1_encoders(draw: st.DrawFn) -> VideoEncoderConfiguration:
    """What ver10 can carry: no H.265, whole frame rates, GOP only for H.264/MPEG-4."""
    encoding = draw(
        st.sampled_from([None, VideoEncoding.H264, VideoEncoding.JPEG, VideoEncoding.MPEG4])
    )
    has_gop = encoding in (VideoEncoding.H264, VideoEncoding.MPEG4)
    profiles = ["Baseline", "Main", "High"] if encoding is VideoEncoding.H264 else ["SP", "ASP"]
    return VideoEncoderConfiguration(
        token=draw(_WORD),
        name=draw(_NAME),
        use_count=draw(st.integers(0, 16)),
        encoding=encoding,
        resolution=draw(st.none() | _RESOLUTION),
        quality=draw(_QUALITY),
        frame_rate_limit=draw(st.none() | st.integers(0, 120).map(float)),
        encoding_interval=draw(st.none() | st.integers(0, 10)),
        bitrate_limit=draw(st.none() | st.integers(0, 2**31 - 1)),
        gov_length=draw(st.none() | st.integers(1, 1000)) if has_gop else None,
        profile=draw(st.none() | st.sampled_from(profiles)) if has_gop else None,
        multicast=draw(st.none() | _MULTICAST),
        session_timeout=draw(st.none() | st.integers(0, 10**6).map(lambda s: timedelta(seconds=s))),
        guaranteed_frame_rate=draw(st.none() | st.booleans()),
    )


@st.composite
def media2_encoders(draw: st.DrawFn) -> VideoEncoderConfiguration:
    """What ver20 can carry: any codec, fractional frame rates, no encoding
    interval and no session timeout."""
    return VideoEncoderConfiguration(
        token=draw(_WORD),
        name=draw(_NAME),
        use_count=draw(st.integers(0, 16)),
        encoding=draw(st.none() | st.sampled_from(VideoEncoding)),
        resolution=draw(st.none() | _RESOLUTION),
        quality=draw(_QUALITY),
        frame_rate_limit=draw(st.none() | st.floats(0, 240, allow_nan=False, allow_infinity=False)),
        bitrate_limit=draw(st.none() | st.integers(0, 2**31 - 1)),
        gov_length=draw(st.none() | st.integers(1, 1000)),
        profile=draw(st.none() | st.sampled_from(["Baseline", "Main", "High", "Main10"])),
        multicast=draw(st.none() | _MULTICAST),
        guaranteed_frame_rate=draw(st.none() | st.booleans()),
    )


_SOURCE_CONFIG = st.builds(
    VideoSourceConfiguration,
    token=_WORD,
    name=_NAME,
    use_count=st.integers(0, 16),
    source_token=st.none() | _WORD,
    bounds=st.none()
    | st.builds(
        Rectangle,
        st.integers(0, 4096),
        st.integers(0, 4096),
        st.integers(1, 8192),
        st.integers(1, 8192),
    ),
)


def _profiles(
    encoders: st.SearchStrategy[VideoEncoderConfiguration],
) -> st.SearchStrategy[MediaProfile]:
    token = st.none() | _WORD
    return st.builds(
        MediaProfile,
        token=_WORD,
        name=_NAME,
        fixed=st.none() | st.booleans(),
        video_source_configuration=st.none() | _SOURCE_CONFIG,
        video_encoder_configuration=st.none() | encoders,
        audio_source_configuration_token=token,
        audio_encoder_configuration_token=token,
        video_analytics_configuration_token=token,
        ptz_configuration_token=token,
        metadata_configuration_token=token,
    )


def _reparse(node: etree._Element) -> etree._Element:
    """Serialise and parse again, as the bytes would travel."""
    return parse_xml(etree.tostring(node))


def _holder() -> etree._Element:
    return element(TRT, "Holder")


# --------------------------------------------------------------------------- round trips


@given(media1_encoders())
def test_video_encoder_configuration_round_trips_in_media1(
    config: VideoEncoderConfiguration,
) -> None:
    node = config.to_xml(_holder())
    assert VideoEncoderConfiguration.from_xml(_reparse(node)) == config


@given(media2_encoders())
def test_video_encoder_configuration_round_trips_in_media2(
    config: VideoEncoderConfiguration,
) -> None:
    node = config.to_xml(_holder(), qn(TR2, "Configurations"), media2=True)
    assert VideoEncoderConfiguration.from_xml(_reparse(node)) == config


@given(_profiles(media1_encoders()))
def test_media_profile_round_trips_in_media1(profile: MediaProfile) -> None:
    node = profile.to_xml(_holder())
    assert MediaProfile.from_xml(_reparse(node)) == profile


@given(_profiles(media2_encoders()))
def test_media_profile_round_trips_in_media2(profile: MediaProfile) -> None:
    node = profile.to_xml(_holder(), media2=True)
    assert namespace_of(node.tag) == TR2
    assert MediaProfile.from_xml(_reparse(node)) == profile


def test_video_source_and_uris_round_trip() -> None:
    source = VideoSource("VideoSource_1", 25.0, Resolution(1920, 1080))
    assert VideoSource.from_xml(_reparse(source.to_xml(_holder()))) == source
    uri = StreamUri("rtsp://10.0.0.5:554/a?b=1&c=2", True, False, timedelta(seconds=60))
    assert StreamUri.from_xml(_reparse(uri.to_xml(_holder()))) == uri
    bare = StreamUri("rtsp://10.0.0.5/x?y=1&z=2")
    written = bare.to_xml(_holder(), media2=True)
    assert (namespace_of(written.tag), local_name(written.tag)) == (TR2, "Uri")
    assert StreamUri.from_xml(_reparse(written)) == bare
    snapshot = SnapshotUri("http://10.0.0.5/snap.jpg", False, True, timedelta(0))
    assert SnapshotUri.from_xml(_reparse(snapshot.to_xml(_holder()))) == snapshot


# --------------------------------------------------------------------------- shapes


def _tree(node: etree._Element) -> list[object]:
    """Local names in document order, nested lists for children."""
    result: list[object] = []
    for child in node:
        name = local_name(child.tag)
        result.append([name, _tree(child)] if len(child) else name)
    return result


def test_media1_encoder_is_written_in_schema_order() -> None:
    # onvif.xsd tt:VideoEncoderConfiguration: Name, UseCount, Encoding, Resolution,
    # Quality, RateControl, MPEG4, H264, Multicast, SessionTimeout.
    config = VideoEncoderConfiguration(
        token="enc",
        name="main",
        use_count=1,
        encoding=VideoEncoding.H264,
        resolution=Resolution(1920, 1080),
        quality=4.5,
        frame_rate_limit=25,
        encoding_interval=1,
        bitrate_limit=4096,
        gov_length=50,
        profile="High",
        multicast=MulticastConfiguration("0.0.0.0", 0, 1, False),
        session_timeout=timedelta(seconds=60),
        guaranteed_frame_rate=False,
    )
    node = config.to_xml(_holder())
    assert node.get("token") == "enc"
    assert node.get("GuaranteedFrameRate") == "false"
    assert _tree(node) == [
        "Name",
        "UseCount",
        "Encoding",
        ["Resolution", ["Width", "Height"]],
        "Quality",
        ["RateControl", ["FrameRateLimit", "EncodingInterval", "BitrateLimit"]],
        ["H264", ["GovLength", "H264Profile"]],
        ["Multicast", [["Address", ["Type", "IPv4Address"]], "Port", "TTL", "AutoStart"]],
        "SessionTimeout",
    ]
    assert node.findtext(qn(TT, "Quality")) == "4.5"
    assert node.findtext(qn(TT, "SessionTimeout")) == "PT60S"


def test_media2_encoder_is_written_in_schema_order() -> None:
    # onvif.xsd tt:VideoEncoder2Configuration: Name, UseCount, Encoding, Resolution,
    # RateControl, Multicast, Quality; GovLength and Profile are attributes.
    config = VideoEncoderConfiguration(
        token="enc",
        name="main",
        use_count=1,
        encoding=VideoEncoding.H265,
        resolution=Resolution(3840, 2160),
        quality=70,
        frame_rate_limit=12.5,
        bitrate_limit=8192,
        gov_length=25,
        profile="Main10",
        multicast=MulticastConfiguration("ff02::1", 5000, 8, True),
    )
    node = config.to_xml(_holder(), media2=True)
    assert (node.get("GovLength"), node.get("Profile")) == ("25", "Main10")
    assert _tree(node) == [
        "Name",
        "UseCount",
        "Encoding",
        ["Resolution", ["Width", "Height"]],
        ["RateControl", ["FrameRateLimit", "BitrateLimit"]],
        ["Multicast", [["Address", ["Type", "IPv6Address"]], "Port", "TTL", "AutoStart"]],
        "Quality",
    ]
    assert node.findtext(qn(TT, "Encoding")) == "H265"
    assert node.findtext(f"{qn(TT, 'RateControl')}/{qn(TT, 'FrameRateLimit')}") == "12.5"


def test_media1_refuses_what_it_cannot_carry() -> None:
    h265 = VideoEncoderConfiguration("enc", "n", 0, VideoEncoding.H265, None)
    with pytest.raises(LocalProtocolError, match="H265 needs Media2"):
        media1.build_set_video_encoder_configuration(h265)
    fractional = VideoEncoderConfiguration(
        "enc", "n", 0, VideoEncoding.H264, None, frame_rate_limit=12.5
    )
    with pytest.raises(LocalProtocolError, match=r"frame_rate_limit must be a whole number"):
        media1.build_set_video_encoder_configuration(fractional)


def test_media2_writes_mpeg4_under_its_mime_name() -> None:
    config = VideoEncoderConfiguration("enc", "n", 0, VideoEncoding.MPEG4, None)
    node = config.to_xml(_holder(), media2=True)
    assert node.findtext(qn(TT, "Encoding")) == "MPV4-ES"
    assert VideoEncoderConfiguration.from_xml(node).encoding is VideoEncoding.MPEG4


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("H264", VideoEncoding.H264),
        ("h264", VideoEncoding.H264),
        ("H.264", VideoEncoding.H264),
        ("H265", VideoEncoding.H265),
        ("HEVC", VideoEncoding.H265),
        ("JPEG", VideoEncoding.JPEG),
        ("MPV4-ES", VideoEncoding.MPEG4),
        ("MPEG4", VideoEncoding.MPEG4),
        (" ", None),
        (None, None),
    ],
)
def test_encoding_names_normalise(raw: str | None, expected: VideoEncoding | None) -> None:
    assert VideoEncoding.parse(raw) is expected


def test_unknown_encoding_names_the_value_and_path() -> None:
    node = _reparse(
        etree.fromstring(
            f'<tt:Configurations xmlns:tt="{TT}" token="x"><tt:Encoding>VP9</tt:Encoding>'
            "</tt:Configurations>"
        )
    )
    with pytest.raises(RemoteProtocolError) as caught:
        VideoEncoderConfiguration.from_xml(node, operation="GetVideoEncoderConfigurations")
    assert str(caught.value) == (
        "unknown video encoding 'VP9' (operation GetVideoEncoderConfigurations, "
        "at /Configurations/Encoding)"
    )


def test_profile_whose_encoder_has_no_encoding_or_resolution() -> None:
    # DESIGN.md "What real cameras do": some profiles carry encoder blocks with
    # neither an encoding nor a resolution. They parse, with those fields None.
    xml = f"""<trt:GetProfilesResponse xmlns:trt="{TRT}" xmlns:tt="{TT}">
      <trt:Profiles token="p0" fixed="true"><tt:Name>main</tt:Name>
        <tt:VideoEncoderConfiguration token="e0">
          <tt:Name>enc</tt:Name><tt:UseCount>1</tt:UseCount><tt:Quality>5</tt:Quality>
          <tt:RateControl><tt:FrameRateLimit>25</tt:FrameRateLimit></tt:RateControl>
        </tt:VideoEncoderConfiguration>
      </trt:Profiles>
      <trt:Profiles token="p1"><tt:Name>empty</tt:Name></trt:Profiles>
    </trt:GetProfilesResponse>"""
    first, second = media1.parse_get_profiles(parse_xml(xml.encode()))
    assert first.video_encoder_configuration == VideoEncoderConfiguration(
        "e0", "enc", 1, None, None, quality=5.0, frame_rate_limit=25.0
    )
    assert first.fixed is True
    assert second == MediaProfile("p1", "empty")


def test_media2_profile_reads_its_configuration_set() -> None:
    xml = f"""<tr2:GetProfilesResponse xmlns:tr2="{TR2}" xmlns:tt="{TT}">
      <tr2:Profiles token="Profile_1" fixed="true"><tr2:Name>mainStream</tr2:Name>
        <tr2:Configurations>
          <tr2:VideoSource token="vs"><tt:Name>src</tt:Name><tt:UseCount>2</tt:UseCount>
            <tt:SourceToken>VideoSource_1</tt:SourceToken>
            <tt:Bounds x="0" y="0" width="2688" height="1520"/></tr2:VideoSource>
          <tr2:VideoEncoder token="ve" GovLength="50" Profile="Main">
            <tt:Name>enc</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H265</tt:Encoding>
            <tt:Resolution><tt:Width>2688</tt:Width><tt:Height>1520</tt:Height></tt:Resolution>
            <tt:RateControl ConstantBitRate="false"><tt:FrameRateLimit>12.5</tt:FrameRateLimit>
              <tt:BitrateLimit>4096</tt:BitrateLimit></tt:RateControl>
            <tt:Quality>3</tt:Quality></tr2:VideoEncoder>
          <tr2:PTZ token="ptz0"/><tr2:Metadata token="md0"/>
        </tr2:Configurations></tr2:Profiles>
    </tr2:GetProfilesResponse>"""
    (profile,) = media2.parse_get_profiles(parse_xml(xml.encode()))
    assert profile == MediaProfile(
        token="Profile_1",
        name="mainStream",
        fixed=True,
        video_source_configuration=VideoSourceConfiguration(
            "vs", "src", 2, "VideoSource_1", Rectangle(0, 0, 2688, 1520)
        ),
        video_encoder_configuration=VideoEncoderConfiguration(
            token="ve",
            name="enc",
            use_count=1,
            encoding=VideoEncoding.H265,
            resolution=Resolution(2688, 1520),
            quality=3.0,
            frame_rate_limit=12.5,
            bitrate_limit=4096,
            gov_length=50,
            profile="Main",
        ),
        ptz_configuration_token="ptz0",
        metadata_configuration_token="md0",
    )


# --------------------------------------------------------------------------- requests


def _names(request: etree._Element) -> list[object]:
    return [local_name(request.tag), _tree(request)]


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        # ver10/media/wsdl/media.wsdl element sequences.
        (media1.build_get_profiles, ["GetProfiles", []]),
        (lambda: media1.build_get_profile("p"), ["GetProfile", ["ProfileToken"]]),
        (lambda: media1.build_create_profile("n", "t"), ["CreateProfile", ["Name", "Token"]]),
        (lambda: media1.build_delete_profile("p"), ["DeleteProfile", ["ProfileToken"]]),
        (
            lambda: media1.build_add_video_encoder_configuration("p", "c"),
            ["AddVideoEncoderConfiguration", ["ProfileToken", "ConfigurationToken"]],
        ),
        (
            lambda: media1.build_add_video_source_configuration("p", "c"),
            ["AddVideoSourceConfiguration", ["ProfileToken", "ConfigurationToken"]],
        ),
        (media1.build_get_video_sources, ["GetVideoSources", []]),
        (media1.build_get_video_source_configurations, ["GetVideoSourceConfigurations", []]),
        (media1.build_get_video_encoder_configurations, ["GetVideoEncoderConfigurations", []]),
        (
            lambda: media1.build_get_video_encoder_configuration("c"),
            ["GetVideoEncoderConfiguration", ["ConfigurationToken"]],
        ),
        (
            lambda: media1.build_get_video_encoder_configuration_options("c", "p"),
            ["GetVideoEncoderConfigurationOptions", ["ConfigurationToken", "ProfileToken"]],
        ),
        (
            lambda: media1.build_get_stream_uri("p"),
            [
                "GetStreamUri",
                [["StreamSetup", ["Stream", ["Transport", ["Protocol"]]]], "ProfileToken"],
            ],
        ),
        (lambda: media1.build_get_snapshot_uri("p"), ["GetSnapshotUri", ["ProfileToken"]]),
        (
            lambda: media1.build_set_video_encoder_configuration(
                VideoEncoderConfiguration("c", "n", 1, VideoEncoding.JPEG, Resolution(640, 480))
            ),
            [
                "SetVideoEncoderConfiguration",
                [
                    [
                        "Configuration",
                        ["Name", "UseCount", "Encoding", ["Resolution", ["Width", "Height"]]],
                    ],
                    "ForcePersistence",
                ],
            ],
        ),
        # ver20/media/wsdl/media.wsdl element sequences.
        (media2.build_get_profiles, ["GetProfiles", ["Type"]]),
        (
            lambda: media2.build_get_profiles("p"),
            ["GetProfiles", ["Token", "Type"]],
        ),
        (
            lambda: media2.build_get_video_encoder_configuration_options("c", "p"),
            ["GetVideoEncoderConfigurationOptions", ["ConfigurationToken", "ProfileToken"]],
        ),
        (
            lambda: media2.build_get_video_source_configurations(profile_token="p"),
            ["GetVideoSourceConfigurations", ["ProfileToken"]],
        ),
        (media2.build_get_video_encoder_configurations, ["GetVideoEncoderConfigurations", []]),
        (
            lambda: media2.build_get_stream_uri("p", StreamProtocol.RTSPS),
            ["GetStreamUri", ["Protocol", "ProfileToken"]],
        ),
        (lambda: media2.build_get_snapshot_uri("p"), ["GetSnapshotUri", ["ProfileToken"]]),
        (
            lambda: media2.build_create_profile("n", [("VideoEncoder", "c")]),
            ["CreateProfile", ["Name", ["Configuration", ["Type", "Token"]]]],
        ),
        (lambda: media2.build_delete_profile("p"), ["DeleteProfile", ["Token"]]),
        (
            lambda: media2.build_add_configuration("p", [("VideoEncoder", "c")]),
            ["AddConfiguration", ["ProfileToken", ["Configuration", ["Type", "Token"]]]],
        ),
    ],
)
def test_request_element_order(build: Callable[[], etree._Element], expected: list[object]) -> None:
    assert _names(build()) == expected


def test_request_namespaces_and_values() -> None:
    request = media1.build_get_stream_uri(
        "Profile_1", stream=StreamType.RTP_UNICAST, transport=TransportProtocol.HTTP
    )
    assert namespace_of(request.tag) == TRT
    setup = request.find(qn(TRT, "StreamSetup"))
    assert setup is not None
    assert setup.findtext(qn(TT, "Stream")) == "RTP-Unicast"
    assert setup.findtext(f"{qn(TT, 'Transport')}/{qn(TT, 'Protocol')}") == "HTTP"
    assert request.findtext(qn(TRT, "ProfileToken")) == "Profile_1"

    set_request = media1.build_set_video_encoder_configuration(
        VideoEncoderConfiguration("c", "n", 1, VideoEncoding.H264, None), force_persistence=False
    )
    assert set_request.findtext(qn(TRT, "ForcePersistence")) == "false"
    assert set_request[0].tag == qn(TRT, "Configuration")

    media2_request = media2.build_get_profiles()
    assert media2_request.findtext(qn(TR2, "Type")) == "All"
    stream2 = media2.build_get_stream_uri("p", StreamProtocol.RTSP_OVER_HTTP)
    assert stream2.findtext(qn(TR2, "Protocol")) == "RtspOverHttp"
    set2 = media2.build_set_video_encoder_configuration(
        VideoEncoderConfiguration("c", "n", 1, VideoEncoding.H265, None)
    )
    assert [local_name(child.tag) for child in set2] == ["Configuration"]
    assert set2[0].tag == qn(TR2, "Configuration")


# --------------------------------------------------------------------------- options

# Shaped like a Hikvision ver10 answer: base H264 block plus the Extension's
# H264Options2, which repeats it and adds the bitrate range.
_MEDIA1_OPTIONS = f"""<trt:GetVideoEncoderConfigurationOptionsResponse
    xmlns:trt="{TRT}" xmlns:tt="{TT}">
  <trt:Options GuaranteedFrameRateSupported="false">
    <tt:QualityRange><tt:Min>1</tt:Min><tt:Max>6</tt:Max></tt:QualityRange>
    <tt:JPEG>
      <tt:ResolutionsAvailable><tt:Width>704</tt:Width><tt:Height>576</tt:Height></tt:ResolutionsAvailable>
      <tt:FrameRateRange><tt:Min>1</tt:Min><tt:Max>25</tt:Max></tt:FrameRateRange>
      <tt:EncodingIntervalRange><tt:Min>1</tt:Min><tt:Max>1</tt:Max></tt:EncodingIntervalRange>
    </tt:JPEG>
    <tt:H264>
      <tt:ResolutionsAvailable><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:ResolutionsAvailable>
      <tt:ResolutionsAvailable><tt:Width>1280</tt:Width><tt:Height>720</tt:Height></tt:ResolutionsAvailable>
      <tt:GovLengthRange><tt:Min>1</tt:Min><tt:Max>400</tt:Max></tt:GovLengthRange>
      <tt:FrameRateRange><tt:Min>1</tt:Min><tt:Max>25</tt:Max></tt:FrameRateRange>
      <tt:EncodingIntervalRange><tt:Min>1</tt:Min><tt:Max>1</tt:Max></tt:EncodingIntervalRange>
      <tt:H264ProfilesSupported>Baseline</tt:H264ProfilesSupported>
      <tt:H264ProfilesSupported>Main</tt:H264ProfilesSupported>
      <tt:H264ProfilesSupported>High</tt:H264ProfilesSupported>
    </tt:H264>
    <tt:Extension>
      <tt:H264>
        <tt:ResolutionsAvailable><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:ResolutionsAvailable>
        <tt:ResolutionsAvailable><tt:Width>1280</tt:Width><tt:Height>720</tt:Height></tt:ResolutionsAvailable>
        <tt:GovLengthRange><tt:Min>1</tt:Min><tt:Max>400</tt:Max></tt:GovLengthRange>
        <tt:FrameRateRange><tt:Min>1</tt:Min><tt:Max>25</tt:Max></tt:FrameRateRange>
        <tt:EncodingIntervalRange><tt:Min>1</tt:Min><tt:Max>1</tt:Max></tt:EncodingIntervalRange>
        <tt:H264ProfilesSupported>Baseline</tt:H264ProfilesSupported>
        <tt:H264ProfilesSupported>Main</tt:H264ProfilesSupported>
        <tt:H264ProfilesSupported>High</tt:H264ProfilesSupported>
        <tt:BitrateRange><tt:Min>32</tt:Min><tt:Max>16384</tt:Max></tt:BitrateRange>
      </tt:H264>
    </tt:Extension>
  </trt:Options>
</trt:GetVideoEncoderConfigurationOptionsResponse>"""

_MEDIA2_OPTIONS = f"""<tr2:GetVideoEncoderConfigurationOptionsResponse
    xmlns:tr2="{TR2}" xmlns:tt="{TT}">
  <tr2:Options GovLengthRange="1 400" FrameRatesSupported="25 12.5 6.25"
      ProfilesSupported="Main Main10" GuaranteedFrameRateSupported="false">
    <tt:Encoding>H265</tt:Encoding>
    <tt:QualityRange><tt:Min>1</tt:Min><tt:Max>6</tt:Max></tt:QualityRange>
    <tt:ResolutionsAvailable><tt:Width>2688</tt:Width><tt:Height>1520</tt:Height></tt:ResolutionsAvailable>
    <tt:BitrateRange><tt:Min>32</tt:Min><tt:Max>16384</tt:Max></tt:BitrateRange>
  </tr2:Options>
  <tr2:Options FrameRatesSupported="25 12.5">
    <tt:Encoding>SmartH264Plus</tt:Encoding>
    <tt:QualityRange><tt:Min>1</tt:Min><tt:Max>6</tt:Max></tt:QualityRange>
    <tt:ResolutionsAvailable><tt:Width>2688</tt:Width><tt:Height>1520</tt:Height></tt:ResolutionsAvailable>
    <tt:BitrateRange><tt:Min>32</tt:Min><tt:Max>16384</tt:Max></tt:BitrateRange>
  </tr2:Options>
  <tr2:Options FrameRatesSupported="15 5">
    <tt:Encoding>JPEG</tt:Encoding>
    <tt:QualityRange><tt:Min>1</tt:Min><tt:Max>100</tt:Max></tt:QualityRange>
    <tt:ResolutionsAvailable><tt:Width>640</tt:Width><tt:Height>360</tt:Height></tt:ResolutionsAvailable>
    <tt:BitrateRange><tt:Min>0</tt:Min><tt:Max>0</tt:Max></tt:BitrateRange>
  </tr2:Options>
</tr2:GetVideoEncoderConfigurationOptionsResponse>"""

_H264_OPTIONS = EncodingOptions(
    encoding=VideoEncoding.H264,
    resolutions=(Resolution(1920, 1080), Resolution(1280, 720)),
    quality_range=FloatRange(1, 6),
    frame_rate_range=FloatRange(1, 25),
    encoding_interval_range=IntRange(1, 1),
    bitrate_range=IntRange(32, 16384),
    gov_length_range=IntRange(1, 400),
    profiles=("Baseline", "Main", "High"),
)


def test_media1_options_read_the_extension_block() -> None:
    options = media1.parse_get_video_encoder_configuration_options(
        parse_xml(_MEDIA1_OPTIONS.encode())
    )
    assert options == VideoEncoderConfigurationOptions(
        encodings=(
            EncodingOptions(
                encoding=VideoEncoding.JPEG,
                resolutions=(Resolution(704, 576),),
                quality_range=FloatRange(1, 6),
                frame_rate_range=FloatRange(1, 25),
                encoding_interval_range=IntRange(1, 1),
            ),
            _H264_OPTIONS,
        ),
        guaranteed_frame_rate_supported=False,
    )
    # The device writes the same shape back.
    again = VideoEncoderConfigurationOptions.from_xml(_reparse(options.to_xml(_holder())))
    assert again == options


def test_media2_options_are_one_entry_per_known_encoding() -> None:
    options = media2.parse_get_video_encoder_configuration_options(
        parse_xml(_MEDIA2_OPTIONS.encode())
    )
    h265 = EncodingOptions(
        encoding=VideoEncoding.H265,
        resolutions=(Resolution(2688, 1520),),
        quality_range=FloatRange(1, 6),
        frame_rate_range=FloatRange(6.25, 25),
        frame_rates=(25.0, 12.5, 6.25),
        bitrate_range=IntRange(32, 16384),
        gov_length_range=IntRange(1, 400),
        profiles=("Main", "Main10"),
    )
    # The vendor codec entry is skipped, not fatal.
    assert [o.encoding for o in options.encodings] == [VideoEncoding.H265, VideoEncoding.JPEG]
    assert options.for_encoding(VideoEncoding.H265) == h265
    assert options.for_encoding(VideoEncoding.H264) is None
    assert options.guaranteed_frame_rate_supported is False
    holder = element(TR2, "GetVideoEncoderConfigurationOptionsResponse")
    options.to_media2_xml(holder)
    assert media2.parse_get_video_encoder_configuration_options(_reparse(holder)) == options


_GOOD = VideoEncoderConfiguration(
    token="VideoEncoderToken_1",
    name="main",
    use_count=1,
    encoding=VideoEncoding.H264,
    resolution=Resolution(1920, 1080),
    quality=4,
    frame_rate_limit=25,
    encoding_interval=1,
    bitrate_limit=4096,
    gov_length=50,
    profile="Main",
)
_OPTIONS = VideoEncoderConfigurationOptions(encodings=(_H264_OPTIONS,))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            replace(_GOOD, encoding=VideoEncoding.H265),
            "encoding H265 is not offered by the camera (allowed: H264)",
        ),
        (
            replace(_GOOD, resolution=Resolution(640, 480)),
            "resolution 640x480 is not offered for H264 (allowed: 1920x1080, 1280x720)",
        ),
        (
            replace(_GOOD, frame_rate_limit=30),
            "frame_rate_limit 30 is outside what the camera allows for H264 (allowed: 1..25)",
        ),
        (
            replace(_GOOD, bitrate_limit=20000),
            "bitrate_limit 20000 is outside what the camera allows for H264 (allowed: 32..16384)",
        ),
        (
            replace(_GOOD, gov_length=0),
            "gov_length 0 is outside what the camera allows for H264 (allowed: 1..400)",
        ),
        (
            replace(_GOOD, quality=7.5),
            "quality 7.5 is outside what the camera allows for H264 (allowed: 1..6)",
        ),
        (
            replace(_GOOD, encoding_interval=2),
            "encoding_interval 2 is outside what the camera allows for H264 (allowed: 1..1)",
        ),
        (
            replace(_GOOD, profile="Main10"),
            "profile Main10 is not offered for H264 (allowed: Baseline, Main, High)",
        ),
    ],
)
def test_options_refuse_values_outside_them(
    config: VideoEncoderConfiguration, message: str
) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        _OPTIONS.check(config)
    assert str(caught.value) == message


def test_media2_frame_rate_list_is_exact() -> None:
    options = media2.parse_get_video_encoder_configuration_options(
        parse_xml(_MEDIA2_OPTIONS.encode())
    )
    h265 = replace(_GOOD, encoding=VideoEncoding.H265, resolution=Resolution(2688, 1520))
    options.check(replace(h265, frame_rate_limit=12.5, profile="Main10"))
    with pytest.raises(LocalProtocolError) as caught:
        options.check(replace(h265, frame_rate_limit=20, profile="Main10"))
    assert str(caught.value) == (
        "frame_rate_limit 20 is outside what the camera allows for H265 (allowed: 25, 12.5, 6.25)"
    )


# --------------------------------------------------------------------------- NAT rewriting


@pytest.mark.parametrize(
    ("uri", "host", "expected"),
    [
        # Private address behind NAT: host replaced, RTSP port kept.
        (
            "rtsp://192.168.1.123:554/cam/realmonitor?channel=1&subtype=1",
            "203.0.113.7",
            "rtsp://203.0.113.7:554/cam/realmonitor?channel=1&subtype=1",
        ),
        # No port: none is added (the scheme's default stays in force).
        ("rtsp://10.10.1.66/stream2_v", "127.0.0.1", "rtsp://127.0.0.1/stream2_v"),
        ("http://10.10.1.66/jpeg", "cam.example", "http://cam.example/jpeg"),
        # Credentials some cameras embed are kept.
        ("rtsp://user:pw@10.0.0.5:8554/s", "127.0.0.1", "rtsp://user:pw@127.0.0.1:8554/s"),
        # IPv6 in and out.
        ("rtsp://[fe80::1]:554/s", "127.0.0.1", "rtsp://127.0.0.1:554/s"),
        ("rtsp://10.0.0.5:554/s", "::1", "rtsp://[::1]:554/s"),
        ("rtsp://10.0.0.5:554/s", "[::1]", "rtsp://[::1]:554/s"),
        # Already the host we reached: unchanged, byte for byte.
        ("rtsp://CAM.example:554/s?a=%20", "cam.example", "rtsp://CAM.example:554/s?a=%20"),
        # Not an absolute URI: left alone.
        ("/onvif-media/media.amp", "127.0.0.1", "/onvif-media/media.amp"),
    ],
)
def test_rewrite_media_uri(uri: str, host: str, expected: str) -> None:
    assert rewrite_media_uri(uri, host) == expected


# --------------------------------------------------------------------------- facade


def _clock_answer() -> etree._Element:
    node = element(TDS, "SystemDateAndTime")
    sub(node, TT, "DateTimeType", "NTP")
    sub(node, TT, "DaylightSavings", "false")
    utc = sub(node, TT, "UTCDateTime")
    time = sub(utc, TT, "Time")
    for name, value in (("Hour", 3), ("Minute", 4), ("Second", 5)):
        sub(time, TT, name, str(value))
    date = sub(utc, TT, "Date")
    for name, value in (("Year", 2026), ("Month", 1), ("Day", 2)):
        sub(date, TT, name, str(value))
    return node


class InMemoryDevice:
    """A SoapTransport that answers like a camera, written with our own models.

    It records the (namespace, operation) of every request, so tests can see
    which service the facade chose and that nothing was sent when it must not be.
    """

    def __init__(self, *, media2_offered: bool) -> None:
        self.requests: list[tuple[str, str]] = []
        self.bodies: list[etree._Element] = []
        self.media2_offered = media2_offered

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
        namespace, operation = namespace_of(request.tag) or "", local_name(request.tag)
        self.requests.append((namespace, operation))
        self.bodies.append(request)
        response = element(namespace, operation + "Response")
        if operation == "GetSystemDateAndTime":
            # Written by hand, not with the device models: this file tests media.
            response.append(_clock_answer())
        elif operation == "GetServices":
            kinds = [ServiceKind.DEVICE, ServiceKind.MEDIA]
            if self.media2_offered:
                kinds.append(ServiceKind.MEDIA2)
            for kind in kinds:
                service = sub(response, TDS, "Service")
                sub(service, TDS, "Namespace", kind.namespace)
                sub(service, TDS, "XAddr", f"http://192.168.1.10/onvif/{kind}")
        elif operation == "GetStreamUri":
            uri = StreamUri("rtsp://192.168.1.10:554/live?a=1&b=2", False, False, timedelta(0))
            uri.to_xml(response, media2=namespace == TR2)
        elif operation == "GetSnapshotUri":
            SnapshotUri("http://192.168.1.10:8080/snap.jpg").to_xml(
                response, media2=namespace == TR2
            )
        elif operation == "GetProfiles":
            MediaProfile("p0", "main", fixed=True).to_xml(response, media2=namespace == TR2)
        elif operation == "CreateProfile":
            if namespace == TR2:
                response.append(element(TR2, "Token", "new"))
            else:
                MediaProfile("new", "x").to_xml(response, qn(TRT, "Profile"))
        body = build_envelope(response)
        return SoapHttpResponse(200, body, {"content-type": "application/soap+xml"})

    async def aclose(self) -> None:
        return None

    def media_calls(self) -> list[tuple[str, str]]:
        return [(ns, op) for ns, op in self.requests if ns in (TRT, TR2)]


async def _connect(device: InMemoryDevice) -> OnvifClient:
    client = OnvifClient("127.0.0.1", 8080, transport=device)
    await client.connect()
    return client


async def test_facade_prefers_media2_and_rewrites_the_stream_host() -> None:
    device = InMemoryDevice(media2_offered=True)
    client = await _connect(device)
    assert client.media.uses_media2
    uri = await client.media.get_stream_uri("p0")
    assert uri == StreamUri("rtsp://127.0.0.1:554/live?a=1&b=2")
    assert device.media_calls() == [(TR2, "GetStreamUri")]
    assert device.bodies[-1].findtext(qn(TR2, "Protocol")) == "RTSP"
    snapshot = await client.media.get_snapshot_uri("p0")
    assert snapshot.uri == "http://127.0.0.1:8080/snap.jpg"
    (profile,) = await client.media.get_profiles()
    assert profile == MediaProfile("p0", "main", fixed=True)
    assert device.bodies[-1].findtext(qn(TR2, "Type")) == "All"
    assert await client.media.create_profile("x") == "new"


async def test_facade_falls_back_to_media1() -> None:
    device = InMemoryDevice(media2_offered=False)
    client = await _connect(device)
    assert not client.media.uses_media2
    uri = await client.media.get_stream_uri("p0", StreamProtocol.RTSP_OVER_HTTP)
    assert uri == StreamUri("rtsp://127.0.0.1:554/live?a=1&b=2", False, False, timedelta(0))
    request = device.bodies[-1]
    assert (
        request.findtext(f"{qn(TRT, 'StreamSetup')}/{qn(TT, 'Transport')}/{qn(TT, 'Protocol')}")
        == "HTTP"
    )
    raw = await client.media.get_stream_uri("p0", rewrite_host=False)
    assert raw.uri == "rtsp://192.168.1.10:554/live?a=1&b=2"
    assert await client.media.create_profile("x", token="new") == "new"
    assert device.media_calls() == [
        (TRT, "GetStreamUri"),
        (TRT, "GetStreamUri"),
        (TRT, "CreateProfile"),
    ]


async def test_facade_refuses_before_sending() -> None:
    device = InMemoryDevice(media2_offered=False)
    client = await _connect(device)
    with pytest.raises(LocalProtocolError, match="RTSPS streams need Media2"):
        await client.media.get_stream_uri("p0", StreamProtocol.RTSPS)
    with pytest.raises(LocalProtocolError, match=r"^bitrate_limit 1 is outside"):
        await client.media.set_video_encoder_configuration(
            replace(_GOOD, bitrate_limit=1), options=_OPTIONS
        )
    assert device.media_calls() == []
    await client.media.set_video_encoder_configuration(_GOOD, options=_OPTIONS)
    assert device.media_calls() == [(TRT, "SetVideoEncoderConfiguration")]
    assert device.bodies[-1].findtext(qn(TRT, "ForcePersistence")) == "true"
