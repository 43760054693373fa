"""Media errors: one tree under :class:`~platonicam.errors.PlatonicamError`.

::

    MediaError                      (platonicam.errors.PlatonicamError)
    ├── BitstreamError              a parameter set (SPS, VPS) we cannot read
    └── MuxError                    samples, parts or playlist entries that break
                                    the container's or the playlist's rules

The gateway treats :class:`BitstreamError` as a property of the camera's stream
(report it, do not serve that stream) and :class:`MuxError` as a bug in the
caller (an out-of-order part, a part longer than the advertised target).
"""

from __future__ import annotations

from platonicam.errors import PlatonicamError


class MediaError(PlatonicamError):
    """Base class of every error the media cores raise."""


class BitstreamError(MediaError):
    """A parameter set that is truncated, malformed or of a kind we do not support."""


class MuxError(MediaError):
    """Input to the muxer, partitioner or playlist that violates their contract."""
