"""`platonicam camera add|list|show|settings|apply|rollback`: cameras through the service.

These commands talk to a running ``platonicam serve`` over its REST API (see
:mod:`platonicam.cli.service_client` for the address, login and token cache),
unlike ``camera info``, which talks to a camera directly over ONVIF.

Every command takes ``--server URL``, ``--user NAME`` and the login password
from ``--login-password-env VAR`` (or the hidden prompt when a login is
needed); every command but ``add`` also accepts it as ``--password-env VAR``.
``add`` uses ``--password-env`` for the *camera's* password, as ``camera
info`` does, so that option cannot name the login password there.

``--json`` prints the service's JSON answer as one document on standard
output (progress, if any, goes to standard error). Exit status: 0 when done,
1 when an apply or rollback ran but did not fully take (``failed`` or
``partial``), 2 when the service refused or could not be reached (one
``error:`` line on standard error, no traceback).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Annotated, Final, TypeVar
from urllib.parse import quote

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from platonicam.cli.service_client import (
    EXIT_SERVICE_ERROR,
    JsonObject,
    JsonValue,
    ServiceClient,
    ServiceError,
    server_url,
)

#: Exit status when a job ran and ended ``failed`` or ``partial``.
EXIT_JOB_NOT_DONE: Final = 1
#: How often the apply progress is polled, in seconds.
POLL_INTERVAL: Final = 0.2
FINISHED: Final = frozenset({"completed", "failed", "partial"})

T = TypeVar("T")

Server = Annotated[
    str | None,
    typer.Option(
        "--server",
        metavar="URL",
        help="The service's address (default $PLATONICAM_SERVER or http://127.0.0.1:8080).",
    ),
]
User = Annotated[
    str,
    typer.Option("--user", envvar="PLATONICAM_USER", help="The service user to log in as."),
]
LoginPasswordEnv = Annotated[
    str | None,
    typer.Option(
        "--password-env",
        "--login-password-env",
        metavar="VAR",
        help="Read the service login password from this environment variable "
        "(prompted when a login is needed and this is absent).",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the answer as one JSON document.")]


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, highlight=False, soft_wrap=True).print(message, markup=False)
    return typer.Exit(EXIT_SERVICE_ERROR)


def _password_source(user: str, variable: str | None) -> Callable[[], str]:
    """Reads the login password once, when first needed; never echoed."""
    remembered: list[str] = []

    def read() -> str:
        if not remembered:
            if variable is not None:
                value = os.environ.get(variable)
                if value is None:
                    raise ServiceError(
                        f"the environment variable {variable} is not set",
                        hint=f"export {variable}=... or leave out the option to be asked",
                    )
                remembered.append(value)
            elif sys.stdin.isatty():
                remembered.append(
                    typer.prompt(f"PlatoniCam password for {user}", hide_input=True, err=True)
                )
            else:
                # No terminal to prompt on: a script may pipe the password in;
                # nothing piped is a clear error, not an "Aborted!".
                line = sys.stdin.readline()
                if not line.strip():
                    raise ServiceError(
                        f"a login to the service is needed and no password was given for {user}",
                        hint="--password-env VAR (or --login-password-env VAR for add)",
                    )
                remembered.append(line.rstrip("\r\n"))
        return remembered[0]

    return read


def _run(
    server: str | None,
    user: str,
    password_env: str | None,
    work: Callable[[ServiceClient], Coroutine[object, object, T]],
) -> T:
    """Run ``work`` with a client; a :class:`ServiceError` becomes its line and exit 2."""
    try:
        client = ServiceClient(server_url(server), user, _password_source(user, password_env))
        return asyncio.run(work(client))
    except ServiceError as error:
        raise _fail(error.line()) from None


def _echo_json(value: JsonValue) -> None:
    typer.echo(json.dumps(value, indent=2))


def _shown(value: JsonValue) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value) or "-"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _key_table(title: str, data: JsonObject, keys: tuple[str, ...] | None = None) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    for key in keys or tuple(data):
        if key in data and not isinstance(data[key], dict):
            table.add_row(key, _shown(data[key]))
    return table


# --------------------------------------------------------------------------- add


def add(
    ip: Annotated[
        str | None, typer.Option("--ip", help="The camera's address (or use --discovery-id).")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="Its ONVIF port (default 80).")
    ] = None,
    discovery_id: Annotated[
        str | None,
        typer.Option("--discovery-id", metavar="ID", help="The id of a camera discovery found."),
    ] = None,
    username: Annotated[
        str | None, typer.Option("--username", help="The camera's ONVIF user name.")
    ] = None,
    camera_password_env: Annotated[
        str | None,
        typer.Option(
            "--password-env",
            metavar="VAR",
            help="Read the camera's password from this environment variable.",
        ),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="A name to show.")] = None,
    https: Annotated[bool, typer.Option("--https", help="Talk HTTPS to the camera.")] = False,
    server: Server = None,
    user: User = "admin",
    login_password_env: Annotated[
        str | None,
        typer.Option(
            "--login-password-env",
            metavar="VAR",
            help="Read the service login password from this environment variable.",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Register a camera: the service connects to it once to check the credentials."""
    if (ip is None) == (discovery_id is None):
        raise _fail("error: give either --ip (with --port) or --discovery-id. Try: --ip 192.0.2.10")
    body: JsonObject = {"useHttps": https}
    if ip is not None:
        body["ip"] = ip
    if discovery_id is not None:
        body["discoveryId"] = discovery_id
    for key, value in (("port", port), ("username", username), ("name", name)):
        if value is not None:
            body[key] = value
    if camera_password_env is not None:
        password = os.environ.get(camera_password_env)
        if password is None:
            raise _fail(
                f"error: the environment variable {camera_password_env} is not set. "
                f"Try: export {camera_password_env}=..."
            )
        body["password"] = password

    async def work(client: ServiceClient) -> JsonObject:
        return await client.post_object("/api/cameras", body)

    camera = _run(server, user, login_password_env, work)
    if as_json:
        _echo_json(camera)
        return
    Console(highlight=False).print(
        f"Added camera {camera.get('id')} ({camera.get('name')}) at "
        f"{camera.get('ip')}:{camera.get('port')}",
        markup=False,
    )


