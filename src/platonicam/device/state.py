"""The reference device's persistent state: YAML files in one data folder.

Strategy: one file per concern, so a change rewrites only what changed and a
person can read and edit each by hand:

================  ===========================================================
``device.yaml``   identity, hostname, scopes, discovery mode, clock, DNS, NTP
``media.yaml``    video sources, source and encoder configurations, profiles
``imaging.yaml``  imaging settings per video source
``ptz.yaml``      presets and home position per PTZ node
``users.yaml``    accounts (hashes and sealed secrets, never plain passwords)
``io.yaml``       relay outputs and digital inputs, with their current state
``events.yaml``   Profile M event brokers (AddEventBroker; mode 0600: passwords)
``device.key``    the per-device key that seals user secrets (mode 0600)
================  ===========================================================

The file schemas are pydantic models whose fields are the *same* frozen
dataclasses the ONVIF client parses (pydantic validates stdlib dataclasses),
so a configuration is stored exactly as the device answers it. Loading
validates every file; a bad one raises :class:`StateFileError` naming the file
and the field, never a traceback. Writing is atomic (temporary file in the same
folder, fsync, rename, fsync of the folder): after a power cut each file holds
either its old or its new content.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Final, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from platonicam import __version__
from platonicam.errors import PlatonicamError
from platonicam.onvif.errors import LocalProtocolError
from platonicam.onvif.models.common import Resolution
from platonicam.onvif.models.device import (
    DateTimeType,
    DiscoveryMode,
    DNSInformation,
    NTPInformation,
    RelayIdleState,
    RelayMode,
    RelayOutput,
    UserLevel,
)
from platonicam.onvif.models.events import EventBroker
from platonicam.onvif.models.imaging import (
    AutoFocusMode,
    BacklightCompensation,
    BacklightCompensationMode,
    Exposure,
    ExposureMode,
    Focus,
    ImagingSettings,
    IrCutFilterMode,
    WhiteBalance,
    WhiteBalanceMode,
    WideDynamicMode,
    WideDynamicRange,
)
from platonicam.onvif.models.media import (
    MediaProfile,
    MulticastConfiguration,
    Rectangle,
    VideoEncoderConfiguration,
    VideoEncoding,
    VideoSource,
    VideoSourceConfiguration,
)
from platonicam.onvif.models.ptz import PTZPreset, PTZVector

FileName = Literal["device", "media", "imaging", "ptz", "users", "io", "events"]
FILE_NAMES: Final[tuple[FileName, ...]] = (
    "device",
    "media",
    "imaging",
    "ptz",
    "users",
    "io",
    "events",
)
#: Files holding secrets, written with mode 0600.
_PRIVATE: Final[frozenset[FileName]] = frozenset({"users", "events"})
KEY_FILE: Final = "device.key"


class StateFileError(PlatonicamError):
    """A state file that cannot be read: the message names the file and the field."""


# ------------------------------------------------------------------ atomic files


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` so that a crash at any moment leaves either the
    old or the new content: temp file in the same folder, fsync, rename, fsync the
    folder (the rename itself must reach the disk)."""
    directory = path.parent
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _clean_leftovers(directory: Path) -> None:
    # Temp files of writes a crash interrupted: never renamed, so never current.
    for leftover in directory.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()


# ------------------------------------------------------------------ file schemas


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Identity(_File):
    """Who the device says it is (GetDeviceInformation, discovery scopes)."""

    manufacturer: str = "PlatoniCam"
    model: str = "Reference Camera"
    firmware_version: str = __version__
    serial_number: str = Field(default_factory=lambda: secrets.token_hex(6).upper())
    hardware_id: str = "PCAM-REF-1"
    endpoint_uuid: str = Field(default_factory=lambda: str(uuid.uuid4()))


class ClockSettings(_File):
    """The device clock is the host's clock plus ``offset_seconds`` (set by a
    manual SetSystemDateAndTime; NTP mode resets it to zero)."""

    date_time_type: DateTimeType = DateTimeType.NTP
    daylight_savings: bool = False
    time_zone: str = "UTC0"
    offset_seconds: float = 0.0


