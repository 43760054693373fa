"""How a user holds the ONVIF client; checked by mypy --strict, never run."""

from __future__ import annotations

from datetime import timedelta

from platonicam.onvif import (
    NotAuthorized,
    OnvifClient,
    OnvifError,
    ServiceKind,
    TlsOptions,
)
from platonicam.onvif.soap.build import element
from platonicam.onvif.soap.namespaces import TDS


async def read_camera(host: str, password: str) -> str:
    async with OnvifClient(
        host, 443, "admin", password, scheme="https", tls=TlsOptions(ca_file="camera.pem")
    ) as camera:
        offset: timedelta = camera.clock_offset
        uses_media2: bool = camera.is_profile_t
        raw = await camera.call(ServiceKind.DEVICE, element(TDS, "GetHostname"))
        mode: str = camera.auth_mode
        return f"{offset} {uses_media2} {raw.tag} {mode}"


async def tolerant(host: str) -> str | None:
    try:
        return await read_camera(host, "secret")
    except NotAuthorized as fault:
        return fault.reason
    except OnvifError as error:
        return str(error)