# --------------------------------------------------------------------------- list / show


def list_cameras(
    server: Server = None,
    user: User = "admin",
    password_env: LoginPasswordEnv = None,
    as_json: AsJson = False,
) -> None:
    """The registered cameras you may use."""

    async def work(client: ServiceClient) -> JsonObject:
        return await client.get_object("/api/cameras")

    answer = _run(server, user, password_env, work)
    if as_json:
        _echo_json(answer)
        return
    cameras = answer.get("cameras")
    table = Table(title="Cameras")
    for column in ("id", "name", "address", "manufacturer", "model", "password"):
        table.add_column(column, overflow="fold", no_wrap=column in ("id", "address"))
    for camera in cameras if isinstance(cameras, list) else []:
        if isinstance(camera, dict):
            table.add_row(
                _shown(camera.get("id")),
                _shown(camera.get("name")),
                f"{_shown(camera.get('ip'))}:{_shown(camera.get('port'))}",
                _shown(camera.get("manufacturer")),
                _shown(camera.get("model")),
                "stored" if camera.get("hasPassword") else "none",
            )
    Console(highlight=False).print(table)


def show(
    camera_id: Annotated[str, typer.Argument(metavar="ID", help="The camera's id.")],
    server: Server = None,
    user: User = "admin",
    password_env: LoginPasswordEnv = None,
    as_json: AsJson = False,
) -> None:
    """One registered camera (its password is never shown: only whether one is stored)."""

    async def work(client: ServiceClient) -> JsonObject:
        return await client.get_object(f"/api/cameras/{_segment(camera_id)}")

    camera = _run(server, user, password_env, work)
    if as_json:
        _echo_json(camera)
        return
    Console(highlight=False).print(_key_table(f"Camera {camera_id}", camera))


def _segment(value: str) -> str:
    return quote(value, safe="")


# --------------------------------------------------------------------------- settings


def settings(
    camera_id: Annotated[str, typer.Argument(metavar="ID", help="The camera's id.")],
    server: Server = None,
    user: User = "admin",
    password_env: LoginPasswordEnv = None,
    as_json: AsJson = False,
) -> None:
    """The camera's current settings, read from it now: stream, exposure, low light, image."""

    async def work(client: ServiceClient) -> JsonObject:
        return await client.get_object(f"/api/cameras/{_segment(camera_id)}/current-settings")

    answer = _run(server, user, password_env, work)
    if as_json:
        _echo_json(answer)
        return
    current = answer.get("currentSettings")
    console = Console(highlight=False)
    table = Table(title=f"Current settings of camera {camera_id}")
    for column in ("section", "setting", "value"):
        table.add_column(column)
    for section, values in (current if isinstance(current, dict) else {}).items():
        if not isinstance(values, dict):
            table.add_row(section, "-", "not available")
            continue
        for key, value in values.items():
            table.add_row(section, key, _shown(value))
    console.print(table)


# --------------------------------------------------------------------------- apply


def _desired(
    stream: dict[str, JsonValue],
    exposure: dict[str, JsonValue],
    low_light: dict[str, JsonValue],
    image: dict[str, JsonValue],
) -> JsonObject:
    sections: JsonObject = {}
    for name, values in (
        ("stream", stream),
        ("exposure", exposure),
        ("lowLight", low_light),
        ("image", image),
    ):
        given: JsonObject = {k: v for k, v in values.items() if v is not None}
        if given:
            sections[name] = given
    return sections


