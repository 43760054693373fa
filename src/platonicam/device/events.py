"""The device's events: topics, property states, and PullPoint subscriptions.

Strategy: every topic the device can raise is a :class:`TopicSpec` (path,
whether it is a property, the names of its source and data items). The hub
keeps the current state of every property instance (one per source, e.g. per
relay), so a fresh PullPoint, or one that asks for a synchronization point,
gets an ``Initialized`` message for each at once, as ONVIF Core 9.3 requires.
:meth:`EventHub.fire` changes a state and queues a ``Changed`` message to every
subscription whose filter matches; it is the entry point for the CLI trigger,
the demo schedule and the relay/input handlers.

Subscriptions live until their termination time (device clock); expired ones
are dropped whenever the hub is touched. Each has a bounded queue: when a
client stops pulling, the oldest messages go first. PullMessages returns at
once when messages wait, otherwise it waits (real time, asyncio) until one
arrives or the client's timeout, capped at :attr:`EventHub.max_wait`, passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from platonicam.device.faults import DeviceFault, invalid_arg
from platonicam.device.state import DeviceState
from platonicam.onvif.errors import RemoteProtocolError
from platonicam.onvif.models.events import (
    CONCRETE_SET_DIALECT,
    ItemDescription,
    OnvifEvent,
    PropertyOperation,
    TopicDescription,
    format_event_time,
)
from platonicam.onvif.soap.namespaces import TNS1
from platonicam.onvif.soap.xmlread import to_datetime, to_duration

#: The topic-expression dialects the device understands.
TOPIC_EXPRESSION_DIALECTS: Final = (
    CONCRETE_SET_DIALECT,
    "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete",
    "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Simple",
)


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic: ``kind`` is the short name :meth:`EventHub.fire` takes."""

    kind: str
    path: str
    is_property: bool
    source: tuple[tuple[str, str], ...]
    data: tuple[tuple[str, str], ...]

    @property
    def segments(self) -> tuple[str, ...]:
        """Local names of the path's segments (``VideoSource``, ``MotionAlarm``)."""
        return tuple(part.rpartition(":")[2] for part in self.path.split("/"))

    def description(self) -> TopicDescription:
        return TopicDescription(
            topic="/".join(self.segments),
            topic_path=self.path,
            topic_namespace=TNS1,
            topic_namespaces={"tns1": TNS1},
            described=True,
            is_property=self.is_property,
            source=tuple(ItemDescription(n, t) for n, t in self.source),
            data=tuple(ItemDescription(n, t) for n, t in self.data),
        )


_REF: Final = "tt:ReferenceToken"
_BOOL: Final = "xs:boolean"

#: What a real camera of this kind raises (names and items as ONVIF's topic
#: namespace document and the corpus captures spell them).
TOPICS: Final[tuple[TopicSpec, ...]] = (
    TopicSpec(
        "motion", "tns1:VideoSource/MotionAlarm", True, (("Source", _REF),), (("State", _BOOL),)
    ),
    TopicSpec(
        "cell_motion",
        "tns1:RuleEngine/CellMotionDetector/Motion",
        True,
        (
            ("VideoSourceConfigurationToken", _REF),
            ("VideoAnalyticsConfigurationToken", _REF),
            ("Rule", "xs:string"),
        ),
        (("IsMotion", _BOOL),),
    ),
    TopicSpec(
        "tamper",
        "tns1:VideoSource/GlobalSceneChange/ImagingService",
        True,
        (("Source", _REF),),
        (("State", _BOOL),),
    ),
    TopicSpec(
        "image_too_dark",
        "tns1:VideoSource/ImageTooDark/ImagingService",
        True,
        (("Source", _REF),),
        (("State", _BOOL),),
    ),
    TopicSpec(
        "digital_input",
        "tns1:Device/Trigger/DigitalInput",
        True,
        (("InputToken", _REF),),
        (("LogicalState", _BOOL),),
    ),
    TopicSpec(
        "relay",
        "tns1:Device/Trigger/Relay",
        True,
        (("RelayToken", _REF),),
        (("LogicalState", "tt:RelayLogicalState"),),
    ),
    TopicSpec(
        "storage_failure",
        "tns1:Device/HardwareFailure/StorageFailure",
        True,
        (("Token", _REF),),
        (("Failed", _BOOL),),
    ),
    TopicSpec(
        "last_reboot",
        "tns1:Monitoring/OperatingTime/LastReboot",
        True,
        (),
        (("Status", "xs:dateTime"),),
    ),
)
TOPICS_BY_KIND: Final[Mapping[str, TopicSpec]] = {spec.kind: spec for spec in TOPICS}


