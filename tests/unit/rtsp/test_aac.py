"""AAC over RTP (RFC 3640 AAC-hbr): packetize, depacketize, fragments, malformed payloads,
and the SDP section the client reads back."""

from __future__ import annotations

import pytest

from platonicam.rtsp.aac import (
    AAC_PAYLOAD_TYPE,
    MAX_FRAME_SIZE,
    AacDepacketizer,
    aac_fmtp,
    describe_aac_media,
    packetize,
    split_access_units,
)
from platonicam.rtsp.errors import RtpError
from platonicam.rtsp.handshake import _aac_description
from platonicam.rtsp.rtp import RtpPacket
from platonicam.rtsp.sdp import SessionDescription, describe_stream
from platonicam.rtsp.stream import AudioDescription, StreamDescription, VideoCodec

AUDIO = AudioDescription("AAC", 48_000, 2, bytes.fromhex("1190"))


def wire(payloads: list[bytes], *, seq: int, ts: int) -> list[RtpPacket]:
    """Packets of one frame as a receiver parses them (the marker on the last one)."""
    last = len(payloads) - 1
    return [
        RtpPacket.parse(
            bytes(RtpPacket(AAC_PAYLOAD_TYPE, (seq + i) & 0xFFFF, ts, 1, p, marker=i == last))
        )
        for i, p in enumerate(payloads)
    ]


def frame(size: int, fill: int = 0x21) -> bytes:
    return bytes((fill + i) % 256 for i in range(size))


class TestPacketize:
    def test_a_frame_that_fits_is_one_payload_with_its_au_header(self) -> None:
        data = frame(300)
        [payload] = packetize(data, 1400)
        # AU-headers-length 16 bits; AU-size 300 in 13 bits, AU-Index 0 in 3.
        assert payload[:4] == bytes((0x00, 0x10)) + (300 << 3).to_bytes(2, "big")
        assert payload[4:] == data
        assert split_access_units(payload) == [data]

    def test_round_trip_of_frames_of_every_size(self) -> None:
        depacketizer = AacDepacketizer()
        seq, got, sent = 65530, [], []
        for size in (1, 2, 95, 96, 97, 300, 1396, 1397, 4000, MAX_FRAME_SIZE):
            data = frame(size, size)
            packets = wire(packetize(data, 100), seq=seq, ts=seq * 1024)
            seq += len(packets)
            for packet in packets:
                got += depacketizer.push(packet)
            sent.append(data)
        assert got == sent
        assert depacketizer.dropped == 0

    def test_a_large_frame_is_fragmented_with_the_whole_size_in_every_header(self) -> None:
        data = frame(250)
        payloads = packetize(data, 104)
        assert [len(p) for p in payloads] == [104, 104, 54]  # 100 + 100 + 50 frame bytes
        for payload in payloads:
            assert payload[:2] == b"\x00\x10"
            assert int.from_bytes(payload[2:4], "big") >> 3 == 250
        assert b"".join(p[4:] for p in payloads) == data
        # Only the last fragment ends the frame (the marker), so a receiver joins them.
        depacketizer = AacDepacketizer()
        packets = wire(payloads, seq=7, ts=9000)
        assert [p.marker for p in packets] == [False, False, True]
        assert depacketizer.push(packets[0]) == []
        assert depacketizer.push(packets[1]) == []
        assert depacketizer.push(packets[2]) == [data]

    def test_bad_input_is_refused_with_a_reason(self) -> None:
        with pytest.raises(RtpError, match="cannot be empty"):
            packetize(b"", 1400)
        with pytest.raises(RtpError, match="8192 bytes exceeds the 13-bit AU-size"):
            packetize(frame(8192), 1400)
        with pytest.raises(RtpError, match="leaves no room"):
            packetize(frame(10), 4)