def _default_scopes() -> list[str]:
    return [
        "onvif://www.onvif.org/name/PlatoniCam",
        "onvif://www.onvif.org/location/unknown",
    ]


class DeviceFile(_File):
    identity: Identity = Field(default_factory=Identity)
    hostname: str = "platonicam"
    hostname_from_dhcp: bool = False
    #: The configurable scopes (SetScopes replaces them); fixed ones are derived.
    scopes: list[str] = Field(default_factory=_default_scopes)
    discovery_mode: DiscoveryMode = DiscoveryMode.DISCOVERABLE
    clock: ClockSettings = Field(default_factory=ClockSettings)
    dns: DNSInformation = DNSInformation(from_dhcp=True)
    ntp: NTPInformation = NTPInformation(from_dhcp=True)


class MediaFile(_File):
    video_sources: list[VideoSource] = Field(default_factory=list)
    video_source_configurations: list[VideoSourceConfiguration] = Field(default_factory=list)
    video_encoder_configurations: list[VideoEncoderConfiguration] = Field(default_factory=list)
    profiles: list[MediaProfile] = Field(default_factory=list)


class ImagingFile(_File):
    settings: dict[str, ImagingSettings] = Field(default_factory=dict)


class PTZFile(_File):
    """Presets and home position per PTZ node token."""

    presets: dict[str, list[PTZPreset]] = Field(default_factory=dict)
    home: dict[str, PTZVector] = Field(default_factory=dict)


class UserRecord(_File):
    """One account. ``argon2`` verifies plain passwords (PasswordText, HTTP Basic);
    ``ha1`` answers HTTP Digest; ``sealed`` is the password encrypted with the
    device key, which WS-Security PasswordDigest needs (see ADR 0003)."""

    username: str = Field(min_length=1)
    level: UserLevel
    argon2: str
    ha1: str
    sealed: str


class UsersFile(_File):
    users: list[UserRecord] = Field(default_factory=list)


class DigitalInputRecord(_File):
    token: str
    idle_state: RelayIdleState = RelayIdleState.OPEN
    active: bool = False


class RelayRecord(_File):
    relay: RelayOutput
    active: bool = False


class IOFile(_File):
    relays: list[RelayRecord] = Field(default_factory=list)
    inputs: list[DigitalInputRecord] = Field(default_factory=list)


class EventsFile(_File):
    """Profile M event brokers, as AddEventBroker gave them (passwords included:
    the device logs in with them; ``Status`` is live, never stored)."""

    brokers: list[EventBroker] = Field(default_factory=list)


_SCHEMAS: Final[dict[FileName, type[_File]]] = {
    "device": DeviceFile,
    "media": MediaFile,
    "imaging": ImagingFile,
    "ptz": PTZFile,
    "users": UsersFile,
    "io": IOFile,
    "events": EventsFile,
}

_M = TypeVar("_M", bound=_File)


# ------------------------------------------------------------------ defaults


#: Tokens of the defaults, per channel ``n`` (1-based).
def source_token(channel: int) -> str:
    return f"VideoSource_{channel}"


def source_configuration_token(channel: int) -> str:
    return f"VideoSourceConfig_{channel}"


def ptz_configuration_token(channel: int) -> str:
    return f"PTZConfig_{channel}"


def ptz_node_token(channel: int) -> str:
    return f"PTZNode_{channel}"


MAIN_RESOLUTION: Final = Resolution(1920, 1080)
SUB_RESOLUTION: Final = Resolution(640, 360)


def _encoder(
    token: str, name: str, encoding: VideoEncoding, resolution: Resolution, bitrate: int, index: int
) -> VideoEncoderConfiguration:
    return VideoEncoderConfiguration(
        token=token,
        name=name,
        use_count=1,
        encoding=encoding,
        resolution=resolution,
        quality=70,
        frame_rate_limit=25,
        encoding_interval=1,
        bitrate_limit=bitrate,
        gov_length=50,
        profile="Main" if encoding is VideoEncoding.H265 else "High",
        multicast=MulticastConfiguration(f"239.255.42.{index}", 0, 1, False),
        session_timeout=timedelta(seconds=60),
    )


