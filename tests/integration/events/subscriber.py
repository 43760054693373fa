"""An independent MQTT reader for the tests: a plain aiomqtt client that records messages."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import aiomqtt


@dataclass(frozen=True, slots=True)
class Received:
    topic: str
    payload: bytes
    retain: bool
    at: float  # loop time of receipt

    def json(self) -> dict[str, object]:
        body = json.loads(self.payload)
        assert isinstance(body, dict)
        return body


class Subscriber:
    """Subscribes to ``topics`` on ``host:port`` and keeps every message in :attr:`messages`.

    It reconnects by itself (the broker-restart tests stop the broker under it)
    and subscribes again each time, so retained messages may arrive again:
    the tests dedupe by the payload's ``id`` as any QoS 1 consumer must.
    """

    def __init__(
        self,
        host: str,
        port: int,
        topics: list[str],
        *,
        username: str | None = None,
        password: str | None = None,
        tls_context: ssl.SSLContext | None = None,
        session: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.topics = topics
        self.username = username
        self.password = password
        self.tls_context = tls_context
        # A named persistent session: the broker queues QoS 1 messages for it
        # while it is disconnected.
        self.session = session
        self.messages: list[Received] = []
        self.connections = 0
        self._changed = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                async with aiomqtt.Client(
                    self.host,
                    self.port,
                    username=self.username,
                    password=self.password,
                    tls_context=self.tls_context,
                    identifier=self.session,
                    clean_session=False if self.session else None,
                    timeout=5,
                ) as client:
                    for topic in self.topics:
                        await client.subscribe(topic, qos=1)
                    self.connections += 1
                    self._subscribed.set()
                    async for message in client.messages:
                        self.messages.append(
                            Received(
                                str(message.topic),
                                bytes(message.payload),
                                bool(message.retain),
                                loop.time(),
                            )
                        )
                        self._changed.set()
            except aiomqtt.MqttError:
                self._subscribed.clear()
                await asyncio.sleep(0.05)

    async def __aenter__(self) -> Self:
        self._task = asyncio.get_running_loop().create_task(self._run())
        await self.wait_subscribed()
        return self

    async def wait_subscribed(self, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            await self._subscribed.wait()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait_for(
        self, predicate: Callable[[list[Received]], bool], timeout: float = 10.0
    ) -> list[Received]:
        """Wait until ``predicate(messages)`` holds; fail with what did arrive."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate(self.messages):
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            topics = [m.topic for m in self.messages][-20:]
            raise AssertionError(
                f"timed out after {timeout} s; {len(self.messages)} messages, last topics {topics}"
            ) from None
        return self.messages

    def on(self, topic: str) -> list[Received]:
        return [m for m in self.messages if m.topic == topic]


def unique_by_id(messages: list[Received]) -> list[dict[str, object]]:
    """JSON bodies in arrival order, keeping the first of each ``id`` (QoS 1 dedupe)."""
    seen: set[object] = set()
    out: list[dict[str, object]] = []
    for message in messages:
        if not message.payload:
            continue
        body = message.json()
        if body["id"] in seen:
            continue
        seen.add(body["id"])
        out.append(body)
    return out
