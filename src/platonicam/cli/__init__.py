"""The ``platonicam`` command line (typer + rich)."""
