"""Every operation the reference device answers, from every handler module."""

from __future__ import annotations

from typing import Final

from platonicam.device.handlers.base import Operation
from platonicam.device.handlers.deviceio import registry as deviceio
from platonicam.device.handlers.events import notification
from platonicam.device.handlers.events import registry as events
from platonicam.device.handlers.imaging import registry as imaging
from platonicam.device.handlers.management import registry as management
from platonicam.device.handlers.media import registry as media
from platonicam.device.handlers.media2 import registry as media2
from platonicam.device.handlers.ptz import registry as ptz

ALL_OPERATIONS: Final[tuple[Operation, ...]] = tuple(
    operation
    for registry in (management, media, media2, imaging, ptz, events, notification, deviceio)
    for operation in registry.operations
)
