"""Home Assistant MQTT discovery: each camera's motion, tamper and inputs as binary sensors.

Home Assistant's MQTT integration creates an entity for every retained config
message on ``<discovery_prefix>/<component>/[<node_id>/]<object_id>/config``
(documented at https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery
and, for the keys, https://www.home-assistant.io/integrations/binary_sensor.mqtt/).
We publish one per sensor of a camera, under ``binary_sensor``:

- ``node_id`` is ``platonicam_<camera>``, ``object_id`` the kind plus the port
  for inputs (``motion``, ``digital_input_1``); both limited to
  ``[a-zA-Z0-9_-]`` as Home Assistant requires, with a short hash of the
  camera id added when slugging changed it, so two cameras never share one;
- ``state_topic`` is the bridge's topic for that kind
  (:func:`platonicam.events.mqtt.state_topic`); its JSON payload is read with
  a ``value_template`` that turns ``state`` into ``ON``/``OFF``
  (``payload_on``/``payload_off``), and the whole payload becomes the entity's
  attributes (``json_attributes_topic``);
- ``availability_topic`` is the bridge's ``<prefix>status``;
- ``device`` groups a camera's sensors under one device (identifiers,
  manufacturer, model, name).

Removing a camera publishes an empty retained payload on each of its config
topics, which is how discovery says "delete this entity". The configs live in
the bridge's retained registry, so a broker that restarted gets them again,
and they are sent again when Home Assistant announces itself (``online`` on
``<discovery_prefix>/status``) after its own restart.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from platonicam import __version__
from platonicam.events.model import EventKind, JsonValue
from platonicam.events.mqtt import IncomingMessage, MqttBridge, MqttSettings, state_topic

__all__ = [
    "DEVICE_CLASSES",
    "HaCamera",
    "HaSensor",
    "HomeAssistantDiscovery",
    "discovery_messages",
    "discovery_topic",
    "node_id",
    "sensor_config",
]

#: The binary-sensor ``device_class`` per kind (``None``: Home Assistant's generic
#: on/off). Only these kinds can be announced.
DEVICE_CLASSES: Final[Mapping[EventKind, str | None]] = {
    EventKind.MOTION: "motion",
    EventKind.TAMPER: "tamper",
    EventKind.DIGITAL_INPUT: None,
    EventKind.RELAY: "power",
    EventKind.PERSON: "occupancy",
    EventKind.VEHICLE: "motion",
    EventKind.ANIMAL: "motion",
    EventKind.INTRUSION: "safety",
    EventKind.LOITERING: "occupancy",
    EventKind.SOUND: "sound",
    EventKind.STORAGE_FAILURE: "problem",
    EventKind.VIDEO_LOSS: "problem",
    EventKind.DAY_NIGHT: "light",
}

_NAMES: Final[Mapping[EventKind, str]] = {
    EventKind.MOTION: "Motion",
    EventKind.TAMPER: "Tamper",
    EventKind.DIGITAL_INPUT: "Input",
    EventKind.RELAY: "Relay",
    EventKind.PERSON: "Person",
    EventKind.VEHICLE: "Vehicle",
    EventKind.ANIMAL: "Animal",
    EventKind.INTRUSION: "Intrusion",
    EventKind.LOITERING: "Loitering",
    EventKind.SOUND: "Sound",
    EventKind.STORAGE_FAILURE: "Storage failure",
    EventKind.VIDEO_LOSS: "Video loss",
    EventKind.DAY_NIGHT: "Daylight",
}

_COMPONENT: Final = "binary_sensor"
_UNSAFE: Final = re.compile(r"[^a-zA-Z0-9_-]")


@dataclass(frozen=True, slots=True)
class HaSensor:
    """One binary sensor of a camera: a kind, and for inputs/relays the port token.

    Raises :class:`ValueError` for a kind that is not on/off (see :data:`DEVICE_CLASSES`).
    """

    kind: EventKind
    port: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in DEVICE_CLASSES:
            raise ValueError(f"{self.kind.value!r} events are not a binary sensor")

    @property
    def object_id(self) -> str:
        base = self.kind.value
        return base if self.port is None else f"{base}_{_slug(self.port)}"

    @property
    def name(self) -> str:
        base = _NAMES[self.kind]
        return base if self.port is None else f"{base} {self.port}"


@dataclass(frozen=True, slots=True)
class HaCamera:
    """What Home Assistant is told about a camera (its device block and sensors)."""

    camera_id: str
    name: str
    manufacturer: str | None = None
    model: str | None = None
    sw_version: str | None = None
    serial_number: str | None = None
    sensors: tuple[HaSensor, ...] = (HaSensor(EventKind.MOTION), HaSensor(EventKind.TAMPER))

    @classmethod
    def of(
        cls,
        camera_id: str,
        name: str,
        *,
        inputs: Iterable[str] = (),
        relays: Iterable[str] = (),
        kinds: Iterable[EventKind] = (EventKind.MOTION, EventKind.TAMPER),
        manufacturer: str | None = None,
        model: str | None = None,
        sw_version: str | None = None,
        serial_number: str | None = None,
    ) -> HaCamera:
        """A camera with one sensor per kind in ``kinds``, plus one per input and relay token."""
        sensors = [HaSensor(kind) for kind in kinds]
        sensors += [HaSensor(EventKind.DIGITAL_INPUT, token) for token in inputs]
        sensors += [HaSensor(EventKind.RELAY, token) for token in relays]
        return cls(
            camera_id=camera_id,
            name=name,
            manufacturer=manufacturer,
            model=model,
            sw_version=sw_version,
            serial_number=serial_number,
            sensors=tuple(sensors),
        )


def _slug(text: str) -> str:
    return _UNSAFE.sub("_", text) or "_"


def node_id(camera_id: str) -> str:
    """``platonicam_<camera>`` in Home Assistant's ``[a-zA-Z0-9_-]`` alphabet, unique per id."""
    slug = _slug(camera_id)
    if slug != camera_id:
        slug += "_" + hashlib.sha256(camera_id.encode()).hexdigest()[:8]
    return f"platonicam_{slug}"


