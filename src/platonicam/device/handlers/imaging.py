"""Placeholder registry (filled in below)."""

from __future__ import annotations

from platonicam.device.handlers.base import Registry
from platonicam.onvif.soap.namespaces import TEV

registry = Registry(TEV)
