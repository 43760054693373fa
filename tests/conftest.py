"""Fixtures shared by every test layer."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from platonicam.onvif.transport import AsyncioSoapTransport, HttpCredentials, SoapHttpResponse


class FakeClock:
    """A settable clock for unit tests (see platonicam.clock.Clock)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds


class NonLoopbackDestination(AssertionError):
    """A test tried to send to an address that is not loopback."""


def assert_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise NonLoopbackDestination(f"refusing to send to non-loopback host {host!r}") from None
    if not address.is_loopback:
        raise NonLoopbackDestination(f"refusing to send to non-loopback address {host}")


class LoopbackOnlyTransport:
    """The real HTTP transport, refusing every destination outside 127.0.0.0/8 and ::1.

    Captured replies name the cameras' private addresses; if NAT rewriting
    missed one, this makes the test fail instead of sending a packet there.
    """

    def __init__(self, inner: AsyncioSoapTransport | None = None) -> None:
        self.inner = inner or AsyncioSoapTransport(timeout=5.0)
        self.requests: list[str] = []

    async def post(
        self,
        url: str,
        envelope: bytes,
        *,
        action: str,
        credentials: HttpCredentials | None = None,
        timeout: float | None = None,
    ) -> SoapHttpResponse:
        assert_loopback(url)
        self.requests.append(action)
        return await self.inner.post(
            url, envelope, action=action, credentials=credentials, timeout=timeout
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def loopback_transport() -> AsyncIterator[LoopbackOnlyTransport]:
    transport = LoopbackOnlyTransport()
    yield transport
    await transport.aclose()
