"""Typed, async operations of each ONVIF service, reached as attributes of the client.

``client.device``, ``client.media``, ``client.analytics`` (Media2 preferred, Media as fallback),
``client.imaging``, ``client.ptz`` and ``client.events``. Each method builds the
request with :mod:`platonicam.onvif.services`, sends it through the client and
parses the answer into models.
"""

from platonicam.onvif.facades.analytics import AnalyticsService
from platonicam.onvif.facades.device import DeviceService
from platonicam.onvif.facades.events import EventService
from platonicam.onvif.facades.imaging import ImagingService
from platonicam.onvif.facades.media import MediaService
from platonicam.onvif.facades.ptz import PTZService

__all__ = [
    "AnalyticsService",
    "DeviceService",
    "EventService",
    "ImagingService",
    "MediaService",
    "PTZService",
]
