"""The service's settings: a TOML file, then ``PLATONICAM_...`` environment overrides.

Precedence, highest first: values passed to :func:`load_settings` (command-line
flags), environment variables, the TOML file, the defaults below. Nested
sections are reached in the environment with ``__``::

    PLATONICAM_HTTP__PORT=8443
    PLATONICAM_DATABASE__URL=postgresql+asyncpg://platonicam@db/platonicam
    PLATONICAM_DISCOVERY__INTERFACES='["127.0.0.1"]'     (lists are JSON)

A TOML file uses the same names as sections::

    data_dir = "/var/lib/platonicam"
    [http]
    bind = "0.0.0.0"
    port = 8080

Everything a person can get wrong (a half-written file, a port that is not a
number, an unknown key) comes back as one :class:`ConfigError` whose message
names the file and the line or the key, never as a traceback.

Secrets (the token-signing secret, the credential encryption key) are read
from the environment when set there, and otherwise from files in the data
folder that the service creates on first start (see ``platonicam.store.secrets``).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Final, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.exceptions import SettingsError

from platonicam.errors import PlatonicamError

# Re-exported: the [mqtt] section is the bridge's own settings model.
from platonicam.events.mqtt import MqttSettings as MqttSettings

#: The variable that names the config file when no path is given.
CONFIG_FILE_VARIABLE: Final = "PLATONICAM_CONFIG"

#: The database file inside the data folder when no URL is configured.
SQLITE_FILE_NAME: Final = "platonicam.db"

#: ``[events] mode``: how a camera's events are collected (``platonicam.events.mode``).
EventsModeName = Literal["auto", "pullpoint", "push"]

TomlValue = str | int | float | bool | list["TomlValue"] | dict[str, "TomlValue"]


class ConfigError(PlatonicamError):
    """The configuration cannot be used; the message names the file and line or key."""


class _Section(BaseModel):
    # Unknown keys are refused: a misspelt option silently ignored is worse than an error.
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpSettings(_Section):
    """Where the REST API listens."""

    bind: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)


class DatabaseSettings(_Section):
    """``url`` is an SQLAlchemy async URL; empty means an SQLite file in the data folder."""

    url: str = ""
    echo: bool = False


class AuthSettings(_Section):
    """Token lifetimes (seconds), login rate limits, and the optional signing secret.

    ``secret`` left empty makes the service use (and on first start create) the
    file ``jwt-secret`` in the data folder, readable by its owner only.
    """

    access_token_seconds: int = Field(default=900, ge=10)
    refresh_token_seconds: int = Field(default=14 * 24 * 3600, ge=60)
    secret: SecretStr | None = None
    #: Failed logins allowed per user name, and per client address, within the window.
    login_failures_per_user: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=20, ge=1)
    login_window_seconds: int = Field(default=300, ge=1)


class DiscoverySettings(_Section):
    """Defaults for ``GET /api/discover``.

    ``interfaces`` lists the local IPv4 addresses to send multicast probes from
    (empty: the system's default route; ``multicast = false`` sends none), and
    ``unicast_targets`` the hosts probed directly (``host`` or ``host:port``).
    """

    interfaces: list[str] = Field(default_factory=list)
    unicast_targets: list[str] = Field(default_factory=list)
    multicast: bool = True
    timeout: float = Field(default=5.0, gt=0, le=60)


class TlsSettings(_Section):
    """TLS towards cameras, and optionally for the API itself.

    ``verify_cameras`` stays on unless a person turns it off; ``ca_file`` adds
    trusted roots for cameras; ``cert_file``/``key_file`` make the API serve HTTPS.
    """

    verify_cameras: bool = True
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


#: ``[media.cameras.<id>] ingest``: our RTSP client, or FFmpeg through PyAV for odd cameras.
IngestName = Literal["rtsp", "pyav"]
#: ``[media.cameras.<id>] transport``: RTSP over the TCP connection (interleaved), or RTP over UDP.
TransportName = Literal["tcp", "udp"]


class CameraMediaSettings(_Section):
    """How the gateway reads one camera (``media.cameras.<camera id>``).

    ``always_on``: connected from the service's start (or from when the camera
    is registered) and never closed for idleness, so the first viewer finds
    the stream live; otherwise opened when the first viewer arrives.
    ``ingest``: ``rtsp`` (our client) or ``pyav`` (FFmpeg, the fallback for
    cameras our client cannot read; it carries no metadata track).
    ``transport``: ``tcp`` (interleaved on the RTSP connection) or ``udp``.
    ``stream_url``: read this ``rtsp://`` or ``rtsps://`` URL instead of the one
    the camera's GetStreamUri answers: for cameras behind NAT or port
    forwarding, whose answer names an address the service cannot reach, or
    for another profile's stream. The camera's stored login is used; the URL
    itself must not carry one.
    """

    always_on: bool = False
    ingest: IngestName = "rtsp"
    transport: TransportName = "tcp"
    stream_url: str | None = None

    @field_validator("stream_url")
    @classmethod
    def _an_rtsp_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("rtsp", "rtsps") or not parts.hostname:
            raise ValueError("must be an rtsp:// or rtsps:// URL with a host")
        if parts.username is not None or parts.password is not None:
            # A password here would end up in logs and config dumps: it belongs in
            # the camera's stored login.
            raise ValueError("must not carry a user or password (the camera's login is used)")
        return value

    @model_validator(mode="before")
    @classmethod
    def _a_table(cls, value: object) -> object:
        # Without this, pydantic names the class in its message ("instance of ...").
        if not isinstance(value, Mapping | BaseModel):
            options = ", ".join(cls.model_fields)
            raise ValueError(
                f"must be a table of options ({options}), not {json.dumps(value, default=str)}"
            )
        return value


#: The options of a camera that ``media.cameras`` does not name.
DEFAULT_CAMERA_MEDIA: Final = CameraMediaSettings()


class MediaSettings(_Section):
    """Live media: the gateway's feeds and the RTSP restream of every camera.

    The service serves ``rtsp://HOST:rtsp_port/cameras/{id}`` on ``http.bind``
    (``rtsp_port = 0`` picks a free port; ``rtsp_enabled = false`` serves no
    RTSP; see ``platonicam.service.restream``). ``rtsp_idle_timeout``: seconds
    a camera's restream stays subscribed after its last RTSP client left.
    ``idle_timeout``: seconds the gateway keeps a camera connected (its hub
    open) after its last MSE, HLS or RTSP viewer left.

    ``cameras`` sets per camera id how it is read (:class:`CameraMediaSettings`;
    a camera not named gets the defaults: on demand, our RTSP client, TCP)::

        PLATONICAM_MEDIA__CAMERAS='{"front-door": {"always_on": true, "transport": "udp"}}'

        [media.cameras.front-door]
        always_on = true
        ingest = "pyav"
    """

    rtsp_enabled: bool = True
    rtsp_port: int = Field(default=8554, ge=0, le=65535)
    rtsp_idle_timeout: float = Field(default=10.0, ge=0, le=3600)
    idle_timeout: float = Field(default=30.0, ge=0, le=3600)
    cameras: dict[str, CameraMediaSettings] = Field(default_factory=dict)

    @field_validator("cameras")
    @classmethod
    def _named_cameras(
        cls, value: dict[str, CameraMediaSettings]
    ) -> dict[str, CameraMediaSettings]:
        for camera_id in value:
            if not camera_id.strip() or camera_id != camera_id.strip():
                raise ValueError(f"{camera_id!r} is no camera id (blank or padded with spaces)")
        return value

    def camera(self, camera_id: str) -> CameraMediaSettings:
        """The options of ``camera_id`` (the defaults when ``cameras`` does not name it)."""
        return self.cameras.get(camera_id, DEFAULT_CAMERA_MEDIA)

    @property
    def always_on(self) -> frozenset[str]:
        """Ids of the cameras to keep connected whether or not anyone watches."""
        return frozenset(camera_id for camera_id, o in self.cameras.items() if o.always_on)


class EventsSettings(_Section):
    """Event collection and storage.

    ``retention_days``: stored events older than this are deleted, checked
    every ``retention_interval`` seconds. ``topic_filter``: the ConcreteSet
    expression each camera is subscribed with (empty: every topic).
    ``termination``: subscription lifetime asked for (seconds; renewed at
    80 % of it). ``pull_timeout``: PullMessages wait (seconds).
    ``reconcile_interval``: how often (seconds) the registered cameras are
    compared with the running subscriptions.

    ``mode``: how events are collected: ``pullpoint`` (we pull), ``push`` (the
    camera POSTs WS-BaseNotification ``Notify`` to
    ``push_base_url/api/events/notify/<token>``), or ``auto`` (PullPoint where
    the camera's event capabilities say ``WSPullPointSupport``, else push).
    ``camera_modes`` overrides it per camera id
    (``PLATONICAM_EVENTS__CAMERA_MODES='{"front-door": "push"}'``).
    ``push_base_url``: how cameras reach this service (``http://192.0.2.5:8080``,
    a path prefix allowed behind a proxy); empty: the bound address
    (``http.bind`` and ``http.port``; with a wildcard bind, the local address
    that routes to each camera).
    """

    retention_days: float = Field(default=30.0, gt=0)
    retention_interval: float = Field(default=3600.0, gt=0)
    topic_filter: str = ""
    termination: float = Field(default=60.0, ge=1)
    pull_timeout: float = Field(default=5.0, gt=0, le=60)
    reconcile_interval: float = Field(default=5.0, gt=0)
    backoff_initial: float = Field(default=1.0, gt=0)
    backoff_max: float = Field(default=60.0, gt=0)
    mode: EventsModeName = "auto"
    camera_modes: dict[str, EventsModeName] = Field(default_factory=dict)
    push_base_url: str = ""

    @field_validator("push_base_url")
    @classmethod
    def _reachable_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value:
            return value
        try:
            parts = urlsplit(value)
            port = parts.port
        except ValueError as error:
            raise ValueError(f"{value!r} is not a URL: {error}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must look like http://HOST[:PORT][/PATH]; {value!r} does not")
        if parts.hostname in ("0.0.0.0", "::") or port == 0:  # noqa: S104 - refused, not bound
            raise ValueError(f"{value!r} is no address a camera can reach")
        if parts.query or parts.fragment:
            raise ValueError(f"{value!r} must not have a query or fragment")
        return value


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/platonicam``, or ``~/.local/share/platonicam``."""
    base = os.environ.get("XDG_DATA_HOME")
    root = Path(base) if base else Path.home() / ".local" / "share"
    return root / "platonicam"


class _TomlSource(PydanticBaseSettingsSource):
    """Feeds the already-parsed TOML document to pydantic-settings (lowest but defaults)."""

    def __init__(self, settings_cls: type[BaseSettings], data: Mapping[str, object]) -> None:
        super().__init__(settings_cls)
        self._data = dict(data)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[object, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, object]:
        return self._data


class Settings(BaseSettings):
    """Everything ``platonicam serve`` and the store need; build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="PLATONICAM_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    http: HttpSettings = Field(default_factory=HttpSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    discovery: DiscoverySettings = Field(default_factory=DiscoverySettings)
    tls: TlsSettings = Field(default_factory=TlsSettings)
    #: The MQTT bridge (``platonicam.events.mqtt``); ``PLATONICAM_MQTT__URL`` enables it.
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    events: EventsSettings = Field(default_factory=EventsSettings)
    #: Live media: the RTSP restream (``PLATONICAM_MEDIA__RTSP_PORT``).
    media: MediaSettings = Field(default_factory=MediaSettings)
    #: A Fernet key (urlsafe base64, 32 bytes) for camera passwords; empty: the
    #: file ``credentials.key`` in the data folder.
    credentials_key: SecretStr | None = None
    #: Where these settings came from (for messages); not a setting itself.
    config_file: Path | None = None

    @model_validator(mode="after")
    def _default_database_url(self) -> Settings:
        if not self.database.url:
            url = f"sqlite+aiosqlite:///{self.data_dir / SQLITE_FILE_NAME}"
            # The model is frozen; this runs once while it is being built.
            object.__setattr__(self, "database", self.database.model_copy(update={"url": url}))
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings hands the parsed file over through a context variable (the
        # sources are built per class, not per call), so "flags > env > file" holds.
        # No .env files and no secrets directory: the data folder holds the secrets.
        return (init_settings, env_settings, _TomlSource(settings_cls, _FILE_DATA.get() or {}))


_FILE_DATA: ContextVar[Mapping[str, object] | None] = ContextVar(
    "platonicam_config_file", default=None
)
_TOML_POSITION = re.compile(r"^(?P<what>.*?)\s*\(at line (?P<line>\d+), column (?P<col>\d+)\)$")


def read_toml(path: Path) -> dict[str, TomlValue]:
    """The TOML document at ``path``.

    Raises :class:`ConfigError` naming the file (and the line and column for a
    syntax error) when it cannot be read or parsed.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"config file {path} cannot be read: {error}") from None
    try:
        document: dict[str, TomlValue] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = _TOML_POSITION.match(str(error))
        if match is None:
            raise ConfigError(f"{path}: not valid TOML: {error}") from None
        what = match["what"]
        raise ConfigError(
            f"{path}, line {match['line']}, column {match['col']}: not valid TOML: "
            f"{what[:1].lower()}{what[1:]}"
        ) from None
    return document


