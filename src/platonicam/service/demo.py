"""The embedded demo device of ``platonicam serve --demo``.

A new user runs one command and sees a working camera: the reference device
(:class:`~platonicam.device.runtime.DeviceRuntime`) runs in the service's own
process on 127.0.0.1 (ONVIF, RTSP and WS-Discovery each on a free port,
multicast off), and is registered as the camera ``demo`` named "Demo camera".

- Its folder is ``<data_dir>/demo-device``, so its settings survive restarts
  like a real camera's.
- Its admin password is generated on first start and kept in
  ``<data_dir>/demo-device-password`` (0600): the device is created with it
  once, and the service stores it encrypted like any camera password. No one
  needs to type it; it is never printed.
- The ports are new at every start, so the registration is updated each time
  (and the cached connection dropped).
- Discovery is limited to a unicast probe of the device's loopback discovery
  port: demo mode sends no multicast at all.
"""

from __future__ import annotations

import logging
import secrets
from types import TracebackType
from typing import Final, Self

from platonicam.device.runtime import DeviceRuntime, IdentityOverrides
from platonicam.service.deps import ServiceContext
from platonicam.store.records import CameraChanges, NewCamera
from platonicam.store.secrets import read_or_create_secret

logger = logging.getLogger(__name__)

DEMO_CAMERA_ID: Final = "demo"
DEMO_CAMERA_NAME: Final = "Demo camera"
DEMO_FOLDER: Final = "demo-device"
DEMO_PASSWORD_FILE: Final = "demo-device-password"  # noqa: S105 - a file name
DEMO_USER: Final = "admin"
DEMO_HOST: Final = "127.0.0.1"
#: The audit log's actor for what the service does by itself.
SYSTEM_ACTOR: Final = "system"


def _generate_password() -> bytes:
    return secrets.token_urlsafe(18).encode("ascii")


class DemoDevice:
    """Start the demo device and register it (``async with``); stop it at exit."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context
        data_dir = context.settings.data_dir
        self._password = read_or_create_secret(
            data_dir / DEMO_PASSWORD_FILE, _generate_password
        ).decode("ascii")
        self.runtime = DeviceRuntime(
            data_dir / DEMO_FOLDER,
            DEMO_HOST,
            0,
            0,
            discovery=True,
            discovery_port=0,
            multicast=False,
            demo=True,
            admin_password=self._password,
            identity=IdentityOverrides(name=DEMO_CAMERA_NAME, location="loopback"),
            clock=context.clock,
        )

    @property
    def discovery_target(self) -> str:
        """``127.0.0.1:PORT`` of the device's WS-Discovery responder."""
        return f"{DEMO_HOST}:{self.runtime.discovery_port}"

    async def __aenter__(self) -> Self:
        await self.runtime.start()
        try:
            await self._register()
        except BaseException:
            await self.runtime.stop()
            raise
        self._context.discovery.only_unicast(self.discovery_target)
        logger.info(
            "demo device on %s (RTSP %d, discovery %s) registered as camera %r",
            self.runtime.url(),
            self.runtime.rtsp_port,
            self.discovery_target,
            DEMO_CAMERA_ID,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._context.camera_manager.forget(DEMO_CAMERA_ID)
        await self.runtime.stop()

    async def _register(self) -> None:
        cameras = self._context.cameras
        identity = self.runtime.state.device.identity
        port = self.runtime.port
        if await cameras.get(DEMO_CAMERA_ID) is None:
            await cameras.create(
                NewCamera(
                    id=DEMO_CAMERA_ID,
                    name=DEMO_CAMERA_NAME,
                    host=DEMO_HOST,
                    port=port,
                    username=DEMO_USER,
                    password=self._password,
                    manufacturer=identity.manufacturer,
                    model=identity.model,
                    firmware_version=identity.firmware_version,
                    serial_number=identity.serial_number,
                    hardware_id=identity.hardware_id,
                )
            )
            await self._context.audit.record(
                SYSTEM_ACTOR,
                "camera.create",
                f"registered the embedded demo device as {DEMO_CAMERA_NAME!r}",
                camera_id=DEMO_CAMERA_ID,
            )
            return
        # A new start, new ports (and the password file may have been replaced).
        await cameras.update(
            DEMO_CAMERA_ID,
            CameraChanges(host=DEMO_HOST, port=port, username=DEMO_USER, password=self._password),
        )
        await self._context.camera_manager.forget(DEMO_CAMERA_ID)
