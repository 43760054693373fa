"""HTTP Digest, client side, against the RFCs' worked examples."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from platonicam.onvif.digest import (
    Challenge,
    DigestError,
    DigestSession,
    choose_challenge,
    parse_challenges,
)

# RFC 7616 §3.9.1: the same challenge offered with SHA-256 and with MD5.
RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
RFC7616_HEADERS = [
    f'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, '
    f'nonce="{RFC7616_NONCE}", opaque="{RFC7616_OPAQUE}"',
    f'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, '
    f'nonce="{RFC7616_NONCE}", opaque="{RFC7616_OPAQUE}"',
]


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def authorization_params(value: str) -> dict[str, str]:
    """Parse our own Authorization value with the challenge parser (same grammar)."""
    (parsed,) = parse_challenges(value)
    assert parsed.scheme == "digest"
    return dict(parsed.params)


def fixed(*values: str) -> Callable[[], str]:
    iterator = iter(values)
    return lambda: next(iterator)


# ----------------------------------------------------------------------------- RFC examples


@pytest.mark.parametrize(
    ("algorithm", "response"),
    [
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
    ],
)
def test_rfc7616_worked_example(algorithm: str, response: str) -> None:
    challenges = parse_challenges(RFC7616_HEADERS)
    (challenge,) = [c for c in challenges if c.algorithm == algorithm]
    session = DigestSession(challenge, "Mufasa", "Circle of Life", cnonce=lambda: RFC7616_CNONCE)
    params = authorization_params(session.authorization("GET", "/dir/index.html"))
    assert params == {
        "username": "Mufasa",
        "realm": "http-auth@example.org",
        "uri": "/dir/index.html",
        "algorithm": algorithm,
        "nonce": RFC7616_NONCE,
        "nc": "00000001",
        "cnonce": RFC7616_CNONCE,
        "qop": "auth",
        "response": response,
        "opaque": RFC7616_OPAQUE,
    }


def test_rfc2617_example() -> None:
    (challenge,) = parse_challenges(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    session = DigestSession(challenge, "Mufasa", "Circle Of Life", cnonce=lambda: "0a4f113b")
    value = session.authorization("GET", "/dir/index.html")
    params = authorization_params(value)
    assert params["response"] == "6629fae49393a05397450978507c4ef1"
    assert params["nc"] == "00000001"
    assert params["qop"] == "auth"
    assert "algorithm" not in params  # the server named none, so we do not either


def test_strongest_challenge_is_chosen() -> None:
    chosen = choose_challenge(parse_challenges(list(reversed(RFC7616_HEADERS))))
    assert chosen is not None
    assert chosen.algorithm == "SHA-256"


# ----------------------------------------------------------------------------- parsing


def test_several_challenges_in_one_field_with_commas_in_quotes() -> None:
    challenges = parse_challenges(
        'Negotiate YII=, Basic realm="cam, front door", '
        'Digest realm="a \\"quoted\\" realm", nonce = "n,1" , qop=auth, stale=TRUE, '
        "Bearer"
    )
    assert [c.scheme for c in challenges] == ["negotiate", "basic", "digest", "bearer"]
    assert challenges[0].token68 == "YII="
    assert challenges[1].params == {"realm": "cam, front door"}
    digest = challenges[2]
    assert digest.params == {
        "realm": 'a "quoted" realm',
        "nonce": "n,1",
        "qop": "auth",
        "stale": "TRUE",
    }
    assert digest.stale is True
    assert digest.qop_options == ("auth",)
    assert challenges[3].params == {}


def test_unanswerable_challenges_are_skipped() -> None:
    challenges = parse_challenges(
        [
            'Digest realm="r", nonce="n", algorithm=SHA-512-256',
            'Digest realm="r", nonce="n", qop="auth-conf"',
            'Digest realm="r"',
            'Basic realm="r"',
        ]
    )
    assert [c.is_answerable for c in challenges] == [False, False, False, False]
    assert choose_challenge(challenges) is None


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ('Digest realm="unterminated', "unterminated quoted string"),
        ('realm="x"', "parameter 'realm' before any scheme"),
        ("Digest @@@", "unexpected '@'"),
    ],
)
def test_broken_headers(header: str, message: str) -> None:
    with pytest.raises(DigestError, match=message):
        parse_challenges(header)


# ----------------------------------------------------------------------------- sessions


def test_nonce_count_increments_and_cnonce_is_fresh() -> None:
    challenge = Challenge("digest", {"realm": "r", "nonce": "n", "qop": "auth"})
    session = DigestSession(challenge, "admin", "pw", cnonce=fixed("c1", "c2"))
    first = authorization_params(session.authorization("POST", "/onvif/device_service"))
    second = authorization_params(session.authorization("POST", "/onvif/device_service"))
    assert (first["nc"], first["cnonce"]) == ("00000001", "c1")
    assert (second["nc"], second["cnonce"]) == ("00000002", "c2")
    ha1 = md5(b"admin:r:pw")
    ha2 = md5(b"POST:/onvif/device_service")
    expected = md5(f"{ha1}:n:00000002:c2:auth:{ha2}".encode())
    assert second["response"] == expected


def test_rfc2069_without_qop() -> None:
    challenge = Challenge("digest", {"realm": "r", "nonce": "n"})
    params = authorization_params(DigestSession(challenge, "admin", "pw").authorization("GET", "/"))
    ha1 = md5(b"admin:r:pw")
    ha2 = md5(b"GET:/")
    assert params["response"] == md5(f"{ha1}:n:{ha2}".encode())
    assert "nc" not in params
    assert "cnonce" not in params
    assert "qop" not in params


@pytest.mark.parametrize(
    ("algorithm", "hasher"),
    [("MD5-sess", md5), ("SHA-256-sess", lambda data: hashlib.sha256(data).hexdigest())],
)
def test_session_algorithms_keep_their_cnonce(
    algorithm: str, hasher: Callable[[bytes], str]
) -> None:
    def h(text: str) -> str:
        return hasher(text.encode())

    challenge = Challenge(
        "digest", {"realm": "r", "nonce": "n", "qop": "auth", "algorithm": algorithm}
    )
    session = DigestSession(challenge, "admin", "pw", cnonce=fixed("c1", "c2"))
    session.authorization("POST", "/a")
    params = authorization_params(session.authorization("POST", "/a"))
    assert params["cnonce"] == "c1"  # the session key (HA1) was derived from it
    assert params["algorithm"] == algorithm.upper()
    ha1 = h(f"{h('admin:r:pw')}:n:c1")
    expected = h(f"{ha1}:n:00000002:c1:auth:{h('POST:/a')}")
    assert params["response"] == expected


def test_auth_int_hashes_the_body_when_auth_is_not_offered() -> None:
    challenge = Challenge("digest", {"realm": "r", "nonce": "n", "qop": "auth-int"})
    session = DigestSession(challenge, "admin", "pw", cnonce=lambda: "c")
    params = authorization_params(session.authorization("POST", "/a", b"<e/>"))
    ha1 = md5(b"admin:r:pw")
    ha2 = md5(f"POST:/a:{md5(b'<e/>')}".encode())
    assert params["qop"] == "auth-int"
    assert params["response"] == md5(f"{ha1}:n:00000001:c:auth-int:{ha2}".encode())


def test_userhash() -> None:
    challenge = Challenge(
        "digest",
        {"realm": "r", "nonce": "n", "qop": "auth", "algorithm": "SHA-256", "userhash": "true"},
    )
    params = authorization_params(
        DigestSession(challenge, "Mufasa", "pw", cnonce=lambda: "c").authorization("GET", "/")
    )
    assert params["username"] == hashlib.sha256(b"Mufasa:r").hexdigest()
    assert params["userhash"] == "true"


def test_username_that_a_quoted_string_cannot_carry() -> None:
    challenge = Challenge("digest", {"realm": "r", "nonce": "n", "qop": "auth"})
    value = DigestSession(challenge, "Jäsøn Doe", "pw", cnonce=lambda: "c").authorization(
        "GET", "/"
    )
    assert value.startswith("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, ")


def test_escaping_in_quoted_values() -> None:
    challenge = Challenge("digest", {"realm": 'say "hi"', "nonce": "n", "qop": "auth"})
    value = DigestSession(challenge, "admin", "pw", cnonce=lambda: "c").authorization("GET", "/")
    assert 'realm="say \\"hi\\""' in value
    assert authorization_params(value)["realm"] == 'say "hi"'


def test_an_unanswerable_challenge_is_refused() -> None:
    with pytest.raises(DigestError, match="cannot answer a basic challenge"):
        DigestSession(Challenge("basic", {"realm": "r"}), "a", "b")
