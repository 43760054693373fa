"""The restream's URL and its token check (pure: no server, no camera)."""

from __future__ import annotations

import urllib.parse

from platonicam.media.tokens import MediaTokens
from platonicam.rtsp.message import RtspRequest
from platonicam.service.restream import restream_url, token_access
from tests.conftest import FakeClock

SECRET = b"s" * 32


def describe(uri: str) -> RtspRequest:
    return RtspRequest("DESCRIBE", uri)


def test_url_quotes_the_id_and_the_token() -> None:
    assert (
        restream_url("127.0.0.1", 8554, "porch-1", "abc.def")
        == "rtsp://127.0.0.1:8554/cameras/porch-1?token=abc.def"
    )
    url = restream_url("::1", 554, "cam:2", "a+b/c")
    assert url == "rtsp://[::1]:554/cameras/cam%3A2?token=a%2Bb%2Fc"
    split = urllib.parse.urlsplit(url)
    assert urllib.parse.unquote(split.path) == "/cameras/cam:2"
    assert urllib.parse.parse_qs(split.query) == {"token": ["a+b/c"]}


def test_token_access_takes_the_token_from_the_query_only() -> None:
    clock = FakeClock()
    tokens = MediaTokens(SECRET, clock, seconds=60)
    token = tokens.issue("porch", "ann")
    base = "rtsp://127.0.0.1:8554/cameras/porch"

    allowed = token_access(tokens, "porch", describe(f"{base}?token={token}"))
    assert allowed.principal == "ann"
    # Any other parameters around it do not matter; a SETUP URL carries it the same way.
    assert token_access(tokens, "porch", describe(f"{base}/trackID=0?x=1&token={token}")).principal

    missing = token_access(tokens, "porch", describe(base))
    assert missing.principal is None
    assert missing.challenge == 'Bearer realm="PlatoniCam"'

    other = token_access(tokens, "garage", describe(f"{base}?token={token}"))
    assert other.principal is None
    assert other.challenge is not None
    assert other.challenge.startswith('Bearer realm="PlatoniCam", error="invalid_token"')
    assert "another camera" in other.challenge
    assert '"garage"' not in other.challenge  # quotes in the reason cannot break the header

    # A changed signature character (not the last one: its low bits are padding).
    flipped = "A" if token[-5] != "A" else "B"
    forged = token_access(
        tokens, "porch", describe(f"{base}?token={token[:-5]}{flipped}{token[-4:]}")
    )
    assert forged.principal is None

    clock.advance(61)
    expired = token_access(tokens, "porch", describe(f"{base}?token={token}"))
    assert expired.principal is None
    assert expired.challenge is not None
    assert "expired" in expired.challenge
