"""Normalized camera events: model, vendor topic parsers, PullPoint/push collection, bus.

The supported import path for the event core. ``platonicam.events.mqtt`` (the
broker bridge) is imported on its own, so using the bus does not need aiomqtt.

Flow: a camera's notifications (PullPoint: :class:`PullPointManager`; push:
:class:`PushManager` and its :class:`NotifyConsumer`; the RTSP metadata track:
:class:`MetadataTracker`) are
normalized by the topic parsers (:func:`default_registry`) into :class:`Event`
values and published to a :class:`Sink`, normally the :class:`EventBus`, which
fans them out to the store, the live API and the MQTT bridge.
"""

from platonicam.events.bus import EventBus, EventFilter, Sink, SinkHandle, Subscription
from platonicam.events.keeper import SubscriptionOptions, SubscriptionState, SubscriptionStatus
from platonicam.events.metadata import MetadataTracker, MetadataUpdate, TrackedObject
from platonicam.events.mode import EventsMode
from platonicam.events.model import Event, EventKind
from platonicam.events.notification import (
    Malformed,
    NotificationBatch,
    normalize,
    normalize_element,
    read_notifications,
    read_notify,
)
from platonicam.events.parsers import build_registry, default_registry
from platonicam.events.pullpoint import (
    PullPointManager,
    PullPointOptions,
    PullPointState,
    PullPointStatus,
)
from platonicam.events.push import ConsumerStats, NotifyConsumer, subscribe_push
from platonicam.events.push_manager import PushManager
from platonicam.events.topics import Reading, TopicRegistry

__all__ = [
    "ConsumerStats",
    "Event",
    "EventBus",
    "EventFilter",
    "EventKind",
    "EventsMode",
    "Malformed",
    "MetadataTracker",
    "MetadataUpdate",
    "NotificationBatch",
    "NotifyConsumer",
    "PullPointManager",
    "PullPointOptions",
    "PullPointState",
    "PullPointStatus",
    "PushManager",
    "Reading",
    "Sink",
    "SinkHandle",
    "Subscription",
    "SubscriptionOptions",
    "SubscriptionState",
    "SubscriptionStatus",
    "TopicRegistry",
    "TrackedObject",
    "build_registry",
    "default_registry",
    "normalize",
    "normalize_element",
    "read_notifications",
    "read_notify",
    "subscribe_push",
]
