"""Per-vendor topic parsers, and the registry that holds all of them.

Each module has a ``register(registry)`` function; :func:`default_registry`
calls the ONVIF standard topics first and the vendor modules after, so a vendor
module only adds topics (patterns clash loudly, see
:meth:`~platonicam.events.topics.TopicRegistry.register`).
"""

from __future__ import annotations

from functools import cache

from platonicam.events.parsers import ajax, axis, generic, hikvision, tapo
from platonicam.events.topics import TopicRegistry

__all__ = ["build_registry", "default_registry"]


def build_registry() -> TopicRegistry:
    """A fresh registry with every parser in this package."""
    registry = TopicRegistry()
    for module in (generic, hikvision, axis, tapo, ajax):
        module.register(registry)
    return registry


@cache
def default_registry() -> TopicRegistry:
    """The shared registry (built once; do not register into it at run time)."""
    return build_registry()
