"""schemathesis against the service's own OpenAPI document: no request makes it fail.

The service runs under uvicorn on 127.0.0.1 (a thread with its own event loop),
with one registered camera that is a real reference device on loopback and a
camera transport that refuses every other destination (random addresses in
generated requests are answered as unreachable cameras without a packet
leaving the machine; discovery has multicast off). Every operation gets a few
generated requests with an admin token.

"No server error" means: never a 500 (an unhandled error), and every 5xx is a
camera problem (``camera-*``: the camera behind us failed, which is what 502,
501 and 504 say), written as ``application/problem+json``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import hypothesis
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given

from platonicam.onvif.transport import TlsOptions
from platonicam.service.app import create_app
from platonicam.service.cameras import CameraTransport
from platonicam.service.deps import ServiceContext
from platonicam.store.records import NewCamera
from tests.integration.service.api import (
    DEVICE_PASSWORD,
    DEVICE_USER,
    FAST_PASSWORDS,
    LoopbackCameraTransport,
    api_settings,
    light_device,
)

MAX_EXAMPLES = 6
TIME_LIMIT = 150.0  # seconds for the whole run


class ServiceThread:
    """The service and one device in a background event loop."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.ready = threading.Event()
        self.refused: list[str] = []
        self.base_url = ""
        self.token = ""
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="service", daemon=True)

    def __enter__(self) -> ServiceThread:
        self._thread.start()
        if not self.ready.wait(30) or self.error is not None:
            raise RuntimeError(f"the service did not start: {self.error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported by __enter__
            self.error = error
            self.ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        device = await light_device(self.data_dir / "device")

        def transport(tls: TlsOptions, timeout: float) -> CameraTransport:
            return LoopbackCameraTransport(tls, 2.0, self.refused)

        app = create_app(
            api_settings(self.data_dir / "service"),
            passwords=FAST_PASSWORDS,
            console=_Discard(),
            camera_transport=transport,
        )
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="on")
        )
        task = asyncio.create_task(server.serve())
        try:
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
            port = server.servers[0].sockets[0].getsockname()[1]
            self.base_url = f"http://127.0.0.1:{port}"
            context = app.state.context
            assert isinstance(context, ServiceContext)
            await context.cameras.create(
                NewCamera(
                    id="cam-1",
                    name="Reference",
                    host="127.0.0.1",
                    port=device.port,
                    username=DEVICE_USER,
                    password=DEVICE_PASSWORD,
                )
            )
            admin = await context.users.require("admin")
            self.token = context.tokens.access_token(admin)
            self.ready.set()
            await self._stop.wait()
        finally:
            server.should_exit = True
            await task
            await device.stop()


class _Discard:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


@pytest.mark.timeout(300)
def test_generated_requests_cause_no_server_error(tmp_path: Path) -> None:
    with ServiceThread(tmp_path) as service:
        import requests

        document = requests.get(f"{service.base_url}/openapi.json", timeout=10).json()
        schema = schemathesis.openapi.from_dict(document)
        headers = {"Authorization": f"Bearer {service.token}"}
        deadline = time.monotonic() + TIME_LIMIT
        failures: list[str] = []
        calls = 0
        for result in schema.get_all_operations():
            operation = result.ok()
            if time.monotonic() > deadline:
                break

            @hypothesis.settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
                phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            )
            @given(case=operation.as_strategy())
            def check(case: schemathesis.Case) -> None:
                nonlocal calls
                calls += 1
                response = case.call(base_url=service.base_url, headers=headers, timeout=20)
                status = response.status_code
                if status == 500:
                    failures.append(f"{case.method} {case.formatted_path}: 500 {response.text}")
                elif status >= 500:
                    body = response.json()
                    if not (
                        response.headers["content-type"] == "application/problem+json"
                        and str(body.get("code", "")).startswith("camera-")
                    ):
                        failures.append(f"{case.method} {case.formatted_path}: {response.text}")

            check()
        assert failures == []
        assert calls >= len(document["paths"])
        # Generated addresses never left loopback.
        assert all("127.0.0.1" not in url for url in service.refused)
