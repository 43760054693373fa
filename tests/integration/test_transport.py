"""HttpxSoapTransport over real sockets: TLS trust, limits, broken servers.

TLS uses a throwaway ``trustme`` CA, so verification stays on in every test
that does not turn it off on purpose. Warnings are errors: an unclosed socket
or SSL transport fails the test.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from platonicam.onvif import (
    RemoteProtocolError,
    TlsOptions,
    TLSVerificationError,
    TransportError,
)
from platonicam.onvif.services import device as device_ops
from platonicam.onvif.soap.build import element
from platonicam.onvif.soap.envelope import action_of, build_envelope, parse_envelope
from platonicam.onvif.soap.namespaces import TDS
from platonicam.onvif.soap.xmlread import text
from platonicam.onvif.transport import HttpxSoapTransport
from platonicam.testing import ReplayCamera
from tests.conftest import LoopbackOnlyTransport
from tests.corpus import CORPUS

HIKVISION = "hikvision_DS-2DF7276-AEL"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("127.0.0.1", "localhost")


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "camera-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
async def tls_camera(server_cert: trustme.LeafCert) -> AsyncIterator[ReplayCamera]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(context)
    async with ReplayCamera(CORPUS, HIKVISION, ssl_context=context) as camera:
        yield camera


def _device_information_request() -> tuple[bytes, str]:
    payload = element(TDS, "GetDeviceInformation")
    action = action_of(payload)
    return build_envelope(payload), action


async def _get_model(tls: TlsOptions | None, url: str, **options: int) -> str | None:
    transport = LoopbackOnlyTransport(HttpxSoapTransport(timeout=5.0, tls=tls, **options))
    try:
        envelope, action = _device_information_request()
        response = await transport.post(url, envelope, action=action)
        assert response.status_code == 200
        return text(parse_envelope(response.content).payload, "Model")
    finally:
        await transport.aclose()


def _fingerprint(cert: trustme.LeafCert) -> str:
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode("ascii"))
    return hashlib.sha256(der).hexdigest()


# ----------------------------------------------------------------------------- TLS


async def test_untrusted_certificate_is_refused_by_default(tls_camera: ReplayCamera) -> None:
    with pytest.raises(TLSVerificationError, match="did not verify") as caught:
        await _get_model(None, tls_camera.device_url)
    assert f"https://127.0.0.1:{tls_camera.port}" in str(caught.value)
    # The request never reached the camera: the handshake failed first.
    assert sum(tls_camera.requests.values()) == 0


async def test_trusted_ca_file(tls_camera: ReplayCamera, ca_file: str) -> None:
    assert await _get_model(TlsOptions(ca_file=ca_file), tls_camera.device_url) == (
        "DS-2DF7276-AEL"
    )


async def test_verification_off_on_purpose(tls_camera: ReplayCamera) -> None:
    assert await _get_model(TlsOptions(verify=False), tls_camera.device_url) == "DS-2DF7276-AEL"


async def test_pinned_certificate(tls_camera: ReplayCamera, server_cert: trustme.LeafCert) -> None:
    pin = _fingerprint(server_cert)
    colon_form = ":".join(pin[i : i + 2] for i in range(0, len(pin), 2)).upper()
    assert await _get_model(TlsOptions(pinned_sha256=colon_form), tls_camera.device_url) == (
        "DS-2DF7276-AEL"
    )


async def test_wrong_pin_is_refused(tls_camera: ReplayCamera) -> None:
    with pytest.raises(TLSVerificationError, match="not the pinned one"):
        await _get_model(TlsOptions(pinned_sha256="ab" * 32), tls_camera.device_url)


async def test_https_replay_rewrites_to_https(tls_camera: ReplayCamera, ca_file: str) -> None:
    transport = LoopbackOnlyTransport(
        HttpxSoapTransport(timeout=5.0, tls=TlsOptions(ca_file=ca_file))
    )
    try:
        payload = device_ops.build_get_services()
        response = await transport.post(
            tls_camera.device_url, build_envelope(payload), action=action_of(payload)
        )
        services = device_ops.parse_get_services(parse_envelope(response.content).payload)
        assert {s.xaddr.split("/onvif/")[0] for s in services} == {tls_camera.base_url}
    finally:
        await transport.aclose()


# ----------------------------------------------------------------------------- limits and breakage


async def test_oversized_response_is_refused() -> None:
    async with ReplayCamera(CORPUS, HIKVISION) as camera:
        size = len(
            (CORPUS / "device/hikvision_DS-2DF7276-AEL_GetDeviceInformation.xml").read_bytes()
        )
        assert size > 1024
        with pytest.raises(RemoteProtocolError, match="exceeds 1024 bytes"):
            await _get_model(None, camera.device_url, max_response_bytes=1024)
        # The limit is a ceiling, not a cut: the same answer passes under a larger one.
        assert await _get_model(None, camera.device_url, max_response_bytes=size + 100) == (
            "DS-2DF7276-AEL"
        )


async def test_server_closing_mid_response_is_a_transport_error() -> None:
    async def half_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n"
            b"Content-Length: 4096\r\n\r\n<?xml version='1.0'?><env:Envelope"
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(half_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TransportError, match="broke the HTTP exchange") as caught:
            await _get_model(None, f"http://127.0.0.1:{port}/onvif/device_service")
        assert type(caught.value) is TransportError
    finally:
        server.close()
        await server.wait_closed()
