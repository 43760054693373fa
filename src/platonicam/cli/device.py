"""``platonicam device``: run the reference ONVIF device, fire its events, manage its users.

* ``platonicam device --bind ADDR --port P --rtsp-port R --data-dir D`` serves
  until SIGTERM or Ctrl-C (the group's callback runs when no sub-command is
  named). On the first start of an empty data folder the ``admin`` user gets
  ``$PLATONICAM_ADMIN_PASSWORD``, or a generated password that is printed once
  on standard output and never again (nor logged). The streams carry an AAC
  beep on every whole second beside the video (:mod:`platonicam.device.audio`);
  ``--no-audio`` makes them silent.
* ``platonicam device trigger motion|tamper|input N [--state on|off] --data-dir D``
  asks the device running with that folder, over its control socket, to raise
  the event.
* ``platonicam device users list|create|update|delete --data-dir D`` goes
  through the running device when there is one (it applies the change at
  once) and edits ``users.yaml`` directly otherwise.

Failures people meet (port in use, a folder that is not writable, a bad state
file, no device running) print one ``error:`` line and exit with status 2.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Final, NoReturn

import typer

from platonicam.device.control import (
    ControlError,
    JsonObject,
    NoDeviceRunning,
    control_request,
    parse_level,
    user_command,
)
from platonicam.device.faults import DeviceFault
from platonicam.device.runtime import (
    ADMIN_USER,
    DeviceRuntime,
    DeviceRuntimeError,
    IdentityOverrides,
)
from platonicam.device.security import SecurityPolicy, UserDirectory
from platonicam.device.state import DeviceState, StateFileError
from platonicam.device.streams import profile_path
from platonicam.discovery.messages import PORT

ADMIN_PASSWORD_VARIABLE: Final = "PLATONICAM_ADMIN_PASSWORD"  # noqa: S105 - a variable name
EXIT_ERROR: Final = 2


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/platonicam/device`` (``~/.local/share/platonicam/device``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "platonicam" / "device"


DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="The device's data folder (YAML state, keys, control socket). "
        "Default: $XDG_DATA_HOME/platonicam/device.",
    ),
]

app = typer.Typer(
    help="The reference ONVIF device: a software camera real ONVIF clients can use.",
    add_completion=False,
    pretty_exceptions_enable=False,
)
users_app = typer.Typer(help="List, create, update and delete the device's users.")
app.add_typer(users_app, name="users")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_ERROR)


@app.callback(invoke_without_command=True)
def serve(
    ctx: typer.Context,
    bind: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="ONVIF HTTP port (0 picks a free one).")] = 8080,
    rtsp_port: Annotated[int, typer.Option(help="RTSP port (0 picks a free one).")] = 8554,
    data_dir: DataDir = None,
    no_discovery: Annotated[
        bool, typer.Option("--no-discovery", help="Do not answer WS-Discovery.")
    ] = False,
    discovery_port: Annotated[
        int, typer.Option(help="WS-Discovery UDP port (3702 is the standard one).")
    ] = PORT,
    demo: Annotated[
        bool, typer.Option("--demo", help="Raise motion on a schedule (every 20 s).")
    ] = False,
    no_audio: Annotated[
        bool,
        typer.Option(
            "--no-audio", help="Silent streams (default: an AAC beep on every whole second)."
        ),
    ] = False,
    name: Annotated[str | None, typer.Option(help="Device name (the name/ scope).")] = None,
    location: Annotated[
        str | None, typer.Option(help="Device location (the location/ scope).")
    ] = None,
    manufacturer: Annotated[str | None, typer.Option(help="Manufacturer reported.")] = None,
    model: Annotated[str | None, typer.Option(help="Model reported (the hardware/ scope).")] = None,
    channels: Annotated[
        int,
        typer.Option(
            min=1, max=16, help="Video sources of a new data folder (an NVR has several)."
        ),
    ] = 1,
    log_level: Annotated[str, typer.Option(help="Logging level on stderr.")] = "warning",
) -> None:
    """Serve the device until stopped (SIGTERM or Ctrl-C)."""
    if ctx.invoked_subcommand is not None:
        return
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    runtime = DeviceRuntime(
        data_dir or default_data_dir(),
        bind,
        port,
        rtsp_port,
        discovery=not no_discovery,
        discovery_port=discovery_port,
        demo=demo,
        channels=channels,
        identity=IdentityOverrides(name, location, manufacturer, model),
        admin_password=os.environ.get(ADMIN_PASSWORD_VARIABLE) or None,
        audio=not no_audio,
    )
    try:
        asyncio.run(_serve(runtime))
    except DeviceRuntimeError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        pass


async def _serve(runtime: DeviceRuntime) -> None:
    # Handlers first: a SIGTERM that arrives while the device starts, or right
    # after READY, still ends it cleanly (Bye sent, exit status 0).
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, runtime.request_stop)
    async with runtime:
        state = runtime.state
        host = runtime.bind if runtime.bind not in ("0.0.0.0", "::") else "127.0.0.1"  # noqa: S104
        shown = f"[{host}]" if ":" in host else host
        lines = [
            f"PlatoniCam device {state.device.identity.model!r} is running",
            f"  ONVIF      {runtime.url()}",
        ]
        for profile in state.media.profiles:
            lines.append(
                f"  RTSP       rtsp://{shown}:{runtime.rtsp_port}{profile_path(profile.token)}"
            )
        discovery = runtime.discovery_port
        lines.append(
            f"  discovery  UDP {discovery}{' (multicast)' if runtime.multicast else ' (unicast)'}"
            if discovery is not None
            else "  discovery  off"
        )
        lines.append(f"  data       {runtime.data_dir}")
        if runtime.generated_password is not None:
            # Shown this once: the data folder keeps only hashes and a sealed copy.
            lines.append(
                f"The first administrator is {ADMIN_USER!r} with password "
                f"{runtime.generated_password} (shown only now: write it down)"
            )
        lines.append(
            f"READY port={runtime.port} rtsp_port={runtime.rtsp_port} "
            f"discovery_port={discovery if discovery is not None else 0}"
        )
        print("\n".join(lines), flush=True)
        await runtime.serve_forever(handle_signals=False)


# ------------------------------------------------------------------ trigger


@app.command()
def trigger(
    event: Annotated[str, typer.Argument(help="motion, tamper or input.")],
    number: Annotated[
        int | None, typer.Argument(help="Input number (input) or channel (motion, tamper).")
    ] = None,
    state: Annotated[
        str | None,
        typer.Option(help="on or off; without it the event is a pulse (on, off 5 s later)."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Make the running device raise an event (PullPoint subscribers get it at once)."""
    if event not in ("motion", "tamper", "input"):
        _fail(f"unknown event {event!r}. Try: motion, tamper or input N")
    if event == "input" and number is None:
        _fail("which input? Try: platonicam device trigger input 1")
    if state is not None and state not in ("on", "off"):
        _fail(f"--state must be on or off, not {state!r}")
    request: JsonObject = {
        "command": "trigger",
        "event": event,
        "number": number,
        "state": None if state is None else state == "on",
    }
    answer = _control(data_dir or default_data_dir(), request)
    fired = answer.get("fired")
    changed = ", ".join(str(k) for k in fired) if isinstance(fired, list) and fired else "nothing"
    typer.echo(f"{event}: {changed} changed")


