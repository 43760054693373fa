"""A running service for the foundation tests: the real app, its lifespan, httpx over ASGI.

The app is built by ``create_app`` exactly as ``platonicam serve`` builds it,
with a temporary data folder (SQLite), a :class:`FakeClock`, cheap argon2
parameters (the hash format and checks are the real ones) and a captured
console. Requests go through httpx's ASGI transport: no socket at all.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI

from platonicam.config import Settings, load_settings
from platonicam.service.app import create_app
from platonicam.service.auth import Passwords
from platonicam.service.deps import ServiceContext
from platonicam.store.records import Role, UserRecord
from tests.conftest import FakeClock

FAST_PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
ADMIN_LINE = re.compile(r"^\s+password: (\S+)$", re.MULTILINE)


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient
    clock: FakeClock
    console: io.StringIO

    @property
    def context(self) -> ServiceContext:
        context = self.app.state.context
        assert isinstance(context, ServiceContext)
        return context

    def first_admin_password(self) -> str | None:
        match = ADMIN_LINE.search(self.console.getvalue())
        return match[1] if match else None

    async def add_user(
        self,
        name: str,
        role: Role,
        password: str = "pass-word-123",  # noqa: S107 - test data
        grants: tuple[str, ...] = (),
    ) -> UserRecord:
        user = await self.context.users.create(name, role, FAST_PASSWORDS.hash(password))
        for camera_id in grants:
            user = await self.context.users.grant(name, camera_id)
        return user

    async def token_for(self, name: str) -> str:
        user = await self.context.users.require(name)
        return self.context.tokens.access_token(user)

    async def headers_for(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token_for(name)}"}

    async def login(self, name: str, password: str, address: str | None = None) -> httpx.Response:
        client = self.client
        if address is not None:
            transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://platonicam") as c:
                return await c.post(
                    "/api/auth/token", data={"username": name, "password": password}
                )
        return await client.post("/api/auth/token", data={"username": name, "password": password})


def settings_for(data_dir: Path, **overrides: object) -> Settings:
    return load_settings(None, data_dir=data_dir, **overrides)


@asynccontextmanager
async def running(
    settings: Settings, clock: FakeClock | None = None, console: io.StringIO | None = None
) -> AsyncIterator[Service]:
    """Start the app's lifespan, yield a client for it, stop it (closing the database)."""
    console = console or io.StringIO()
    used_clock = clock or FakeClock()
    app = create_app(settings, clock=used_clock, passwords=FAST_PASSWORDS, console=console)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://platonicam") as client,
    ):
        yield Service(app=app, client=client, clock=used_clock, console=console)
