"""Media tokens: bound to one camera, signed, short-lived."""

from __future__ import annotations

import pytest

from platonicam.media.tokens import VERIFIED_CACHE, MediaTokenError, MediaTokens
from tests.conftest import FakeClock

SECRET = b"0123456789abcdef0123456789abcdef"


def test_a_token_grants_its_camera_until_it_expires() -> None:
    clock = FakeClock()
    tokens = MediaTokens(SECRET, clock, seconds=60)
    token = tokens.issue("cam-1", "alice")
    grant = tokens.verify(token, "cam-1")
    assert (grant.camera_id, grant.user) == ("cam-1", "alice")
    assert grant.expires == int(clock.now().timestamp()) + 60
    clock.advance(59)
    assert tokens.verify(token, "cam-1").user == "alice"
    clock.advance(1)
    with pytest.raises(MediaTokenError, match="expired"):
        tokens.verify(token, "cam-1")


def test_a_token_is_refused_for_another_camera_secret_or_when_altered() -> None:
    clock = FakeClock()
    tokens = MediaTokens(SECRET, clock)
    token = tokens.issue("cam-1", "alice")
    with pytest.raises(MediaTokenError, match="another camera"):
        tokens.verify(token, "cam-2")
    with pytest.raises(MediaTokenError, match="signature"):
        MediaTokens(b"another secret of the same length!", clock).verify(token, "cam-1")
    payload, signature = token.split(".")
    forged = tokens.issue("cam-2", "alice").split(".")[0] + "." + signature
    with pytest.raises(MediaTokenError, match="signature"):
        tokens.verify(forged, "cam-2")
    for broken in ("", "abc", "a.b.c", payload + ".!!!", "x" * 2000):
        with pytest.raises(MediaTokenError):
            tokens.verify(broken, "cam-1")


def test_a_lifetime_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        MediaTokens(SECRET, FakeClock(), seconds=0)


def test_a_remembered_token_is_still_checked_for_camera_and_expiry() -> None:
    clock = FakeClock()
    tokens = MediaTokens(SECRET, clock, seconds=60)
    token = tokens.issue("cam-1", "alice")
    assert tokens.verify(token, "cam-1").user == "alice"  # now remembered
    with pytest.raises(MediaTokenError, match="another camera"):
        tokens.verify(token, "cam-2")
    assert tokens.verify(token, "cam-1").user == "alice"
    # A token that differs from a remembered one by a character is checked in full.
    payload, signature = token.split(".")
    altered = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(MediaTokenError, match="signature"):
        tokens.verify(altered, "cam-1")
    clock.advance(60)
    for _ in range(2):  # expired, and still expired once forgotten
        with pytest.raises(MediaTokenError, match="expired"):
            tokens.verify(token, "cam-1")


def test_remembered_tokens_are_bounded_and_the_oldest_still_verifies() -> None:
    clock = FakeClock()
    tokens = MediaTokens(SECRET, clock, seconds=60)
    issued = [tokens.issue("cam-1", f"user-{n}") for n in range(VERIFIED_CACHE + 10)]
    for token in issued:
        tokens.verify(token, "cam-1")
    assert len(tokens._verified) == VERIFIED_CACHE
    # The first ones were forgotten: they verify again from their signature.
    assert tokens.verify(issued[0], "cam-1").user == "user-0"
    assert len(tokens._verified) == VERIFIED_CACHE
