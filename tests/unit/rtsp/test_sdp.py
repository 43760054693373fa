"""SDP for H.264 and H.265 streams: built, parsed back, read by the client side."""

from __future__ import annotations

import pytest

from platonicam.rtsp.errors import SdpError
from platonicam.rtsp.sdp import SessionDescription, describe_stream, stream_from_media
from platonicam.rtsp.stream import StreamDescription, VideoCodec

# Baseline-profile SPS/PPS (profile_idc 66, constraint 0xC0, level 30) as x264 writes them.
H264_SPS = bytes.fromhex("6742c01ed9005005ba10000003001000000303c0f162e480")
H264_PPS = bytes.fromhex("68cb83cb20")
H265_VPS = bytes.fromhex("40010c01ffff016000000300b0000003000003005dac09")
H265_SPS = bytes.fromhex("420101016000000300b0000003000003005da00a080f1f")
H265_PPS = bytes.fromhex("4401c172b46240")


def test_h264_sdp_has_every_line_players_need() -> None:
    stream = StreamDescription(VideoCodec.H264, 640, 480, 25.0, (H264_SPS, H264_PPS), generation=3)
    text = str(describe_stream(stream, session_id=42, address="127.0.0.1"))
    assert text == (
        "v=0\r\n"
        "o=- 42 3 IN IP4 127.0.0.1\r\n"
        "s=PlatoniCam\r\n"
        "t=0 0\r\n"
        "a=control:*\r\n"
        "a=range:npt=now-\r\n"
        "a=tool:platonicam\r\n"
        "m=video 0 RTP/AVP 96\r\n"
        "c=IN IP4 0.0.0.0\r\n"
        "a=rtpmap:96 H264/90000\r\n"
        "a=fmtp:96 packetization-mode=1;profile-level-id=42c01e;"
        "sprop-parameter-sets=Z0LAHtkAUAW6EAAAAwAQAAADA8DxYuSA,aMuDyyA=\r\n"
        "a=control:trackID=0\r\n"
        "a=framerate:25\r\n"
        "a=x-dimensions:640,480\r\n"
    )


def test_h265_sdp_round_trips_through_the_parser() -> None:
    stream = StreamDescription(VideoCodec.H265, 1920, 1080, 29.97, (H265_VPS, H265_SPS, H265_PPS))
    sdp = describe_stream(stream, control="track1", session_id=7, address="::1")
    assert sdp.origin == "- 7 0 IN IP6 ::1"
    parsed = SessionDescription.parse(str(sdp))
    assert parsed == sdp
    [media] = parsed.media
    assert media.rtpmap(96) == ("H265", 90000)
    assert media.fmtp(96) == {
        "sprop-vps": "QAEMAf//AWAAAAMAsAAAAwAAAwBdrAk=",
        "sprop-sps": "QgEBAWAAAAMAsAAAAwAAAwBdoAoIDx8=",
        "sprop-pps": "RAHBcrRiQA==",
    }
    assert media.attribute("framerate") == "29.97"
    assert media.control == "track1"
    assert stream_from_media(media) == stream


def test_parse_camera_sdp_with_lf_and_session_level_connection() -> None:
    text = (
        "v=0\n"
        "o=- 1 1 IN IP4 192.0.2.10\n"
        "s=Media Presentation\n"
        "c=IN IP4 0.0.0.0\n"
        "t=0 0\n"
        "a=control:rtsp://192.0.2.10/Streaming/channels/101/\n"
        "m=video 0 RTP/AVP 96\n"
        "a=rtpmap:96 H264/90000\n"
        "a=fmtp:96 profile-level-id=420029; packetization-mode=1; "
        "sprop-parameter-sets=Z0LAHtkAUAW6EAAAAwAQAAADA8DxYuSA,aMuDyyA=\n"
        "a=recvonly\n"
        "a=control:trackID=1\n"
        "m=audio 0 RTP/AVP 0\n"
        "a=rtpmap:0 PCMU/8000\n"
    )
    sdp = SessionDescription.parse(text)
    assert sdp.connection == "IN IP4 0.0.0.0"
    assert sdp.attribute("control") == "rtsp://192.0.2.10/Streaming/channels/101/"
    video, audio = sdp.media
    assert video.attribute("recvonly") == ""
    assert audio.rtpmap(0) == ("PCMU", 8000)
    stream = stream_from_media(video)
    assert stream.codec is VideoCodec.H264
    assert stream.parameter_sets == (H264_SPS, H264_PPS)
    assert (stream.width, stream.height, stream.fps) == (0, 0, 0.0)
    with pytest.raises(SdpError, match="unsupported video encoding 'PCMU'"):
        stream_from_media(audio)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("o=- 1 1 IN IP4 h\r\n", "SDP does not start with v=0"),
        ("v=0\r\nm=video\r\n", "malformed media line 'm=video'"),
        ("v=0\r\nbad line\r\n", "malformed SDP line 'bad line'"),
    ],
)
def test_malformed_sdp(text: str, message: str) -> None:
    with pytest.raises(SdpError, match=message):
        SessionDescription.parse(text)


def test_missing_parameter_sets_are_refused() -> None:
    with pytest.raises(SdpError, match="needs an SPS and a PPS"):
        describe_stream(StreamDescription(VideoCodec.H264, 1, 1, 1.0, (H264_SPS,)))
    with pytest.raises(SdpError, match="lacks sprop-vps"):
        describe_stream(StreamDescription(VideoCodec.H265, 1, 1, 1.0, (H265_SPS, H265_PPS)))