def default_media(channels: int = 1) -> MediaFile:
    """Per channel: a 1920x1080 source, main (H.264 1080p) and sub (H.264 360p)
    profiles for Profile S and T clients, and an H.265 profile only Media2 lists."""
    media = MediaFile()
    index = 0
    for channel in range(1, channels + 1):
        source = VideoSource(source_token(channel), 25.0, MAIN_RESOLUTION)
        source_config = VideoSourceConfiguration(
            token=source_configuration_token(channel),
            name=f"Video source {channel}",
            use_count=3,
            source_token=source.token,
            bounds=Rectangle(0, 0, MAIN_RESOLUTION.width, MAIN_RESOLUTION.height),
        )
        media.video_sources.append(source)
        media.video_source_configurations.append(source_config)
        for kind, encoding, resolution, bitrate in (
            ("main", VideoEncoding.H264, MAIN_RESOLUTION, 4096),
            ("sub", VideoEncoding.H264, SUB_RESOLUTION, 512),
            ("h265", VideoEncoding.H265, MAIN_RESOLUTION, 2048),
        ):
            index += 1
            encoder = _encoder(
                f"VideoEncoder_{channel}_{kind}",
                f"{kind} stream {channel}",
                encoding,
                resolution,
                bitrate,
                index,
            )
            media.video_encoder_configurations.append(encoder)
            media.profiles.append(
                MediaProfile(
                    token=f"Profile_{channel}_{kind}",
                    name=f"{kind}_{channel}",
                    fixed=True,
                    video_source_configuration=source_config,
                    video_encoder_configuration=encoder,
                    ptz_configuration_token=ptz_configuration_token(channel),
                )
            )
    return media


def default_imaging_settings() -> ImagingSettings:
    return ImagingSettings(
        backlight_compensation=BacklightCompensation(BacklightCompensationMode.OFF, 0.0),
        brightness=50.0,
        color_saturation=50.0,
        contrast=50.0,
        exposure=Exposure(
            mode=ExposureMode.AUTO,
            min_exposure_time=100.0,
            max_exposure_time=40000.0,
            min_gain=0.0,
            max_gain=48.0,
            exposure_time=10000.0,
            gain=0.0,
        ),
        focus=Focus(AutoFocusMode.AUTO, default_speed=1.0, near_limit=0.5, far_limit=100.0),
        ir_cut_filter=IrCutFilterMode.AUTO,
        sharpness=50.0,
        wide_dynamic_range=WideDynamicRange(WideDynamicMode.OFF, 50.0),
        white_balance=WhiteBalance(WhiteBalanceMode.AUTO, 128.0, 128.0),
    )


def default_io(inputs: int = 4, relays: int = 4) -> IOFile:
    return IOFile(
        relays=[
            RelayRecord(
                relay=RelayOutput(
                    f"RelayOutput_{n}", RelayMode.BISTABLE, timedelta(), RelayIdleState.OPEN
                )
            )
            for n in range(1, relays + 1)
        ],
        inputs=[DigitalInputRecord(token=f"DigitalInput_{n}") for n in range(1, inputs + 1)],
    )


def _defaults(name: FileName, channels: int) -> _File:
    if name == "media":
        return default_media(channels)
    if name == "imaging":
        return ImagingFile(
            settings={
                source_token(channel): default_imaging_settings()
                for channel in range(1, channels + 1)
            }
        )
    if name == "io":
        return default_io()
    return _SCHEMAS[name]()


# ------------------------------------------------------------------ loading


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:3]:
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        parts.append(f"{where}: {item['msg']}")
    more = f" (and {error.error_count() - 3} more)" if error.error_count() > 3 else ""
    return "; ".join(parts) + more