async def follow_job(
    client: ServiceClient, job: JsonObject, console: Console, *, show_progress: bool
) -> JsonObject:
    """Poll the job until it finished, drawing a progress bar on ``console``
    (and one line per finished step); the final job JSON."""
    job_id = job.get("job_id")
    if not isinstance(job_id, str):
        raise ServiceError("the service answered the apply without a job id")
    path = f"/api/apply/status/{_segment(job_id)}"
    printed: set[str] = set()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[step]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not show_progress,
        transient=False,
    ) as progress:
        task = progress.add_task(f"job {job_id}", total=100, step="")
        while True:
            status = job.get("status")
            steps = job.get("steps")
            for step in steps if isinstance(steps, list) else []:
                if not isinstance(step, dict):
                    continue
                name, state = step.get("name"), step.get("status")
                key = f"{name}"
                if state in ("completed", "failed", "skipped") and key not in printed:
                    printed.add(key)
                    if show_progress:
                        mark = {"completed": "done", "failed": "FAILED", "skipped": "skipped"}
                        message = step.get("message")
                        progress.console.print(
                            f"  {name}: {mark[str(state)]}"
                            + (f" ({message})" if isinstance(message, str) and message else ""),
                            markup=False,
                            highlight=False,
                        )
            percent = job.get("progress")
            current = job.get("currentStep")
            progress.update(
                task,
                completed=percent if isinstance(percent, int | float) else 0,
                step=current if isinstance(current, str) else str(status),
            )
            if status in FINISHED:
                return job
            await asyncio.sleep(POLL_INTERVAL)
            job = await client.get_object(path)


def _result_table(title: str, result: JsonObject) -> Table:
    """Field by field: the value before, the value asked for, and whether it read back."""
    mismatches = {
        str(m.get("field")): m for m in _dicts(result.get("mismatches")) if m.get("field")
    }
    verification = result.get("verification_status")
    table = Table(title=f"{title}: {_shown(verification)}")
    for column in ("field", "before", "requested", "read back", "check"):
        table.add_column(column)
    for change in _dicts(result.get("changes")):
        field = str(change.get("field"))
        mismatch = mismatches.pop(field, None)
        if mismatch is not None:
            read_back, check = _shown(mismatch.get("actual")), "MISMATCH"
        elif verification == "verified":
            read_back, check = _shown(change.get("new")), "ok"
        else:
            read_back, check = "-", "not verified"
        table.add_row(field, _shown(change.get("old")), _shown(change.get("new")), read_back, check)
    for field, mismatch in mismatches.items():
        table.add_row(
            field, "-", _shown(mismatch.get("expected")), _shown(mismatch.get("actual")), "MISMATCH"
        )
    return table


def _dicts(value: JsonValue) -> list[JsonObject]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _print_job(job: JsonObject, console: Console) -> None:
    status = job.get("status")
    console.print(
        f"Job {job.get('job_id')} on camera {job.get('cameraId')}: {status}", markup=False
    )
    error = job.get("error")
    if isinstance(error, str) and error:
        console.print(f"  reason: {error}", markup=False)
    result = job.get("result")
    if isinstance(result, dict):
        console.print(_result_table("Verification", result))
        rollback = result.get("rollback")
        if isinstance(rollback, dict):
            console.print(
                f"Rollback ({'automatic' if rollback.get('automatic') else 'asked for'}): "
                f"{rollback.get('status')}, {rollback.get('verification_status')}",
                markup=False,
            )
            for mismatch in _dicts(rollback.get("mismatches")):
                console.print(
                    f"  {mismatch.get('field')}: expected {_shown(mismatch.get('expected'))}, "
                    f"read back {_shown(mismatch.get('actual'))}",
                    markup=False,
                )
            rollback_error = rollback.get("error")
            if isinstance(rollback_error, str) and rollback_error:
                console.print(f"  reason: {rollback_error}", markup=False)


