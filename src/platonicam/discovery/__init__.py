"""WS-Discovery for ONVIF: ``from platonicam.discovery import discover``.

Find devices with :func:`discover` / :func:`discover_iter` (multicast on every
interface), :func:`probe_unicast` (one known address) and :func:`resolve`; hear
them come and go with :class:`AnnouncementListener`. The sans-IO messages
(:mod:`platonicam.discovery.messages`) and scope rules
(:mod:`platonicam.discovery.scopes`) serve the reference device's responder too.
This module's ``__all__`` is the supported import surface; constants such as
``NETWORK_VIDEO_TRANSMITTER`` and ``MATCH_BY_RFC3986`` live in ``messages`` and
``scopes``.
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
    "DiscoveryError",
    "DiscoveryNetworkError",
    "Hello",
    "InvalidQuery",
    "MalformedMessage",
    "Message",
    "OnvifScopes",
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
