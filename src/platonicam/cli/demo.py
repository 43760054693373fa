"""`platonicam demo`: see PlatoniCam read a camera without owning one.

A captured real camera (from the test corpus in the repository) is served on
127.0.0.1 by :class:`~platonicam.testing.replay.ReplayCamera`, with WS-Security
and a password generated for this run; the ONVIF client connects to it exactly
as it would to a camera on the LAN and prints what it found. Then the camera
stays up so ``platonicam camera info`` can be pointed at it. Nothing leaves
loopback and nothing multicasts.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from platonicam.cli.camera import CameraReport, print_report, read_report
from platonicam.cli.errors import EXIT_CAMERA_ERROR, describe
from platonicam.onvif.client import OnvifClient
from platonicam.onvif.errors import OnvifError
from platonicam.testing.replay import ReplayCamera

DEFAULT_CAMERA = "hikvision_DS-2CD2012-I"
PASSWORD_VARIABLE = "PLATONICAM_DEMO_PASSWORD"  # noqa: S105 - a variable name, not a password


def find_corpus() -> Path | None:
    """The captured-camera corpus: ``$PLATONICAM_CORPUS``, or the repository's
    ``tests/corpus`` next to an editable install."""
    configured = os.environ.get("PLATONICAM_CORPUS")
    candidates = [Path(configured)] if configured else []
    candidates.append(Path(__file__).resolve().parents[3] / "tests" / "corpus")
    return next((c for c in candidates if (c / "MANIFEST.json").is_file()), None)


def demo(
    camera: Annotated[
        str, typer.Option(help="Which captured camera to serve (vendor_model prefix).")
    ] = DEFAULT_CAMERA,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 0,
    once: Annotated[
        bool, typer.Option("--once", help="Print what the client read, then stop.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Serve a captured camera on 127.0.0.1 and read it with the ONVIF client."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    corpus = find_corpus()
    if corpus is None:
        err.print(
            "error: the captured-camera corpus was not found. Try: run from a checkout of "
            "PlatoniCam, or set PLATONICAM_CORPUS to its tests/corpus folder"
        )
        raise typer.Exit(EXIT_CAMERA_ERROR)
    if not any(corpus.glob(f"*/{camera}_*")):
        err.print(f"error: no captures of {camera!r} in {corpus}. Try: --camera {DEFAULT_CAMERA}")
        raise typer.Exit(EXIT_CAMERA_ERROR)
    password = secrets.token_urlsafe(12)
    asyncio.run(_run(corpus, camera, port, password, once=once, as_json=as_json, err=err))


async def _run(
    corpus: Path,
    camera_name: str,
    port: int,
    password: str,
    *,
    once: bool,
    as_json: bool,
    err: Console,
) -> None:
    replay = ReplayCamera(corpus, camera_name, port=port, auth="ws-security", password=password)
    async with replay:
        target = f"127.0.0.1:{replay.port}"
        report = CameraReport(target=target)
        client = OnvifClient("127.0.0.1", replay.port, "admin", password)
        try:
            await read_report(client, report)
        except OnvifError as exc:
            err.print(describe(exc, target=target).line(), markup=False)
            raise typer.Exit(EXIT_CAMERA_ERROR) from None
        finally:
            await client.aclose()
        if as_json:
            typer.echo(json.dumps(report.as_json(), indent=2))
        else:
            out = Console(highlight=False)
            out.print(
                f"[bold]PlatoniCam demo[/bold]: a captured {camera_name.replace('_', ' ')} "
                f"answers ONVIF on http://{target}/onvif/device_service (loopback only).\n"
                "The client read its clock, services, profiles and capabilities:"
            )
            print_report(report, out)
        if once:
            return
        # The generated password is shown once, like a device's first admin password.
        print(
            f"\nThe camera stays up until Ctrl-C. Read it yourself:\n"
            f"  export {PASSWORD_VARIABLE}={password}\n"
            f"  platonicam camera info 127.0.0.1 --port {replay.port} --user admin "
            f"--password-env {PASSWORD_VARIABLE}\n"
            f"READY port={replay.port}",
            flush=True,
        )
        await asyncio.Event().wait()


def register(app: typer.Typer) -> None:
    """Add ``platonicam demo`` to the app."""
    app.command()(demo)
