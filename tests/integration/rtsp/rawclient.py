"""A minimal RTSP client over a loopback socket, built on our sans-IO message core.

Tests use it to send exactly the requests they mean (repeated SETUPs, raw
keep-alives) and to look at the interleaved packets that come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from types import TracebackType
from typing import Self

from platonicam.rtsp.message import (
    NEED_DATA,
    ConnectionClosed,
    Headers,
    InterleavedData,
    RtspParser,
    RtspRequest,
    RtspResponse,
)


class RawRtspClient:
    def __init__(self, host: str, port: int, *, sock: socket.socket | None = None) -> None:
        self.host = host
        self.port = port
        self.sock = sock
        self.parser = RtspParser()
        self.cseq = 0
        self.interleaved: list[InterleavedData] = []
        self.closed = False
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Self:
        assert self.host.startswith("127.")
        if self.sock is not None:
            self._reader, self._writer = await asyncio.open_connection(sock=self.sock)
        else:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._writer is not None
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()

    async def _event(self, timeout: float) -> RtspResponse | RtspRequest | InterleavedData | None:
        assert self._reader is not None
        async with asyncio.timeout(timeout):
            while True:
                event = self.parser.next_event()
                if event is NEED_DATA:
                    self.parser.receive_data(await self._reader.read(65536))
                    continue
                if isinstance(event, ConnectionClosed):
                    self.closed = True
                    return None
                assert not isinstance(event, type(NEED_DATA))
                return event

    async def request(
        self, method: str, uri: str, headers: dict[str, str] | None = None, timeout: float = 15
    ) -> RtspResponse:
        assert self._writer is not None
        self.cseq += 1
        fields = {"CSeq": str(self.cseq), **(headers or {})}
        self._writer.write(bytes(RtspRequest(method, uri, Headers.of(fields))))
        while True:
            event = await self._event(timeout)
            if event is None:
                raise ConnectionError("server closed the connection")
            if isinstance(event, InterleavedData):
                self.interleaved.append(event)
            elif isinstance(event, RtspResponse):
                assert event.cseq == self.cseq
                return event

    async def read_interleaved(self, count: int, timeout: float = 10) -> list[InterleavedData]:
        """Wait until ``count`` interleaved packets have arrived (in total); return them all."""
        while len(self.interleaved) < count:
            event = await self._event(timeout)
            if event is None:
                break
            if isinstance(event, InterleavedData):
                self.interleaved.append(event)
        return self.interleaved

    async def wait_closed(self, timeout: float) -> bool:
        """Read until the server closes the connection; True if it did within ``timeout``."""
        try:
            while await self._event(timeout) is not None:
                pass
        except TimeoutError:
            return False
        return True
