"""`platonicam camera`: read one camera over ONVIF from a terminal.

``camera info`` connects (clock, services), then reads identity, profiles with
their encoder settings and stream/snapshot URIs, and a capability summary, and
prints rich tables or one JSON document. The password comes from an environment
variable or a hidden prompt, never from the command line (where ``ps`` and shell
history would keep it), and is never printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from dataclasses import dataclass, field
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from platonicam.cli import camera_service
from platonicam.cli.errors import EXIT_CAMERA_ERROR, describe
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import OnvifError, SoapFaultError
from platonicam.onvif.models.media import MediaProfile, VideoEncoderConfiguration
from platonicam.onvif.settings import CapabilitySummary, read_capability_summary
from platonicam.onvif.transport import TlsOptions

camera_app = typer.Typer(help="Read a camera's identity, profiles and capabilities.")

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


@dataclass(slots=True)
class CameraReport:
    """Everything ``camera info`` found, in JSON-ready form."""

    target: str
    identity: dict[str, JsonValue] = field(default_factory=dict)
    clock: dict[str, JsonValue] = field(default_factory=dict)
    auth_mode: str = "none"
    services: list[JsonValue] = field(default_factory=list)
    profiles: list[JsonValue] = field(default_factory=list)
    capabilities: dict[str, JsonValue] = field(default_factory=dict)

    def as_json(self) -> dict[str, JsonValue]:
        return {
            "target": self.target,
            "identity": self.identity,
            "clock": self.clock,
            "auth_mode": self.auth_mode,
            "services": self.services,
            "profiles": self.profiles,
            "capabilities": self.capabilities,
        }


def _encoder_json(config: VideoEncoderConfiguration | None) -> dict[str, JsonValue] | None:
    if config is None:
        return None
    return {
        "token": config.token,
        "name": config.name,
        "encoding": config.encoding.value if config.encoding is not None else None,
        "width": config.resolution.width if config.resolution else None,
        "height": config.resolution.height if config.resolution else None,
        "frame_rate_limit": config.frame_rate_limit,
        "bitrate_limit_kbps": config.bitrate_limit,
        "gov_length": config.gov_length,
        "profile": config.profile,
        "quality": config.quality,
    }


def _capabilities_json(summary: CapabilitySummary) -> dict[str, JsonValue]:
    return {
        "profile_s": summary.profile_s,
        "profile_t": summary.profile_t,
        "profile_g": summary.profile_g,
        "profile_m": summary.profile_m,
        "codecs": [codec.value for codec in summary.codecs],
        "h265": summary.h265,
        "resolutions": list(
            dict.fromkeys(str(r) for rs in summary.resolutions.values() for r in rs)
        ),
        "max_resolution": str(summary.max_resolution) if summary.max_resolution else None,
        "max_fps": summary.max_fps,
        "bitrate_range_kbps": list(summary.bitrate_range_kbps)
        if summary.bitrate_range_kbps
        else None,
        "encoder_profiles": list(summary.encoder_profiles),
        "ptz": summary.ptz,
        "events": summary.events,
        "imaging": summary.imaging,
        "analytics": summary.analytics,
        "audio": summary.audio,
    }


async def _profile_json(client: OnvifClient, profile: MediaProfile) -> dict[str, JsonValue]:
    stream: str | None = None
    snapshot: str | None = None
    # A profile without video (audio or metadata only) has no stream, and
    # snapshots are optional in Profile S: a fault leaves the field empty.
    with contextlib.suppress(SoapFaultError):
        stream = (await client.media.get_stream_uri(profile.token)).uri
    with contextlib.suppress(SoapFaultError):
        snapshot = (await client.media.get_snapshot_uri(profile.token)).uri
    return {
        "token": profile.token,
        "name": profile.name,
        "encoder": _encoder_json(profile.video_encoder_configuration),
        "stream_uri": stream,
        "snapshot_uri": snapshot,
    }


async def read_report(client: OnvifClient, report: CameraReport) -> None:
    await client.connect()
    info = await client.device.get_device_information()
    report.identity = {
        "manufacturer": info.manufacturer,
        "model": info.model,
        "firmware_version": info.firmware_version,
        "serial_number": info.serial_number,
        "hardware_id": info.hardware_id,
    }
    camera_time = client.camera_time
    report.clock = {
        "camera_utc": (camera_time.utc.isoformat() if camera_time and camera_time.utc else None),
        "offset_seconds": round(client.clock_offset.total_seconds(), 3),
    }
    report.services = [
        {
            "namespace": endpoint.namespace,
            "kind": endpoint.kind.value if endpoint.kind is not None else None,
            "version": str(endpoint.version) if endpoint.version is not None else None,
            "url": endpoint.url,
        }
        for endpoint in client.services.values()
    ]
    profiles = await client.media.get_profiles()
    report.profiles = [await _profile_json(client, profile) for profile in profiles]
    report.capabilities = _capabilities_json(
        await read_capability_summary(client, profiles=profiles)
    )
    report.auth_mode = client.auth_mode


def print_report(report: CameraReport, console: Console) -> None:
    identity = Table(title=f"Camera {report.target}", show_header=False)
    identity.add_column("field")
    identity.add_column("value")
    for key, value in report.identity.items():
        identity.add_row(key.replace("_", " "), str(value))
    identity.add_row("auth", report.auth_mode)
    identity.add_row("clock offset", f"{report.clock.get('offset_seconds')} s")
    console.print(identity)

    services = Table(title="Services")
    for column in ("service", "version", "address"):
        services.add_column(column)
    for service in report.services:
        assert isinstance(service, dict)
        services.add_row(
            str(service["kind"] or service["namespace"]),
            str(service["version"] or "-"),
            str(service["url"]),
        )
    console.print(services)

    profiles = Table(title="Profiles")
    for column in ("token", "name", "encoding", "resolution", "fps", "kbps", "GOP", "H.26x"):
        profiles.add_column(column)
    uris = Table(title="Stream and snapshot URIs")
    for column in ("token", "stream", "snapshot"):
        uris.add_column(column, overflow="fold")
    for profile in report.profiles:
        assert isinstance(profile, dict)
        encoder = profile["encoder"] if isinstance(profile["encoder"], dict) else {}
        resolution = (
            f"{encoder.get('width')}x{encoder.get('height')}" if encoder.get("width") else "-"
        )
        profiles.add_row(
            str(profile["token"]),
            str(profile["name"]),
            str(encoder.get("encoding") or "-"),
            resolution,
            str(encoder.get("frame_rate_limit") or "-"),
            str(encoder.get("bitrate_limit_kbps") or "-"),
            str(encoder.get("gov_length") or "-"),
            str(encoder.get("profile") or "-"),
        )
        uris.add_row(
            str(profile["token"]),
            str(profile["stream_uri"] or "-"),
            str(profile["snapshot_uri"] or "-"),
        )
    console.print(profiles)
    console.print(uris)

    capabilities = Table(title="Capabilities", show_header=False)
    capabilities.add_column("capability")
    capabilities.add_column("value")
    for key, value in report.capabilities.items():
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        capabilities.add_row(key.replace("_", " "), shown or "-")
    console.print(capabilities)


@camera_app.command("info")
def info(
    host: Annotated[str, typer.Argument(help="The camera's address or host name.")],
    port: Annotated[int, typer.Option(help="The ONVIF HTTP(S) port.")] = 80,
    user: Annotated[str, typer.Option(help="ONVIF user name.")] = "admin",
    password_env: Annotated[
        str | None,
        typer.Option(
            "--password-env",
            metavar="VAR",
            help="Read the password from this environment variable (prompted when absent).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    https: Annotated[bool, typer.Option("--https", help="Talk HTTPS to the camera.")] = False,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Do not verify the camera's TLS certificate.")
    ] = False,
    ca_file: Annotated[
        str | None, typer.Option("--ca-file", help="Trust this CA bundle or certificate (PEM).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 10.0,
) -> None:
    """Identity, services, profiles with stream and snapshot URIs, and capabilities."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if password_env is not None:
        password = os.environ.get(password_env)
        if password is None:
            err.print(
                f"error: the environment variable {password_env} is not set. "
                f"Try: export {password_env}=... or leave out --password-env to be asked"
            )
            raise typer.Exit(EXIT_CAMERA_ERROR)
    else:
        password = typer.prompt(f"Password for {user}", hide_input=True, default="", err=True)
    target = f"{host}:{port}"
    client = OnvifClient(
        host,
        port,
        user,
        password,
        scheme="https" if https else "http",
        tls=TlsOptions(verify=not insecure, ca_file=ca_file),
        timeout=timeout,
    )
    report = CameraReport(target=target)

    async def run() -> None:
        try:
            await read_report(client, report)
        finally:
            await client.aclose()

    try:
        asyncio.run(run())
    except OnvifError as exc:
        offset = client.clock_offset if client.camera_time is not None else None
        err.print(describe(exc, target=target, clock_offset=offset).line(), markup=False)
        raise typer.Exit(EXIT_CAMERA_ERROR) from None
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        print_report(report, Console(highlight=False))


def register(app: typer.Typer) -> None:
    """Add ``platonicam camera ...`` to the app."""
    camera_service.register(camera_app)  # add, list, show, settings, apply, rollback
    app.add_typer(camera_app, name="camera")
