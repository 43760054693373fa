"""The device's parts put together: state, users, authentication, streams, PTZ, events.

:class:`Device` is what every handler receives (through the request context);
:func:`platonicam.device.app.create_device_app` builds one. The process
runtime (another module) holds the same object to fire events
(``device.events.fire(...)``) and to learn about reboots (``reboot`` hook).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from platonicam.clock import Clock, SystemClock
from platonicam.device.audio import AudioSettings
from platonicam.device.broker import BrokerOptions, EventBrokers
from platonicam.device.events import EventHub, EventLimits
from platonicam.device.ptz import PTZHead
from platonicam.device.push import PushDelivery, PushOptions
from platonicam.device.security import Authenticator, SecurityPolicy, UserDirectory
from platonicam.device.state import DeviceState, ptz_node_token
from platonicam.device.streams import StreamManager

RebootHook = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DeviceOptions:
    """How the device runs (not persisted).

    ``reboot`` is awaited (after ``reboot_delay`` seconds, once the answer is
    sent) when a client calls SystemReboot: the runtime restarts the services.
    Without it SystemReboot is answered but nothing restarts. ``audio`` is the
    sound the streams carry (their AAC beep, :mod:`platonicam.device.audio`),
    which the media services then advertise; ``None``: no audio.
    """

    clock: Clock = field(default_factory=SystemClock)
    security: SecurityPolicy = field(default_factory=SecurityPolicy)
    events: EventLimits = field(default_factory=EventLimits)
    brokers: BrokerOptions = field(default_factory=BrokerOptions)
    push: PushOptions = field(default_factory=PushOptions)
    reboot: RebootHook | None = None
    reboot_delay: float = 0.5
    reboot_message: str = "Rebooting in 5 seconds"
    audio: AudioSettings | None = None


class Device:
    """The reference device's live parts, shared by every request."""

    def __init__(
        self, state: DeviceState, streams: StreamManager, options: DeviceOptions | None = None
    ) -> None:
        self.state = state
        self.streams = streams
        self.options = options or DeviceOptions()
        self.clock = self.options.clock
        self.users = UserDirectory(state, self.options.security)
        self.authenticator = Authenticator(
            self.users,
            self.options.security,
            device_time=self.device_time,
            monotonic=self.clock.monotonic,
        )
        self.heads: dict[str, PTZHead] = {
            ptz_node_token(channel): PTZHead(self.clock) for channel in range(1, state.channels + 1)
        }
        self.events = EventHub(state, self.device_time, limits=self.options.events)
        self.brokers = EventBrokers(state, self.events, self.options.brokers)
        self.push = PushDelivery(self.events, self.options.push)

    def device_time(self) -> datetime:
        """The device clock: the host clock plus the offset a manual
        SetSystemDateAndTime set."""
        return self.clock.now() + timedelta(seconds=self.state.device.clock.offset_seconds)

    async def start(self) -> None:
        """Bring every encoder configuration's stream up and connect to the
        stored event brokers."""
        for configuration in self.state.media.video_encoder_configurations:
            await self.streams.configure(configuration)
        await self.brokers.start()

    async def close(self) -> None:
        """Disconnect from the event brokers and stop pushing events (the app's
        shutdown calls it)."""
        await self.brokers.close()
        await self.push.close()
