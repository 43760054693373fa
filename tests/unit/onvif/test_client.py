"""OnvifClient without sockets: address rewriting, clock offset, auth selection.

The transport here is an in-memory one answering from the corpus; the same
behaviours over real sockets are in tests/integration/test_client_replay.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from platonicam.cli.errors import describe
from platonicam.onvif import (
    AuthenticationError,
    ConnectError,
    HttpStatusError,
    NotAuthorized,
    OnvifClient,
    OnvifError,
    ReadTimeout,
    RemoteProtocolError,
    ServiceKind,
    TLSVerificationError,
    rewrite_xaddr,
)
from platonicam.onvif.soap.xml import parse_xml
from platonicam.onvif.soap.xmlread import child
from platonicam.onvif.transport import HttpCredentials, SoapHttpResponse
from platonicam.testing import rewrite_private_addresses
from tests.conftest import FakeClock
from tests.corpus import CORPUS


@pytest.mark.parametrize(
    ("advertised", "expected"),
    [
        ("http://10.10.1.60/onvif/Media", "http://127.0.0.1:8080/onvif/Media"),
        ("http://10.1.2.3:80:80/onvif/x", "http://127.0.0.1:8080/onvif/x"),
        (
            "https://169.254.251.249/onvif/device_service",
            "http://127.0.0.1:8080/onvif/device_service",
        ),
        (
            "http://10.10.1.66/onvif/eventing_service?id=urn:uuid:90c6",
            "http://127.0.0.1:8080/onvif/eventing_service?id=urn:uuid:90c6",
        ),
        ("http:///onvif/device_service", "http://127.0.0.1:8080/onvif/device_service"),
        ("http://[fe80::1]:80", "http://127.0.0.1:8080/"),
    ],
)
def test_rewrite_xaddr(advertised: str, expected: str) -> None:
    assert rewrite_xaddr(advertised, "http://127.0.0.1:8080") == expected


def test_replay_rewrite_keeps_namespaces_multicast_and_rtsp_ports() -> None:
    data = (
        b'<a xmlns:tt="http://www.onvif.org/ver10/schema">'
        b"<X>http://10.10.1.67/onvif/Media</X><Y>http://10.1.2.3:80:80/onvif/x</Y>"
        b"<R>rtsp://10.10.1.67:554/Streaming/Channels/102?a=1&amp;b=2</R>"
        b"<M>239.10.1.66</M><Z>0.0.0.0</Z><N>255.255.255.0</N><G>10.10.1.1</G>"
        b"<H>http://camera.local/onvif/x</H><W>http://www.onvif.org/ver10/device/wsdl</W></a>"
    )
    assert rewrite_private_addresses(data, port=8080) == (
        b'<a xmlns:tt="http://www.onvif.org/ver10/schema">'
        b"<X>http://127.0.0.1:8080/onvif/Media</X><Y>http://127.0.0.1:8080/onvif/x</Y>"
        b"<R>rtsp://127.0.0.1:554/Streaming/Channels/102?a=1&amp;b=2</R>"
        b"<M>239.10.1.66</M><Z>0.0.0.0</Z><N>255.255.255.0</N><G>127.0.0.1</G>"
        b"<H>http://127.0.0.1:8080/onvif/x</H><W>http://www.onvif.org/ver10/device/wsdl</W></a>"
    )


class CorpusTransport:
    """Answers from corpus files by the request's operation; 400 NotAuthorized
    for requests without a token (a token-only camera)."""

    def __init__(self, vendor_model: str) -> None:
        self.vendor_model = vendor_model
        self.requests: list[tuple[str, bool, bool]] = []

    async def post(
        self,
        url: str,
        envelope: bytes,
        *,
        action: str,
        credentials: HttpCredentials | None = None,
        timeout: float | None = None,
    ) -> SoapHttpResponse:
        operation = action.rsplit("/", 1)[-1]
        root = parse_xml(envelope)
        has_token = child(root, "Header", "Security", "UsernameToken") is not None
        self.requests.append((operation, has_token, credentials is not None))
        if operation != "GetSystemDateAndTime" and not has_token:
            body = (CORPUS / "faults/axis_Q6045-E_SetDNS.xml").read_bytes()
            return SoapHttpResponse(400, body, {})
        path = CORPUS / "device" / f"{self.vendor_model}_{operation}.xml"
        return SoapHttpResponse(200, path.read_bytes(), {})

    async def aclose(self) -> None:
        return None


async def test_clock_offset_is_exact_with_a_fake_clock(fake_clock: FakeClock) -> None:
    transport = CorpusTransport("hikvision_DS-2DF7276-AEL")
    client = OnvifClient("192.0.2.10", 80, "admin", "pw", transport=transport, clock=fake_clock)
    await client.connect()
    # device/hikvision_DS-2DF7276-AEL_GetSystemDateAndTime.xml says 2018-02-27 18:28:01 UTC.
    assert client.clock_offset == datetime(2018, 2, 27, 18, 28, 1, tzinfo=UTC) - fake_clock.now()
    assert client.auth_mode == "ws-security"
    assert transport.requests == [
        ("GetSystemDateAndTime", False, False),
        ("GetServices", True, False),
    ]
    assert client.service_url(ServiceKind.MEDIA) == "http://192.0.2.10:80/onvif/Media"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConnectError("x"), "cannot connect to cam:80"),
        (ReadTimeout("x"), "cam:80 accepted the connection but did not answer in time"),
        (TLSVerificationError("x"), "the TLS certificate of cam:80 did not verify"),
        (AuthenticationError("x"), "cam:80 refused the credentials: wrong username or password"),
        (HttpStatusError("x", status_code=404), "cam:80 answered HTTP 404 instead of ONVIF"),
        (RemoteProtocolError("x"), "cam:80 did not answer like an ONVIF device"),
    ],
)
def test_cli_error_table(error: OnvifError, expected: str) -> None:
    problem = describe(error, target="cam:80")
    assert problem.message.startswith(expected)
    assert problem.line().startswith(f"error: {expected}")


def test_cli_error_table_tells_clock_skew_apart() -> None:
    refused = NotAuthorized("no", code="Sender", subcodes=("NotAuthorized",))
    assert describe(refused, target="cam:80", clock_offset=timedelta(seconds=3)).message == (
        "cam:80 refused the credentials: wrong username or password"
    )
    skewed = describe(refused, target="cam:80", clock_offset=timedelta(hours=-2))
    assert skewed.message == (
        "cam:80 refused the credentials: wrong username or password, or the camera checks "
        "tokens against another clock than the one it reports (its clock is 2.0 hours behind "
        "ours; PlatoniCam signs with the camera's reported time)"
    )
    assert skewed.hint == (
        "check --user and the password; if they are right, set the camera's time (NTP)"
    )