# ------------------------------------------------------------------ topic filters


@dataclass(frozen=True, slots=True)
class TopicFilter:
    """A ConcreteSet expression: alternatives joined by ``|``, each a path of
    segments where ``*`` matches any one segment and a trailing ``//.`` (or
    ``//*``) matches the node and everything below it. Prefixes are compared by
    local name only, after checking they resolve to a namespace."""

    alternatives: tuple[tuple[tuple[str, ...], bool], ...]

    @classmethod
    def parse(cls, expression: str, namespaces: Mapping[str | None, str]) -> TopicFilter:
        """Raises ``InvalidArgVal`` (``InvalidFilterFault``) for an expression it cannot read."""
        alternatives = []
        for raw in expression.split("|"):
            part = raw.strip()
            subtree = part.endswith(("//.", "//*"))
            if subtree:
                part = part[:-3]
            segments = []
            for segment in part.split("/"):
                prefix, sep, local = segment.strip().partition(":")
                if not sep:
                    local = prefix
                elif prefix not in namespaces:
                    raise _invalid_filter(f"topic filter prefix {prefix!r} is not declared")
                if not local or "/" in local:
                    raise _invalid_filter(f"topic filter {expression!r} is malformed")
                segments.append(local)
            alternatives.append((tuple(segments), subtree))
        return cls(tuple(alternatives))

    def matches(self, spec: TopicSpec) -> bool:
        topic = spec.segments
        for segments, subtree in self.alternatives:
            if len(topic) < len(segments) or (not subtree and len(topic) != len(segments)):
                continue
            if all(want in ("*", have) for want, have in zip(segments, topic, strict=False)):
                return True
        return False


def _invalid_filter(reason: str) -> DeviceFault:
    return DeviceFault(reason, subcodes=("InvalidArgVal", "InvalidFilterFault"))


def parse_termination(raw: str, now: datetime) -> datetime:
    """A ``wsnt:AbsoluteOrRelativeTimeType``: a duration from ``now`` (``PT2M``) or an
    absolute time (milliseconds and zones accepted)."""
    value = raw.strip()
    try:
        if value.startswith(("P", "-P")):
            return now + to_duration(value)
        return to_datetime(value)
    except RemoteProtocolError:
        raise DeviceFault(
            f"termination time {raw!r} is neither a duration nor a date-time",
            subcodes=("InvalidArgVal", "UnacceptableTerminationTimeFault"),
        ) from None


# ------------------------------------------------------------------ subscriptions


@dataclass(eq=False)
class PullPoint:
    """One subscription: pulled, or pushed to ``consumer`` when that is set
    (:mod:`platonicam.device.push`). ``dropped`` counts messages lost to a full queue."""

    id: str
    filter: TopicFilter | None
    termination: datetime
    queue: deque[OnvifEvent]
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: int = 0
    consumer: str | None = None

    def offer(self, event: OnvifEvent) -> None:
        if self.queue.maxlen is not None and len(self.queue) == self.queue.maxlen:
            self.dropped += 1  # deque drops the oldest on append
        self.queue.append(event)
        self.wakeup.set()

    def take(self, limit: int) -> list[OnvifEvent]:
        taken = [self.queue.popleft() for _ in range(min(limit, len(self.queue)))]
        if not self.queue:
            self.wakeup.clear()
        return taken


@dataclass(frozen=True, slots=True)
class EventLimits:
    max_pull_points: int = 16
    queue_size: int = 256
    max_wait: timedelta = timedelta(minutes=2)
    max_termination: timedelta = timedelta(hours=1)
    default_termination: timedelta = timedelta(minutes=1)


