"""``GET /api/discover``: find ONVIF cameras as the discovery settings say.

Multicast from the configured interfaces (unless turned off) and a unicast
probe to each configured target; in demo mode only the embedded device's
loopback discovery port. Viewers may scan: it reveals what any host on the
network can hear, and changes nothing. A discovered camera is added with
``POST /api/cameras`` and its ``id`` as ``discoveryId``.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from platonicam.discovery import DiscoveryError, InvalidQuery
from platonicam.service.deps import Context, Viewer
from platonicam.service.schemas.discover import DiscoveredCameraOut, DiscoverOut
from platonicam.service.schemas.problem import problem_responses

router = APIRouter(tags=["discover"], responses=problem_responses(401, 403, 422, 503))


@router.get("/api/discover")
async def discover_cameras(
    context: Context,
    user: Viewer,
    timeout: Annotated[
        float | None, Query(gt=0, le=30, description="Seconds to listen (default: settings).")
    ] = None,
    max_cameras: Annotated[
        int | None, Query(ge=1, le=1000, description="Stop after this many cameras.")
    ] = None,
) -> DiscoverOut:
    """Probe and list the cameras that answered, each once."""
    started = time.monotonic()
    try:
        sightings = await context.discovery.scan(
            timeout or context.discovery.default_timeout, max_cameras
        )
    except InvalidQuery as error:
        raise HTTPException(422, f"Discovery is misconfigured: {error}.") from None
    except DiscoveryError as error:
        raise HTTPException(
            503, f"Discovery could not send its probes: {error}. Check the discovery settings."
        ) from None
    registered = {(c.host, c.port): c.id for c in await context.cameras.list()}
    cameras = []
    for sighting in sightings:
        found = sighting.candidate
        cameras.append(
            DiscoveredCameraOut(
                id=sighting.id,
                ip=found.host,
                port=found.port,
                manufacturer=found.manufacturer,
                model=found.model,
                name=found.name,
                location=found.location,
                mac=found.mac,
                scopes=list(found.scopes),
                xaddrs=list(found.xaddrs),
                profiles=list(found.profiles),
                discovered_at=sighting.discovered_at,
                registered_camera_id=registered.get((found.host or "", found.port or 0)),
            )
        )
    return DiscoverOut(
        cameras=cameras,
        scanDuration=round(time.monotonic() - started, 3),
        foundCameras=len(cameras),
    )
