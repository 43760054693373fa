"""`platonicam serve`: run the REST API (and, with ``--demo``, a camera to try it on).

::

    platonicam serve --demo                     # http://127.0.0.1:8080, a demo camera
    platonicam serve --bind 0.0.0.0 --port 8080 --data-dir /var/lib/platonicam

Binds 127.0.0.1 unless told otherwise: the API manages cameras and their
passwords, and exposing it is a decision. On the first start the generated
admin password is printed once, beside the URL. ``--demo`` starts the
reference device in the same process on loopback (multicast off) and
registers it as "Demo camera".
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

EXIT_FAILED = 1


def serve(
    demo: Annotated[
        bool, typer.Option("--demo", help="Also run a demo camera on loopback and register it.")
    ] = False,
    bind: Annotated[
        str | None, typer.Option("--bind", metavar="ADDR", help="Address (default 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=0, max=65535, help="Port (default 8080; 0 picks a free one)."),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data folder (database, keys).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML config file (or $PLATONICAM_CONFIG).")
    ] = None,
    mqtt_url: Annotated[
        str | None,
        typer.Option(
            "--mqtt-url",
            metavar="URL",
            help="Publish events to this broker: mqtt[s]://[USER:PASS@]HOST[:PORT] "
            "(or $PLATONICAM_MQTT__URL).",
        ),
    ] = None,
) -> None:
    """Run the PlatoniCam service: REST API, jobs, and the docs at /docs."""
    from platonicam.config import ConfigError, load_settings
    from platonicam.errors import PlatonicamError

    http: dict[str, object] = {}
    if bind is not None:
        http["bind"] = bind
    if port is not None:
        http["port"] = port
    try:
        settings = load_settings(config, data_dir=data_dir)
        if http:
            settings = load_settings(
                config,
                data_dir=data_dir,
                http=settings.http.model_copy(update=http).model_dump(),
            )
        if mqtt_url is not None:
            from platonicam.service.events import with_mqtt_url

            settings = with_mqtt_url(settings, mqtt_url)
        asyncio.run(_run(settings, demo=demo))
    except (ConfigError, PlatonicamError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    except KeyboardInterrupt:
        pass


async def _run(settings: object, *, demo: bool) -> None:
    import uvicorn

    from platonicam.config import Settings
    from platonicam.service.app import create_app

    assert isinstance(settings, Settings)
    app = create_app(settings, console=sys.stdout, demo=demo)
    config = uvicorn.Config(
        app,
        host=settings.http.bind,
        port=settings.http.port,
        log_level="warning",
        lifespan="on",
        # MSE parts are compressed video: deflating them again per viewer only burns CPU
        # (it was most of the gateway's cost per WebSocket viewer in benchmarks/media_fanout.py).
        ws_per_message_deflate=False,
        # The websockets library's sans-IO implementation: the legacy one is deprecated.
        ws="websockets-sansio",
        ssl_certfile=str(settings.tls.cert_file) if settings.tls.cert_file else None,
        ssl_keyfile=str(settings.tls.key_file) if settings.tls.key_file else None,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task
            raise OSError(
                f"the service did not start on {settings.http.bind}:{settings.http.port} "
                "(is the port in use?)"
            )
        await asyncio.sleep(0.05)
    sock = server.servers[0].sockets[0].getsockname()
    scheme = "https" if settings.tls.cert_file else "http"
    host = f"[{sock[0]}]" if ":" in str(sock[0]) else sock[0]
    lines = [f"PlatoniCam is running at {scheme}://{host}:{sock[1]} (API docs: /docs)"]
    if demo:
        lines.append('Demo mode: a reference camera runs on loopback as "Demo camera".')
    lines.append(f"Data folder: {settings.data_dir}. Stop with Ctrl-C.")
    print("\n".join(lines), flush=True)
    await task


def register(app: typer.Typer) -> None:
    """Add ``platonicam serve`` to the app."""
    app.command()(serve)
