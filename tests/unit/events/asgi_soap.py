"""An in-process :class:`~platonicam.onvif.transport.SoapTransport`: SOAP posted straight
into an ASGI app (the reference device, a :class:`NotifyConsumer`) through httpx's
``ASGITransport``, no socket. ``app`` may be swapped (a camera "restarting" with a fresh
state) and ``down`` makes every post fail as a refused connection would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from platonicam.onvif.errors import ConnectError
from platonicam.onvif.transport import SOAP12_CONTENT_TYPE, HttpCredentials, SoapHttpResponse

AsgiApp = Callable[..., Any]


class AsgiSoapTransport:
    def __init__(self, app: AsgiApp) -> None:
        self.app = app
        self.down = False
        #: (url, envelope) of every post, in order.
        self.sent: list[tuple[str, bytes]] = []

    async def post(
        self,
        url: str,
        envelope: bytes,
        *,
        action: str,
        credentials: HttpCredentials | None = None,
        timeout: float | None = None,
    ) -> SoapHttpResponse:
        self.sent.append((url, envelope))
        if self.down:
            raise ConnectError(f"cannot connect to {url}: refused (the test took it down)")
        transport = httpx.ASGITransport(app=self.app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.post(
                url,
                content=envelope,
                headers={"content-type": f'{SOAP12_CONTENT_TYPE}; action="{action}"'},
            )
        return SoapHttpResponse(
            response.status_code,
            response.content,
            {name.lower(): value for name, value in response.headers.items()},
        )

    async def aclose(self) -> None:
        return None
