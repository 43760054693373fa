"""`platonicam discover`: find ONVIF devices with WS-Discovery.

A live table grows as devices answer; ``--json`` prints one JSON document at
the end instead. Failures (no interface, no permission, an unknown type prefix)
print one line on stderr and exit with status 1, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Sequence
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from platonicam.discovery import (
    Candidate,
    DiscoveryError,
    InvalidQuery,
    TypeName,
    discover_iter,
    probe_unicast_iter,
)
from platonicam.discovery.messages import PORT
from platonicam.discovery.probe import DEFAULT_TYPES

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


def parse_host_port(value: str) -> tuple[str, int]:
    """``HOST``, ``HOST:PORT``, ``[IPv6]:PORT`` or a bare IPv6 address -> ``(host, port)``."""
    raw = value.strip()
    if raw.startswith("["):
        host, _, rest = raw[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif raw.count(":") == 1:
        host, _, port_text = raw.partition(":")
    else:
        host, port_text = raw, ""
    if not host:
        raise InvalidQuery(f"no host in {value!r}")
    if not port_text:
        return host, PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise InvalidQuery(f"bad port in {value!r}")
    return host, int(port_text)


def candidate_json(candidate: Candidate) -> dict[str, JsonValue]:
    """One candidate as JSON (types in ``{namespace}Local`` form)."""
    return {
        "endpoint_reference": candidate.endpoint_reference,
        "manufacturer": candidate.manufacturer,
        "model": candidate.model,
        "name": candidate.name,
        "location": candidate.location,
        "mac": candidate.mac,
        "serial_number": candidate.serial_number,
        "profiles": list(candidate.profiles),
        "host": candidate.host,
        "port": candidate.port,
        "xaddr": candidate.xaddr,
        "xaddrs": list(candidate.xaddrs),
        "types": [str(t) for t in candidate.types],
        "scopes": list(candidate.scopes),
        "metadata_version": candidate.metadata_version,
    }


def _table(candidates: Sequence[Candidate], *, done: bool) -> Table:
    title = f"{len(candidates)} device(s) found" if done else "Discovering ONVIF devices..."
    table = Table(title=title)
    for column in ("Manufacturer", "Model", "Name", "Address", "Port", "MAC", "XAddr"):
        # Addresses, ports and MACs are copied from here: never fold them mid-value.
        short = column in ("Address", "Port", "MAC")
        table.add_column(
            column, overflow="fold", no_wrap=short, min_width=17 if column == "MAC" else None
        )
    for c in candidates:
        table.add_row(
            c.manufacturer or "",
            c.model or "",
            c.name or "",
            c.host or "",
            str(c.port) if c.port is not None else "",
            c.mac or "",
            c.xaddr or "",
        )
    return table


async def _run(
    *,
    timeout: float,
    scopes: list[str],
    types: tuple[TypeName, ...],
    unicast: str | None,
    as_json: bool,
    console: Console,
) -> None:
    stream: AsyncGenerator[Candidate, None]
    if unicast is not None:
        host, port = parse_host_port(unicast)
        stream = probe_unicast_iter(host, port=port, timeout=timeout, types=types, scopes=scopes)
    else:
        stream = discover_iter(timeout, types=types, scopes=scopes)
    found: list[Candidate] = []
    if as_json:
        async for candidate in stream:
            found.append(candidate)
        document: dict[str, JsonValue] = {
            "mode": "unicast" if unicast is not None else "multicast",
            "timeout": timeout,
            "count": len(found),
            "candidates": [candidate_json(c) for c in found],
        }
        console.print_json(json.dumps(document))
        return
    if not console.is_terminal:
        # Not a terminal (a pipe, a log): no redrawing, just the final table.
        async for candidate in stream:
            found.append(candidate)
        console.print(_table(found, done=True))
        return
    with Live(_table(found, done=False), console=console, auto_refresh=False) as live:
        async for candidate in stream:
            found.append(candidate)
            live.update(_table(found, done=False), refresh=True)
        live.update(_table(found, done=True), refresh=True)


def register(app: typer.Typer) -> None:
    """Add ``discover`` to the app."""

    @app.command("discover")
    def discover_command(
        timeout: Annotated[
            float, typer.Option("--timeout", min=0.1, help="Seconds to listen for answers.")
        ] = 3.0,
        scope: Annotated[
            list[str] | None,
            typer.Option(
                "--scope", metavar="URI", help="Only devices with this scope (prefix rule)."
            ),
        ] = None,
        type_: Annotated[
            list[str] | None,
            typer.Option(
                "--type",
                metavar="QNAME",
                help="Device type to probe for (default dn:NetworkVideoTransmitter).",
            ),
        ] = None,
        unicast: Annotated[
            str | None,
            typer.Option(
                "--unicast", metavar="HOST[:PORT]", help="Probe this address instead of multicast."
            ),
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print one JSON document instead of a table.")
        ] = False,
    ) -> None:
        """Find ONVIF cameras with WS-Discovery (multicast on every interface, or unicast)."""
        console = Console()
        errors = Console(stderr=True)
        try:
            types = tuple(TypeName.parse(t) for t in type_) if type_ else DEFAULT_TYPES
            asyncio.run(
                _run(
                    timeout=timeout,
                    scopes=list(scope or []),
                    types=types,
                    unicast=unicast,
                    as_json=as_json,
                    console=console,
                )
            )
        except DiscoveryError as exc:
            errors.print(f"error: {exc}", markup=False, highlight=False)
            raise typer.Exit(1) from None
        except OSError as exc:
            errors.print(f"error: {exc.strerror or exc}", markup=False, highlight=False)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
