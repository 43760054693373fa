"""SOAP operation handlers, one module per ONVIF service (mirroring ``onvif/services``).

Each module has a :class:`~platonicam.device.handlers.base.Registry` named
``registry``; :data:`ALL_OPERATIONS` is every operation the device answers.
"""

from __future__ import annotations

from platonicam.device.handlers import deviceio, events, imaging, management, media, media2, ptz
from platonicam.device.handlers.base import Operation

ALL_OPERATIONS: tuple[Operation, ...] = tuple(
    operation
    for module in (management, media, media2, imaging, ptz, events, deviceio)
    for operation in module.registry.operations
)

__all__ = ["ALL_OPERATIONS", "Operation"]
