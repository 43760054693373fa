"""Where each service of the reference device answers (paths on the HTTP server)."""

from __future__ import annotations

from typing import Final

from platonicam.onvif.models.common import ServiceKind

SERVICE_PATHS: Final[dict[ServiceKind, str]] = {
    ServiceKind.DEVICE: "/onvif/device_service",
    ServiceKind.MEDIA: "/onvif/media_service",
    ServiceKind.MEDIA2: "/onvif/media2_service",
    ServiceKind.IMAGING: "/onvif/imaging_service",
    ServiceKind.PTZ: "/onvif/ptz_service",
    ServiceKind.EVENTS: "/onvif/events_service",
    ServiceKind.DEVICEIO: "/onvif/deviceio_service",
}
#: A PullPoint subscription's address is this prefix and its id.
PULLPOINT_PREFIX: Final = "/onvif/pullpoint/"
#: Snapshots: this prefix, the profile token, ``.jpg``.
SNAPSHOT_PREFIX: Final = "/onvif/snapshot/"


def snapshot_path(profile_token: str) -> str:
    return f"{SNAPSHOT_PREFIX}{profile_token}.jpg"
