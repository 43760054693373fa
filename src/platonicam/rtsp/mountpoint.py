"""What a server mounts at a path and who may use it: the types its owner hands in.

A :class:`Mountpoint` is the arguments of :meth:`RtspServer.mount
<platonicam.rtsp.server.RtspServer.mount>`, as a resolver (:data:`MountResolver`)
answers for a path nobody mounted; a :data:`MountAuthorizer` answers each
request that names a mount without one of its sessions with an
:class:`AccessDecision` (see :mod:`platonicam.rtsp.server` for when each is asked).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from platonicam.rtsp.message import RtspRequest
from platonicam.rtsp.metadata import MetadataSource
from platonicam.rtsp.stream import LiveStream


@dataclass(frozen=True, slots=True)
class AccessDecision:
    """A mount authorizer's answer: ``principal`` (who asks, for the log) when the request
    may use the mount; otherwise ``None``, and ``challenge`` is the ``WWW-Authenticate``
    value of the 401 answer (none is sent when it is ``None``)."""

    principal: str | None
    challenge: str | None = None


#: Decides whether a request (without a session) may use a mount; must not block.
MountAuthorizer = Callable[[RtspRequest], AccessDecision]


@dataclass(frozen=True, slots=True)
class Mountpoint:
    """What a resolver mounts at a path (the arguments of :meth:`RtspServer.mount`)."""

    stream: LiveStream
    metadata: MetadataSource | None = None
    authorize: MountAuthorizer | None = None
    on_demand: bool = False


#: Asked about a path (unquoted, without slashes around it) nobody mounted: what to serve
#: there, or ``None`` (404). Raise :class:`RtspError` when it cannot tell (500).
MountResolver = Callable[[str], Awaitable[Mountpoint | None]]