def apply(
    camera_id: Annotated[str, typer.Argument(metavar="ID", help="The camera's id.")],
    resolution: Annotated[
        str | None, typer.Option(metavar="WxH", help="Main stream size, e.g. 1920x1080.")
    ] = None,
    codec: Annotated[str | None, typer.Option(help="H264 or H265 (or JPEG).")] = None,
    fps: Annotated[float | None, typer.Option(help="Frames per second.")] = None,
    bitrate_mbps: Annotated[
        float | None, typer.Option("--bitrate-mbps", help="Bitrate limit in Mbit/s.")
    ] = None,
    gop: Annotated[int | None, typer.Option(help="GOP (I-frame interval) in frames.")] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help="Codec profile (Main, High ...).")
    ] = None,
    exposure_mode: Annotated[
        str | None, typer.Option("--exposure-mode", help="AUTO or MANUAL.")
    ] = None,
    exposure_time: Annotated[
        float | None, typer.Option("--exposure-time", help="Exposure time in microseconds.")
    ] = None,
    gain: Annotated[float | None, typer.Option(help="Gain in the camera's units (dB).")] = None,
    wdr: Annotated[str | None, typer.Option(help="Wide dynamic range: ON or OFF.")] = None,
    wdr_level: Annotated[float | None, typer.Option("--wdr-level")] = None,
    ir_cut: Annotated[
        str | None, typer.Option("--ir-cut", help="IR cut filter: ON, OFF or AUTO.")
    ] = None,
    backlight: Annotated[
        str | None, typer.Option(help="Backlight compensation: ON or OFF.")
    ] = None,
    brightness: Annotated[float | None, typer.Option()] = None,
    contrast: Annotated[float | None, typer.Option()] = None,
    sharpness: Annotated[float | None, typer.Option()] = None,
    saturation: Annotated[float | None, typer.Option()] = None,
    no_verify: Annotated[
        bool,
        typer.Option(
            "--no-verify",
            help="Tell the service verification is not wanted (it still reads back: it is cheap).",
        ),
    ] = False,
    auto_rollback: Annotated[
        bool,
        typer.Option("--auto-rollback", help="Put the old values back if the apply fails."),
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Follow the job until it ends.")
    ] = True,
    server: Server = None,
    user: User = "admin",
    password_env: LoginPasswordEnv = None,
    as_json: AsJson = False,
) -> None:
    """Apply settings as a tracked job: planned against the camera's options,
    applied step by step with a progress bar, read back and verified field by field."""
    desired = _desired(
        {
            "resolution": resolution,
            "codec": codec.upper() if codec else None,
            "fps": fps,
            "bitrateMbps": bitrate_mbps,
            "gop": gop,
            "profile": profile,
        },
        {
            "mode": exposure_mode.upper() if exposure_mode else None,
            "exposureTime": exposure_time,
            "gain": gain,
        },
        {
            "wdr": wdr.upper() if wdr else None,
            "wdrLevel": wdr_level,
            "irCutFilter": ir_cut.upper() if ir_cut else None,
            "backlight": backlight.upper() if backlight else None,
        },
        {
            "brightness": brightness,
            "contrast": contrast,
            "sharpness": sharpness,
            "saturation": saturation,
        },
    )
    if not desired:
        raise _fail(
            "error: nothing to apply. Try: name at least one setting, e.g. --resolution 1920x1080"
        )
    body: JsonObject = {
        "camera": {"id": camera_id},
        "settings": desired,
        "applyVia": "onvif",
        "verifyAfterApply": not no_verify,
        "autoRollback": auto_rollback,
    }
    err = Console(stderr=True, highlight=False)

    async def work(client: ServiceClient) -> JsonObject:
        job = await client.post_object("/api/apply", body)
        if not wait:
            return job
        return await follow_job(client, job, err, show_progress=not as_json)

    job = _run(server, user, password_env, work)
    if as_json:
        _echo_json(job)
    else:
        _print_job(job, Console(highlight=False))
    if wait and job.get("status") in ("failed", "partial"):
        raise typer.Exit(EXIT_JOB_NOT_DONE)


# --------------------------------------------------------------------------- rollback


def rollback(
    job_id: Annotated[str, typer.Argument(metavar="JOB_ID", help="The apply job to undo.")],
    server: Server = None,
    user: User = "admin",
    password_env: LoginPasswordEnv = None,
    as_json: AsJson = False,
) -> None:
    """Put back the values an apply job changed, read them back and verify."""

    async def work(client: ServiceClient) -> JsonObject:
        # The service answers once the rollback was applied and verified.
        return await client.post_object(
            f"/api/apply/{_segment(job_id)}/rollback", {}, timeout=120.0
        )

    job = _run(server, user, password_env, work)
    result = job.get("result")
    outcome = result.get("rollback") if isinstance(result, dict) else None
    if as_json:
        _echo_json(job)
    else:
        _print_job(job, Console(highlight=False))
    if not isinstance(outcome, dict) or outcome.get("status") != "completed":
        raise typer.Exit(EXIT_JOB_NOT_DONE)


def register(group: typer.Typer) -> None:
    """Add the service-backed commands to the ``camera`` group."""
    group.command("add")(add)
    group.command("list")(list_cameras)
    group.command("show")(show)
    group.command("settings")(settings)
    group.command("apply")(apply)
    group.command("rollback")(rollback)
