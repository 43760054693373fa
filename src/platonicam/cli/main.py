"""The ``platonicam`` command: one typer app, sub-commands registered from their modules."""

from __future__ import annotations

import typer

from platonicam import __version__
from platonicam.cli import camera, demo, device, discover, serve, users

app = typer.Typer(
    name="platonicam",
    help="PlatoniCam: find ONVIF cameras, read and change their settings, stream and watch them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
discover.register(app)
camera.register(app)
demo.register(app)
device.register(app)
users.register(app)
serve.register(app)


@app.command()
def version() -> None:
    """Print PlatoniCam's version."""
    typer.echo(__version__)


def main() -> None:
    app()