def load_settings(
    config_file: Path | str | None = None,
    **overrides: object,
) -> Settings:
    """Settings from ``config_file`` (or ``$PLATONICAM_CONFIG``), the environment, and flags.

    ``overrides`` are top-level fields (``data_dir=...``, ``http={"port": 0}``) and
    win over everything else; ``None`` values are ignored so command-line options
    that were not given can be passed straight through. ``environ`` replaces
    ``os.environ`` (tests).

    Raises :class:`ConfigError` with a message naming the file and line (syntax)
    or the key and its source (a value of the wrong type, an unknown key).
    """
    env = os.environ
    if config_file is None and env.get(CONFIG_FILE_VARIABLE):
        config_file = env[CONFIG_FILE_VARIABLE]
    path = Path(config_file) if config_file is not None else None
    file_data: dict[str, TomlValue] = read_toml(path) if path is not None else {}
    given = {key: value for key, value in overrides.items() if value is not None}
    if path is not None:
        given["config_file"] = path
    token = _FILE_DATA.set(file_data)
    try:
        # Keyword arguments, not model_validate: only __init__ consults the sources.
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(_describe_validation(error, path, file_data, env)) from None
    except SettingsError as error:  # a variable that should hold JSON does not
        raise ConfigError(_describe_settings_error(error, env)) from None
    finally:
        _FILE_DATA.reset(token)


