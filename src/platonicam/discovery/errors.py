"""WS-Discovery's errors: one tree under :class:`~platonicam.errors.PlatonicamError`.

::

    DiscoveryError                  (platonicam.errors.PlatonicamError)
    ├── MalformedMessage            a datagram that is not a WS-Discovery message we can
    │                               read (not XML, not SOAP, a required element missing)
    ├── InvalidQuery                the caller asked for something that cannot be sent
    │                               (an unknown type prefix, an unresolvable host)
    └── DiscoveryNetworkError       the sockets could not be set up (no IPv4 interface,
                                    no permission, port in use)

The asyncio layers never let a :class:`MalformedMessage` escape: a bad datagram
is logged and skipped, because anything on the network may send to port 3702.
"""

from __future__ import annotations

from platonicam.errors import PlatonicamError


class DiscoveryError(PlatonicamError):
    """Base class of every error WS-Discovery raises."""


class MalformedMessage(DiscoveryError):
    """A datagram that is not a readable WS-Discovery message."""


class InvalidQuery(DiscoveryError):
    """A probe, resolve or listener argument that cannot be used."""


class DiscoveryNetworkError(DiscoveryError):
    """The UDP sockets discovery needs could not be opened or used."""