class EventHub:
    """Property states, subscriptions, and :meth:`fire`.

    ``device_time`` is the device clock (termination times are held to it).
    """

    def __init__(
        self,
        state: DeviceState,
        device_time: Callable[[], datetime],
        *,
        limits: EventLimits | None = None,
        booted_at: datetime | None = None,
    ) -> None:
        self._state = state
        self._device_time = device_time
        self.limits = limits or EventLimits()
        self._subscriptions: dict[str, PullPoint] = {}
        self._ids = itertools.count(1)
        # (kind, source values) -> data values of each property instance.
        self._properties: dict[tuple[str, tuple[str, ...]], dict[str, str]] = {}
        self._listeners: list[Callable[[OnvifEvent], None]] = []
        self._seed(booted_at or device_time())

    # -------------------------------------------------------------- states

    def _seed(self, booted_at: datetime) -> None:
        media = self._state.media
        for source in media.video_sources:
            for kind in ("motion", "tamper", "image_too_dark"):
                self._properties[(kind, (source.token,))] = {"State": "false"}
        for configuration in media.video_source_configurations:
            self._properties[
                ("cell_motion", (configuration.token, "VideoAnalytics_1", "MyMotion"))
            ] = {"IsMotion": "false"}
        for digital_input in self._state.io.inputs:
            self._properties[("digital_input", (digital_input.token,))] = {
                "LogicalState": _bool(digital_input.active)
            }
        for record in self._state.io.relays:
            self._properties[("relay", (record.relay.token,))] = {
                "LogicalState": "active" if record.active else "inactive"
            }
        self._properties[("storage_failure", ("Storage_1",))] = {"Failed": "false"}
        self._properties[("last_reboot", ())] = {"Status": format_event_time(booted_at)}

    def topics(self) -> tuple[TopicDescription, ...]:
        return tuple(spec.description() for spec in TOPICS)

    def add_listener(self, listener: Callable[[OnvifEvent], None]) -> None:
        """Call ``listener`` with every event fired (for logs, an MQTT bridge ...)."""
        self._listeners.append(listener)

    def _message(
        self,
        spec: TopicSpec,
        source: tuple[str, ...],
        data: Mapping[str, str],
        operation: PropertyOperation | None,
    ) -> OnvifEvent:
        return OnvifEvent(
            topic="/".join(spec.segments),
            topic_path=spec.path,
            raw_topic=spec.path,
            dialect=CONCRETE_SET_DIALECT,
            topic_namespace=TNS1,
            topic_namespaces={"tns1": TNS1},
            source=dict(zip((name for name, _ in spec.source), source, strict=True)),
            data=dict(data),
            utc_time=self._device_time(),
            property_operation=operation,
        )

    def _default_source(self, spec: TopicSpec) -> tuple[str, ...]:
        media = self._state.media
        if spec.kind in ("motion", "tamper", "image_too_dark"):
            return (media.video_sources[0].token,)
        if spec.kind == "cell_motion":
            return (media.video_source_configurations[0].token, "VideoAnalytics_1", "MyMotion")
        if spec.kind == "digital_input":
            return (self._state.io.inputs[0].token,)
        if spec.kind == "relay":
            return (self._state.io.relays[0].relay.token,)
        if spec.kind == "storage_failure":
            return ("Storage_1",)
        return ()

    def fire(
        self, kind: str, state: bool | str | datetime, *, source: str | None = None
    ) -> OnvifEvent | None:
        """Set a property (or raise an event) and tell every matching subscription.

        ``kind`` is a :data:`TOPICS` kind (``motion``, ``cell_motion``,
        ``tamper``, ``image_too_dark``, ``digital_input``, ``relay``,
        ``storage_failure``, ``last_reboot``); ``state`` a bool (written as the
        topic's data type: ``true``/``false``, or ``active``/``inactive`` for
        relays), a datetime, or the literal value. ``source`` is the token of
        the video source, input or relay (the first one when omitted). Returns
        the message, or ``None`` when a property already had that state (ONVIF
        sends property events on change only). Raises ``KeyError`` for an
        unknown kind or source.
        """
        self.expire()
        spec = TOPICS_BY_KIND[kind]
        default = self._default_source(spec)
        key_source = default if source is None else (source, *default[1:])
        key = (kind, key_source)
        if spec.is_property and key not in self._properties:
            raise KeyError(f"{kind} has no source {source!r}")
        data = {spec.data[0][0]: _format(spec, state)}
        if spec.is_property:
            if self._properties[key] == data:
                return None
            self._properties[key] = data
        message = self._message(
            spec, key_source, data, PropertyOperation.CHANGED if spec.is_property else None
        )
        for subscription in self._subscriptions.values():
            if subscription.filter is None or subscription.filter.matches(spec):
                subscription.offer(message)
        for listener in self._listeners:
            listener(message)
        return message

    def property_state(self, kind: str, source: str | None = None) -> dict[str, str]:
        spec = TOPICS_BY_KIND[kind]
        default = self._default_source(spec)
        key_source = default if source is None else (source, *default[1:])
        return dict(self._properties[(kind, key_source)])

    # -------------------------------------------------------------- subscriptions

    def expire(self) -> None:
        """Drop subscriptions whose termination time has passed."""
        now = self._device_time()
        for subscription_id in [s.id for s in self._subscriptions.values() if s.termination <= now]:
            del self._subscriptions[subscription_id]

    @property
    def subscription_count(self) -> int:
        self.expire()
        return len(self._subscriptions)

    def _termination(self, raw: str | None) -> datetime:
        now = self._device_time()
        if raw is None or not raw.strip():
            return now + self.limits.default_termination
        termination = parse_termination(raw, now)
        if termination <= now:
            raise DeviceFault(
                f"termination time {raw!r} is not in the future",
                subcodes=("InvalidArgVal", "UnacceptableTerminationTimeFault"),
            )
        return min(termination, now + self.limits.max_termination)

    def subscribe(
        self,
        topic_filter: TopicFilter | None,
        termination: str | None,
        *,
        consumer: str | None = None,
    ) -> PullPoint:
        """A new subscription holding the current state of every matching property
        (pushed to ``consumer`` when given, else pulled)."""
        self.expire()
        if len(self._subscriptions) >= self.limits.max_pull_points:
            raise DeviceFault(
                f"the device holds at most {self.limits.max_pull_points} subscriptions",
                code="Receiver",
                subcodes=("Action", "SubscribeCreationFailedFault"),
            )
        subscription = PullPoint(
            id=f"{next(self._ids)}",
            filter=topic_filter,
            termination=self._termination(termination),
            queue=deque(maxlen=self.limits.queue_size),
            consumer=consumer,
        )
        self._subscriptions[subscription.id] = subscription
        self.synchronize(subscription)
        return subscription

    def synchronize(self, subscription: PullPoint) -> None:
        """Queue ``Initialized`` messages for every matching property instance."""
        for (kind, source), data in self._properties.items():
            spec = TOPICS_BY_KIND[kind]
            if subscription.filter is None or subscription.filter.matches(spec):
                subscription.offer(self._message(spec, source, data, PropertyOperation.INITIALIZED))

    def get(self, subscription_id: str) -> PullPoint:
        """Raises ``ResourceUnknownFault`` for an unknown or expired subscription."""
        self.expire()
        subscription = self._subscriptions.get(subscription_id)
        if subscription is None:
            raise DeviceFault(
                f"no subscription {subscription_id!r} (unknown, unsubscribed or expired)",
                subcodes=("InvalidArgVal", "ResourceUnknownFault"),
            )
        return subscription

    def alive(self, subscription: PullPoint) -> bool:
        """Whether ``subscription`` is neither unsubscribed nor expired."""
        self.expire()
        return self._subscriptions.get(subscription.id) is subscription

    def renew(self, subscription: PullPoint, termination: str | None) -> datetime:
        subscription.termination = self._termination(termination)
        return subscription.termination

    def unsubscribe(self, subscription: PullPoint) -> None:
        self._subscriptions.pop(subscription.id, None)
        subscription.wakeup.set()  # a waiting pull returns at once

    async def pull(
        self, subscription: PullPoint, timeout: timedelta, limit: int
    ) -> list[OnvifEvent]:
        """Up to ``limit`` messages: at once when some wait, else after the first
        arrives or ``timeout`` (capped at ``limits.max_wait``) passes."""
        if limit < 1:
            raise invalid_arg(f"MessageLimit must be at least 1, got {limit}")
        if not subscription.queue:
            wait = min(max(timeout, timedelta()), self.limits.max_wait).total_seconds()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(subscription.wakeup.wait(), wait)
        return subscription.take(limit)

    def subscriptions(self) -> Iterable[PullPoint]:
        self.expire()
        return tuple(self._subscriptions.values())


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _format(spec: TopicSpec, state: bool | str | datetime) -> str:
    if isinstance(state, datetime):
        return format_event_time(state)
    if isinstance(state, bool):
        if spec.kind == "relay":
            return "active" if state else "inactive"
        return _bool(state)
    return state