def load_file(path: Path, schema: type[_M]) -> _M:
    """Read and validate one YAML file. Raises :class:`StateFileError` naming the
    file and, for schema errors, the field."""
    try:
        raw = yaml.safe_load(path.read_bytes())
    except OSError as exc:
        raise StateFileError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise StateFileError(f"{path}: not valid YAML{where}") from None
    try:
        return schema.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        raise StateFileError(f"{path}: {_describe(exc)}") from None
    except (LocalProtocolError, ValueError, TypeError) as exc:
        # Model invariants (__post_init__) that pydantic does not wrap.
        raise StateFileError(f"{path}: {exc}") from None


def dump_yaml(model: BaseModel) -> bytes:
    data = model.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()


# ------------------------------------------------------------------ the state


class DeviceState:
    """Everything the device remembers, in memory, saved file by file.

    Handlers change the attributes and call :meth:`save` with the file name;
    each save is atomic. Single-threaded use (the app's event loop) is assumed.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        device: DeviceFile,
        media: MediaFile,
        imaging: ImagingFile,
        ptz: PTZFile,
        users: UsersFile,
        io: IOFile,
        events: EventsFile | None = None,
        on_change: Callable[[FileName], None] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.device = device
        self.media = media
        self.imaging = imaging
        self.ptz = ptz
        self.users = users
        self.io = io
        # Callers written before events.yaml existed pass no ``events``: read
        # what is on disk rather than forget the brokers on the next save.
        self.events = events if events is not None else _load_events(data_dir)
        self._on_change = on_change

    @classmethod
    def load(cls, data_dir: Path | str, *, channels: int = 1) -> DeviceState:
        """Load the data folder, creating it and any missing file with defaults
        (``channels`` video sources for a fresh media file). No user is created:
        there is no default password (see :mod:`platonicam.device.security`).

        Raises :class:`StateFileError` for a file that does not validate.
        """
        if channels < 1:
            raise StateFileError(f"channels must be at least 1, got {channels}")
        folder = Path(data_dir)
        folder.mkdir(parents=True, exist_ok=True)
        _clean_leftovers(folder)
        loaded: dict[FileName, _File] = {}
        for name in FILE_NAMES:
            path = folder / f"{name}.yaml"
            if path.exists():
                loaded[name] = load_file(path, _SCHEMAS[name])
            else:
                loaded[name] = _defaults(name, channels)
                write_atomic(
                    path, dump_yaml(loaded[name]), mode=0o600 if name in _PRIVATE else 0o644
                )
        return cls(
            folder,
            device=_as(loaded["device"], DeviceFile),
            media=_as(loaded["media"], MediaFile),
            imaging=_as(loaded["imaging"], ImagingFile),
            ptz=_as(loaded["ptz"], PTZFile),
            users=_as(loaded["users"], UsersFile),
            io=_as(loaded["io"], IOFile),
            events=_as(loaded["events"], EventsFile),
        )

    def path(self, name: FileName) -> Path:
        return self.data_dir / f"{name}.yaml"

    def save(self, name: FileName) -> None:
        """Write one file atomically (users.yaml and events.yaml with mode 0600)."""
        model = getattr(self, name)
        assert isinstance(model, _File)
        write_atomic(self.path(name), dump_yaml(model), mode=0o600 if name in _PRIVATE else 0o644)
        if self._on_change is not None:
            self._on_change(name)

    # -------------------------------------------------------------- media look-ups

    def profile(self, token: str) -> MediaProfile | None:
        return next((p for p in self.media.profiles if p.token == token), None)

    def encoder(self, token: str) -> VideoEncoderConfiguration | None:
        return next((e for e in self.media.video_encoder_configurations if e.token == token), None)

    def source_configuration(self, token: str) -> VideoSourceConfiguration | None:
        return next((c for c in self.media.video_source_configurations if c.token == token), None)

    def video_source(self, token: str) -> VideoSource | None:
        return next((s for s in self.media.video_sources if s.token == token), None)

    @property
    def channels(self) -> int:
        return len(self.media.video_sources)


def _load_events(data_dir: Path) -> EventsFile:
    path = data_dir / "events.yaml"
    return load_file(path, EventsFile) if path.exists() else EventsFile()


def _as(model: _File, schema: type[_M]) -> _M:
    assert isinstance(model, schema)
    return model
