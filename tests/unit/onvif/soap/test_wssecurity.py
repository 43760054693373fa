"""WS-Security UsernameToken: the PasswordDigest, the header we write, and reading it back."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from lxml import etree

from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.soap.build import element
from platonicam.onvif.soap.envelope import build_envelope, parse_envelope
from platonicam.onvif.soap.namespaces import (
    SOAP12,
    TDS,
    WSSE,
    WSSE_PASSWORD_DIGEST,
    WSU,
)
from platonicam.onvif.soap.wssecurity import (
    build_username_token,
    parse_username_token,
    password_digest,
)

_NONCE = bytes(range(16))
_CREATED = "2026-01-02T03:04:05.678Z"


def test_digest_matches_an_independent_computation() -> None:
    # Base64(SHA1(nonce bytes + Created text + password)), computed here from first principles.
    expected = base64.b64encode(
        hashlib.sha1(_NONCE + _CREATED.encode("utf-8") + b"s3cret").digest()  # noqa: S324
    ).decode()
    assert password_digest(_NONCE, _CREATED, "s3cret") == expected
    # The same value written out, so a change to the algorithm cannot hide behind shared code.
    assert expected == "cFMA8+n7LT6n5C/apDAw0viMn7A="


def test_digest_of_non_ascii_password_uses_utf8() -> None:
    expected = base64.b64encode(
        hashlib.sha1(_NONCE + _CREATED.encode() + "pässwörd".encode()).digest()  # noqa: S324
    ).decode()
    assert password_digest(_NONCE, _CREATED, "pässwörd") == expected


def test_built_header_shape_and_created_form() -> None:
    created = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    security = build_username_token("admin", "s3cret", created=created, nonce=_NONCE)
    assert security.tag == f"{{{WSSE}}}Security"
    assert security.get(f"{{{SOAP12}}}mustUnderstand") == "true"
    token = security.find(f"{{{WSSE}}}UsernameToken")
    assert token is not None
    assert token.findtext(f"{{{WSSE}}}Username") == "admin"
    password = token.find(f"{{{WSSE}}}Password")
    assert password is not None
    assert password.get("Type") == WSSE_PASSWORD_DIGEST
    assert password.text == password_digest(_NONCE, _CREATED, "s3cret")
    assert token.findtext(f"{{{WSSE}}}Nonce") == base64.b64encode(_NONCE).decode()
    # Z form with milliseconds, never +00:00 (Hikvision rejects the offset form).
    assert token.findtext(f"{{{WSU}}}Created") == _CREATED


def test_created_is_converted_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    security = build_username_token(
        "u", "p", created=datetime(2026, 1, 2, 5, 4, 5, tzinfo=plus_two), nonce=_NONCE
    )
    assert security.findtext(f".//{{{WSU}}}Created") == "2026-01-02T03:04:05.000Z"


def test_default_nonce_is_random_16_bytes() -> None:
    created = datetime(2026, 1, 2, tzinfo=UTC)
    first = build_username_token("u", "p", created=created)
    second = build_username_token("u", "p", created=created)
    nonces = [base64.b64decode(s.findtext(f".//{{{WSSE}}}Nonce") or "") for s in (first, second)]
    assert [len(n) for n in nonces] == [16, 16]
    assert nonces[0] != nonces[1]


def test_round_trip_through_an_envelope_and_verify() -> None:
    created = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    header = build_username_token("admin", "s3cret", created=created, nonce=_NONCE)
    data = build_envelope(element(TDS, "GetDeviceInformation"), headers=[header])
    envelope = parse_envelope(data)
    token = parse_username_token(envelope.header)
    assert token is not None
    assert token.username == "admin"
    assert token.digest is True
    assert token.nonce == _NONCE
    assert token.created_text == _CREATED
    assert token.created == created
    assert token.matches("s3cret")
    assert not token.matches("S3cret")
    assert not token.matches("")


def _header(
    password: str, *, type_attr: str | None, nonce: str = "", created: str = ""
) -> etree._Element:
    type_part = f' Type="{type_attr}"' if type_attr else ""
    return etree.fromstring(
        f'<s:Header xmlns:s="{SOAP12}" xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:Security>'
        f"<wsse:UsernameToken><wsse:Username>op</wsse:Username>"
        f"<wsse:Password{type_part}>{password}</wsse:Password>"
        + (f"<wsse:Nonce>{nonce}</wsse:Nonce>" if nonce else "")
        + (f"<wsu:Created>{created}</wsu:Created>" if created else "")
        + "</wsse:UsernameToken></wsse:Security></s:Header>"
    )


def test_password_text_token_and_missing_type() -> None:
    token = parse_username_token(_header("plain", type_attr=None))
    assert token is not None
    assert token.digest is False
    assert token.created is None
    assert token.matches("plain")
    assert not token.matches("other")


def test_created_without_milliseconds_is_accepted() -> None:
    nonce = base64.b64encode(_NONCE).decode()
    created = "2026-01-02T03:04:05Z"
    token = parse_username_token(
        _header(
            password_digest(_NONCE, created, "pw"),
            type_attr=WSSE_PASSWORD_DIGEST,
            nonce=nonce,
            created=created,
        )
    )
    assert token is not None
    assert token.created == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert token.matches("pw")


def test_no_token_and_bad_nonce() -> None:
    assert parse_username_token(None) is None
    assert parse_username_token(etree.fromstring(f'<s:Header xmlns:s="{SOAP12}"/>')) is None
    with pytest.raises(RemoteProtocolError, match="Nonce is not Base64"):
        parse_username_token(_header("x", type_attr=WSSE_PASSWORD_DIGEST, nonce="***"))


def test_token_bytes_match_the_element_form() -> None:
    from lxml import etree

    from platonicam.onvif.soap.wssecurity import username_token_bytes

    created = datetime(2026, 11, 23, 10, 0, 0, 123000, tzinfo=UTC)
    nonce = bytes(range(16))
    as_bytes = username_token_bytes("ad<min>&", "s3cret", created=created, nonce=nonce)
    as_element = etree.tostring(
        build_username_token("ad<min>&", "s3cret", created=created, nonce=nonce)
    )
    for raw in (as_bytes, as_element):
        header = etree.Element("Header")
        header.append(etree.fromstring(raw))
        token = parse_username_token(header)
        assert token is not None
        assert token.username == "ad<min>&"
        assert token.digest is True
        assert token.nonce == nonce
        assert token.created_text == "2026-11-23T10:00:00.123Z"
        assert token.matches("s3cret")
        assert not token.matches("s3cret ")
