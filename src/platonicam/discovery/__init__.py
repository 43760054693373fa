"""WS-Discovery for ONVIF: ``from platonicam.discovery import discover``.

Find devices with :func:`discover` / :func:`discover_iter` (multicast on every
interface), :func:`probe_unicast` (one known address) and :func:`resolve`; hear
them come and go with :class:`AnnouncementListener`. The sans-IO messages
(:mod:`platonicam.discovery.messages`) and scope rules
(:mod:`platonicam.discovery.scopes`) serve the reference device's responder too.
This module's ``__all__`` is the supported import surface.
"""

from platonicam.discovery.candidate import Candidate, preferred_xaddr
from platonicam.discovery.errors import (
    DiscoveryError,
    DiscoveryNetworkError,
    InvalidQuery,
    MalformedMessage,
)
from platonicam.discovery.listener import Announcement, AnnouncementListener
from platonicam.discovery.messages import (
    DEVICE,
    MULTICAST_IPV4,
    NETWORK_VIDEO_TRANSMITTER,
    PORT,
    AppSequence,
    Bye,
    Hello,
    Message,
    Probe,
    ProbeMatches,
    Resolve,
    ResolveMatches,
    TargetService,
    TypeName,
    new_message_id,
    parse_message,
)
from platonicam.discovery.probe import (
    discover,
    discover_iter,
    probe_unicast,
    probe_unicast_iter,
    resolve,
)
from platonicam.discovery.scopes import (
    MATCH_BY_RFC3986,
    MATCH_BY_STRCMP0,
    OnvifScopes,
    rfc3986_match,
    scope_matches,
    scopes_match,
)

__all__ = [
    "Announcement",
    "AnnouncementListener",
    "AppSequence",
    "Bye",
    "Candidate",
    "DEVICE",
    "DiscoveryError",
    "DiscoveryNetworkError",
    "Hello",
    "InvalidQuery",
    "MATCH_BY_RFC3986",
    "MATCH_BY_STRCMP0",
    "MULTICAST_IPV4",
    "MalformedMessage",
    "Message",
    "NETWORK_VIDEO_TRANSMITTER",
    "OnvifScopes",
    "PORT",
    "Probe",
    "ProbeMatches",
    "Resolve",
    "ResolveMatches",
    "TargetService",
    "TypeName",
    "discover",
    "discover_iter",
    "new_message_id",
    "parse_message",
    "preferred_xaddr",
    "probe_unicast",
    "probe_unicast_iter",
    "resolve",
    "rfc3986_match",
    "scope_matches",
    "scopes_match",
]
