"""Digest (server and client side) and Basic for RTSP."""

from __future__ import annotations

import pytest

from platonicam.rtsp.auth import (
    DigestChallenge,
    DigestCredentials,
    DigestVerifier,
    Verdict,
    answer_challenge,
    basic_authorization,
    digest_response,
    parse_auth_params,
)
from platonicam.rtsp.errors import AuthError

USERS = {"admin": "s3cret", "viewer": 'pa,ss"word'}
URI = "rtsp://127.0.0.1:8554/cam"


def verifier() -> DigestVerifier:
    return DigestVerifier("PlatoniCam", USERS.get, secret=b"k" * 32, nonce_lifetime=60)


def test_rfc2617_example_response() -> None:
    # RFC 2617 §3.5.
    assert (
        digest_response(
            username="Mufasa",
            password="Circle Of Life",
            realm="testrealm@host.com",
            nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
            method="GET",
            uri="/dir/index.html",
            qop="auth",
            nc="00000001",
            cnonce="0a4f113b",
        )
        == "6629fae49393a05397450978507c4ef1"
    )


def test_rfc2069_form_without_qop() -> None:
    # md5(md5("u:r:p") + ":n:" + md5("DESCRIBE:rtsp://h/x")), computed independently.
    assert (
        digest_response(
            username="u", password="p", realm="r", nonce="n", method="DESCRIBE", uri="rtsp://h/x"
        )
        == "d43942a69cea5a6702fa9c0d7a6b6c77"
    )


def test_challenge_then_answer_is_accepted() -> None:
    server = verifier()
    challenge = server.challenge(100.0)
    assert str(challenge).startswith('Digest realm="PlatoniCam", nonce="')
    parsed = DigestChallenge.parse(str(challenge))
    assert parsed == challenge
    for user, password in USERS.items():
        answer = answer_challenge(
            parsed, username=user, password=password, method="DESCRIBE", uri=URI
        )
        assert answer.qop is None
        assert DigestCredentials.parse(str(answer)) == answer
        assert server.verify("DESCRIBE", str(answer), 130.0) == Verdict(user)
        # The method is part of the hash.
        assert server.verify("PLAY", str(answer), 130.0) == Verdict(None)


def test_qop_auth_answers_are_accepted() -> None:
    server = verifier()
    challenge = DigestChallenge("PlatoniCam", server.challenge(5.0).nonce, qop="auth,auth-int")
    answer = answer_challenge(
        challenge, username="admin", password="s3cret", method="SETUP", uri=URI, nc=2, cnonce="c0"
    )
    assert (answer.qop, answer.nc, answer.cnonce) == ("auth", "00000002", "c0")
    assert server.verify("SETUP", str(answer), 6.0) == Verdict("admin")


@pytest.mark.parametrize(
    ("username", "password", "realm", "nonce_from"),
    [
        ("admin", "wrong", "PlatoniCam", "server"),
        ("nobody", "s3cret", "PlatoniCam", "server"),
        ("admin", "s3cret", "Other", "server"),
        ("admin", "s3cret", "PlatoniCam", "forged"),
    ],
)
def test_bad_credentials_are_refused(
    username: str, password: str, realm: str, nonce_from: str
) -> None:
    server = verifier()
    nonce = server.challenge(0.0).nonce if nonce_from == "server" else "0" * 12 + "f" * 32
    answer = answer_challenge(
        DigestChallenge(realm, nonce), username=username, password=password, method="PLAY", uri=URI
    )
    assert server.verify("PLAY", str(answer), 1.0) == Verdict(None)


def test_expired_nonce_is_stale_not_wrong() -> None:
    server = verifier()
    challenge = server.challenge(10.0)
    answer = answer_challenge(
        challenge, username="admin", password="s3cret", method="PLAY", uri=URI
    )
    assert server.verify("PLAY", str(answer), 69.0) == Verdict("admin")
    assert server.verify("PLAY", str(answer), 71.0) == Verdict(None, stale=True)
    assert "stale=true" in str(server.challenge(71.0, stale=True))


def test_missing_or_foreign_headers_fail_quietly() -> None:
    server = verifier()
    assert server.verify("PLAY", None, 0.0) == Verdict(None)
    assert server.verify("PLAY", basic_authorization("admin", "s3cret"), 0.0) == Verdict(None)
    assert server.verify("PLAY", 'Digest username="admin"', 0.0) == Verdict(None)


def test_parsing_and_errors() -> None:
    assert parse_auth_params('realm="a \\"b\\", c", nonce=xyz, stale=TRUE') == {
        "realm": 'a "b", c',
        "nonce": "xyz",
        "stale": "TRUE",
    }
    assert DigestChallenge.parse('Digest realm="r", nonce="n", stale=TRUE').stale
    with pytest.raises(AuthError, match="not a Digest challenge"):
        DigestChallenge.parse('Basic realm="r"')
    with pytest.raises(AuthError, match="without realm or nonce"):
        DigestChallenge.parse('Digest realm="r"')
    with pytest.raises(AuthError, match="lack nonce, uri, response"):
        DigestCredentials.parse('Digest username="u", realm="r"')
    with pytest.raises(AuthError, match="malformed authentication parameters"):
        parse_auth_params('realm="unterminated')
    with pytest.raises(AuthError, match="unsupported Digest algorithm 'SHA-256'"):
        answer_challenge(
            DigestChallenge("r", "n", algorithm="SHA-256"),
            username="u",
            password="p",
            method="PLAY",
            uri=URI,
        )


def test_basic() -> None:
    assert basic_authorization("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