class TestDepacketize:
    def test_several_frames_in_one_packet(self) -> None:
        # Cameras and GStreamer may put several frames in one packet.
        frames = [frame(10), frame(7, 3), frame(1, 9)]
        headers = b"".join((len(f) << 3).to_bytes(2, "big") for f in frames)
        payload = (16 * len(frames)).to_bytes(2, "big") + headers + b"".join(frames)
        assert split_access_units(payload) == frames
        [packet] = wire([payload], seq=1, ts=0)
        assert AacDepacketizer().push(packet) == frames

    @pytest.mark.parametrize(
        ("payload", "reason"),
        [
            (b"", "0 bytes is shorter than its AU-headers-length"),
            (b"\x00", "1 bytes is shorter than its AU-headers-length"),
            (b"\x00\x0c\x00\x00", "AU-headers-length 12 is not a multiple of 16 bits"),
            (b"\x00\x20\x00\x08", "2 AAC AU headers run past the end of the packet"),
            (b"\x00\x10" + (9 << 3).to_bytes(2, "big") + b"short", "frame of 9 bytes runs past"),
        ],
    )
    def test_malformed_payloads_are_refused_with_a_reason(
        self, payload: bytes, reason: str
    ) -> None:
        with pytest.raises(RtpError, match=reason):
            split_access_units(payload)
        [packet] = wire([payload], seq=1, ts=0)
        with pytest.raises(RtpError):
            AacDepacketizer().push(packet)

    def test_a_frame_ending_short_of_its_size_is_refused(self) -> None:
        # One packet, marker set, naming more bytes than it carries: truncated, not a fragment.
        payload = (16).to_bytes(2, "big") + (100 << 3).to_bytes(2, "big") + b"short"
        [packet] = wire([payload], seq=1, ts=0)
        depacketizer = AacDepacketizer()
        with pytest.raises(RtpError, match="ended after 5 of its 100 bytes"):
            depacketizer.push(packet)
        assert depacketizer.dropped == 1

    def test_a_lost_fragment_drops_its_frame_once_and_the_next_frame_comes_through(
        self,
    ) -> None:
        big, small = frame(250), frame(30)
        first = wire(packetize(big, 104), seq=10, ts=0)
        second = wire(packetize(small, 104), seq=13, ts=1024)
        depacketizer = AacDepacketizer()
        got = depacketizer.push(first[0]) + depacketizer.push(first[2])  # [1] was lost
        got += depacketizer.push(second[0])
        assert got == [small]
        assert depacketizer.dropped == 1

    def test_an_abandoned_frame_is_dropped_for_the_next_one(self) -> None:
        big, small = frame(250), frame(30)
        fragments = wire(packetize(big, 104), seq=10, ts=0)
        [whole] = wire(packetize(small, 104), seq=12, ts=1024)
        depacketizer = AacDepacketizer()
        assert depacketizer.push(fragments[0]) == []
        assert depacketizer.push(fragments[1]) == []
        assert depacketizer.push(whole) == [small]  # no last fragment: the big frame is gone
        assert depacketizer.dropped == 1

    def test_fragments_larger_than_their_frame_are_refused(self) -> None:
        fragments = wire(packetize(frame(250), 104), seq=0, ts=0)
        liar = RtpPacket(
            AAC_PAYLOAD_TYPE, 2, 0, 1, fragments[2].payload + frame(60), marker=True
        )  # 110 more bytes where 50 were left
        depacketizer = AacDepacketizer()
        depacketizer.push(fragments[0])
        depacketizer.push(fragments[1])
        with pytest.raises(RtpError, match="exceed their frame's 250 bytes"):
            depacketizer.push(liar)


class TestSdp:
    def test_the_audio_section_names_rate_channels_and_config(self) -> None:
        media = describe_aac_media(AUDIO, control="trackID=2")
        lines = media._lines()
        assert lines == [
            "m=audio 0 RTP/AVP 97",
            "c=IN IP4 0.0.0.0",
            "a=rtpmap:97 mpeg4-generic/48000/2",
            "a=fmtp:97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;"
            "indexlength=3;indexdeltalength=3;config=1190",
            "a=control:trackID=2",
        ]
        assert aac_fmtp(b"\x12\x10").endswith(";config=1210")

    def test_our_client_reads_the_section_back(self) -> None:
        video = describe_stream(
            StreamDescription(VideoCodec.H264, 2, 2, 25.0, (b"\x67\x42\x00\x1e", b"\x68\xce"))
        )
        text = str(
            SessionDescription(
                video.origin,
                video.session_name,
                media=(*video.media, describe_aac_media(AUDIO, control="a")),
            )
        )
        parsed = SessionDescription.parse(text).media[1]
        assert _aac_description(parsed) == AUDIO
