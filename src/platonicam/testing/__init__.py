"""Test doubles that behave like real peers over real sockets.

:class:`ReplayCamera` answers ONVIF requests on loopback from captured
real-camera responses, with the authentication habits of real firmware.
"""

from platonicam.testing.replay import (
    ReplayAuth,
    ReplayCamera,
    ReplayCameraThread,
    rewrite_private_addresses,
)

__all__ = ["ReplayAuth", "ReplayCamera", "ReplayCameraThread", "rewrite_private_addresses"]