def _control(data_dir: Path, request: JsonObject) -> JsonObject:
    try:
        return asyncio.run(control_request(data_dir, request))
    except NoDeviceRunning as exc:
        _fail(f"{exc}. Try: start it with platonicam device --data-dir {data_dir}")
    except ControlError as exc:
        _fail(str(exc))


# ------------------------------------------------------------------ users


def _users(data_dir: Path | None, request: JsonObject) -> JsonObject:
    """Through the running device when there is one, else on the files directly."""
    folder = data_dir or default_data_dir()
    try:
        return asyncio.run(control_request(folder, request))
    except NoDeviceRunning:
        pass
    except ControlError as exc:
        _fail(str(exc))
    try:
        state = DeviceState.load(folder)
        return user_command(UserDirectory(state, SecurityPolicy()), request)
    except (StateFileError, ControlError, DeviceFault) as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"data folder {folder} is not usable: {exc.strerror or exc}")


def _password(variable: str | None, *, required: bool) -> str | None:
    if variable is not None:
        value = os.environ.get(variable)
        if not value:
            _fail(f"environment variable {variable} is not set")
        return value
    if not required and not sys.stdin.isatty():
        return None
    if not sys.stdin.isatty():
        _fail("no password: give --password-env VAR (no terminal to prompt on)")
    first = getpass.getpass("Password: ")
    if not first and not required:
        return None
    if getpass.getpass("Again: ") != first:
        _fail("the passwords differ")
    return first


PasswordEnv = Annotated[
    str | None,
    typer.Option(help="Read the password from this environment variable (default: prompt)."),
]
Level = Annotated[str, typer.Option(help="Administrator, Operator or User.")]


def _print_users(answer: JsonObject) -> None:
    users = answer.get("users")
    if not isinstance(users, list):
        return
    for user in users:
        if isinstance(user, dict):
            typer.echo(f"{user.get('username')}\t{user.get('level')}")


@users_app.command("list")
def users_list(data_dir: DataDir = None) -> None:
    """List the users (name and level)."""
    _print_users(_users(data_dir, {"command": "users.list"}))


@users_app.command("create")
def users_create(
    username: str,
    level: Level = "User",
    password_env: PasswordEnv = None,
    data_dir: DataDir = None,
) -> None:
    """Create a user."""
    _check_level(level)
    password = _password(password_env, required=True)
    request: JsonObject = {
        "command": "users.create",
        "username": username,
        "level": level,
        "password": password,
    }
    _users(data_dir, request)
    typer.echo(f"created {username} ({level})")


@users_app.command("update")
def users_update(
    username: str,
    level: Annotated[
        str | None, typer.Option(help="New level: Administrator, Operator or User.")
    ] = None,
    password_env: PasswordEnv = None,
    data_dir: DataDir = None,
) -> None:
    """Change a user's level and/or password."""
    if level is not None:
        _check_level(level)
    password = _password(password_env, required=False)
    request: JsonObject = {"command": "users.update", "username": username}
    if level is not None:
        request["level"] = level
    if password is not None:
        request["password"] = password
    _users(data_dir, request)
    typer.echo(f"updated {username}")


@users_app.command("delete")
def users_delete(username: str, data_dir: DataDir = None) -> None:
    """Delete a user (the last Administrator cannot be deleted)."""
    _users(data_dir, {"command": "users.delete", "username": username})
    typer.echo(f"deleted {username}")


def _check_level(level: str) -> None:
    try:
        parse_level(level)
    except ControlError as exc:
        _fail(str(exc))


def register(root: typer.Typer) -> None:
    """Add ``platonicam device`` to the app."""
    root.add_typer(app, name="device")
