"""How a camera's events are collected: PullPoint, push, or whichever the camera prefers.

``auto`` asks the camera: PullPoint where its event capabilities say
``WSPullPointSupport="true"``, push where they say ``"false"``. A camera that
does not say (the flag left out, or GetServiceCapabilities refused by old
firmware) gets PullPoint: every conformant ONVIF camera pulls, and a pull
needs nothing from the network between the camera and us, while a push needs
the camera to reach our consumer address.
"""

from __future__ import annotations

import enum

from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import NotAuthorized, RemoteProtocolError, SoapFaultError

__all__ = ["EventsMode", "detect_mode", "mode_for"]


class EventsMode(enum.StrEnum):
    AUTO = "auto"
    PULLPOINT = "pullpoint"
    PUSH = "push"


def mode_for(pull_point_support: bool | None) -> EventsMode:
    """``auto``'s choice for a camera whose ``WSPullPointSupport`` is this (``None``: unsaid)."""
    return EventsMode.PUSH if pull_point_support is False else EventsMode.PULLPOINT


async def detect_mode(client: OnvifClient) -> EventsMode:
    """``auto``'s choice for the camera behind ``client`` (connected on the way).

    Reads the GetCapabilities answer when connecting had to use it, else the
    event service's GetServiceCapabilities. Transport and credential errors
    propagate (the caller retries or gives up); a camera that faults on the
    question, or answers it unreadably, is taken to have said nothing.
    """
    await client.connect()
    capabilities = client.capabilities
    if capabilities is not None and capabilities.pull_point_support is not None:
        return mode_for(capabilities.pull_point_support)
    try:
        events = await client.events.get_service_capabilities()
    except NotAuthorized:
        raise
    except (SoapFaultError, RemoteProtocolError):
        return mode_for(None)
    return mode_for(events.ws_pull_point_support)