def discovery_topic(settings: MqttSettings, camera_id: str, sensor: HaSensor) -> str:
    """``<discovery_prefix>/binary_sensor/<node_id>/<object_id>/config``."""
    return (
        f"{settings.discovery_prefix}/{_COMPONENT}/{node_id(camera_id)}/{sensor.object_id}/config"
    )


def sensor_config(
    settings: MqttSettings, camera: HaCamera, sensor: HaSensor
) -> dict[str, JsonValue]:
    """The discovery payload of one sensor (see the module docstring for the keys)."""
    device: dict[str, JsonValue] = {
        "identifiers": [node_id(camera.camera_id)],
        "name": camera.name,
    }
    for key, value in (
        ("manufacturer", camera.manufacturer),
        ("model", camera.model),
        ("sw_version", camera.sw_version),
        ("serial_number", camera.serial_number),
    ):
        if value:
            device[key] = value
    topic = state_topic(settings.topic_prefix, camera.camera_id, sensor.kind, sensor.port)
    config: dict[str, JsonValue] = {
        "name": sensor.name,
        "unique_id": f"{node_id(camera.camera_id)}_{sensor.object_id}",
        "state_topic": topic,
        "value_template": "{{ 'ON' if value_json.state else 'OFF' }}",
        "payload_on": "ON",
        "payload_off": "OFF",
        "json_attributes_topic": topic,
        "availability_topic": settings.status_topic,
        "payload_available": "online",
        "payload_not_available": "offline",
        "qos": settings.qos,
        "device": device,
        "origin": {"name": "PlatoniCam", "sw_version": __version__},
    }
    device_class = DEVICE_CLASSES[sensor.kind]
    if device_class is not None:
        config["device_class"] = device_class
    return config


def discovery_messages(settings: MqttSettings, camera: HaCamera) -> list[tuple[str, bytes]]:
    """``(topic, payload)`` of every sensor's config, in the camera's sensor order."""
    return [
        (
            discovery_topic(settings, camera.camera_id, sensor),
            json.dumps(sensor_config(settings, camera, sensor), separators=(",", ":")).encode(),
        )
        for sensor in camera.sensors
    ]


class HomeAssistantDiscovery:
    """Keeps Home Assistant's view of the cameras in step, through a :class:`MqttBridge`.

    :meth:`announce` (again after a change: sensors that went away are
    removed), :meth:`remove` when a camera is deleted. :meth:`start` listens
    for Home Assistant's ``online`` birth message to announce everything again.
    """

    def __init__(self, bridge: MqttBridge) -> None:
        self._bridge = bridge
        self._settings = bridge.settings
        self._topics: dict[str, set[str]] = {}

    async def start(self) -> None:
        await self._bridge.add_listener(f"{self._settings.discovery_prefix}/status", self._birth)

    async def _birth(self, message: IncomingMessage) -> None:
        if message.payload.strip() == b"online":
            self._bridge.republish_retained(
                topic for topics in self._topics.values() for topic in topics
            )

    def announce(self, camera: HaCamera) -> None:
        """Publish (retained) the configs of ``camera``'s sensors; clear dropped ones."""
        messages = discovery_messages(self._settings, camera)
        fresh = {topic for topic, _ in messages}
        for topic in self._topics.get(camera.camera_id, set()) - fresh:
            self._bridge.clear_retained(topic)
        for topic, payload in messages:
            self._bridge.set_retained(topic, payload)
        self._topics[camera.camera_id] = fresh

    def remove(self, camera: HaCamera | str) -> None:
        """Delete a camera's entities (empty retained configs) and its retained states.

        Given a :class:`HaCamera`, its sensors' configs are cleared even when
        this process never announced them (a camera deleted after a restart).
        """
        camera_id = camera if isinstance(camera, str) else camera.camera_id
        topics = self._topics.pop(camera_id, set())
        if isinstance(camera, HaCamera):
            topics |= {topic for topic, _ in discovery_messages(self._settings, camera)}
        for topic in sorted(topics):
            self._bridge.clear_retained(topic)
        self._bridge.forget_camera(camera_id)

    @property
    def cameras(self) -> frozenset[str]:
        return frozenset(self._topics)