def _describe_validation(
    error: ValidationError,
    path: Path | None,
    file_data: Mapping[str, TomlValue],
    env: Mapping[str, str],
) -> str:
    lines = []
    for item in error.errors():
        location = [str(part) for part in item["loc"]]
        key = ".".join(location)
        variable = _variable_of(location, env)
        if variable is not None:
            source = f"environment variable {variable}"
        elif path is not None and _in_document(file_data, location):
            line = _line_of(path, location)
            source = f"{path}" + (f", line {line}" if line else "")
        else:
            source = "settings"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling and the section)"
        lines.append(f"{source}: {key}: {message}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def _variable_of(location: list[str], env: Mapping[str, str]) -> str | None:
    """The environment variable that set ``location``: itself, or the nearest enclosing
    one holding JSON (``PLATONICAM_MEDIA__CAMERAS`` for ``media.cameras.cam-1.ingest``)."""
    for end in range(len(location), 0, -1):
        variable = "PLATONICAM_" + "__".join(part.upper() for part in location[:end])
        if variable in env:
            return variable
    return None


def _describe_settings_error(error: SettingsError, env: Mapping[str, str]) -> str:
    """pydantic-settings names only the section whose variable was not JSON: name the variable."""
    field = re.search(r'field "(\w+)" from source "EnvSettingsSource"', str(error))
    if field is not None:
        prefix = "PLATONICAM_" + field[1].upper()
        for variable, value in sorted(env.items()):
            if variable != prefix and not variable.startswith(prefix + "__"):
                continue
            if not value.lstrip().startswith(("{", "[")):
                continue
            try:
                json.loads(value)
            except ValueError as bad:
                return (
                    f"invalid configuration: environment variable {variable}: not valid JSON: {bad}"
                )
    return f"invalid configuration: {error}"


def _in_document(document: Mapping[str, TomlValue], location: list[str]) -> bool:
    node: object = document
    for part in location:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _line_of(path: Path, location: list[str]) -> int | None:
    """The line that sets ``location`` (``[section]`` then ``key =``), best effort."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    section: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        header = re.match(r"^\[([^\[\]]+)\]", stripped)
        if header:
            section = [part.strip().strip('"') for part in header[1].split(".")]
            continue
        assignment = re.match(r"^([A-Za-z0-9_.\"-]+)\s*=", stripped)
        if assignment:
            key = [part.strip().strip('"') for part in assignment[1].split(".")]
            if section + key == location[: len(section) + len(key)]:
                return number
    return None
