"""`platonicam users`: manage the service's users from the server's command line.

This is how the first admin is made on purpose (instead of the generated one),
and the recovery path when every admin is locked out: it talks to the database
directly (``--data-dir`` / ``--config`` select it, as for ``platonicam serve``),
so it needs no token. Passwords come from an environment variable or a hidden
prompt, never from the command line, and are never printed. Changes are written
to the audit log as the actor ``cli``.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from platonicam.errors import PlatonicamError
from platonicam.store.records import Role, UserRecord

# The database, settings and hashing stacks are imported when a users command
# runs, not when `platonicam` starts: every other command would pay for them.
if TYPE_CHECKING:
    from platonicam.store.repositories import AuditRepository, UserRepository

users_app = typer.Typer(help="Create, list, change and delete the service's users.")

EXIT_FAILED = 1
ACTOR = "cli"
T = TypeVar("T")

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="The service's data folder (default: from config)."),
]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", help="TOML config file (or $PLATONICAM_CONFIG).")
]
PasswordEnv = Annotated[
    str | None,
    typer.Option(
        "--password-env",
        metavar="VAR",
        help="Read the password from this environment variable (else a hidden prompt).",
    ),
]


class _Failure(PlatonicamError):
    pass


def _run(
    data_dir: Path | None,
    config: Path | None,
    action: Callable[[UserRepository, AuditRepository], Awaitable[T]],
) -> T:
    """Open the database (migrating it), run ``action``, and turn our errors into one line."""
    from platonicam.clock import SystemClock
    from platonicam.config import load_settings
    from platonicam.store.database import Database
    from platonicam.store.repositories import AuditRepository, UserRepository

    async def main() -> T:
        settings = load_settings(config, data_dir=data_dir)
        database = Database(settings.database.url)
        try:
            await database.migrate()
            clock = SystemClock()
            return await action(
                UserRepository(database.sessions, clock), AuditRepository(database.sessions, clock)
            )
        finally:
            await database.dispose()

    try:
        return asyncio.run(main())
    except PlatonicamError as error:  # ConfigError, DatabaseError, store and auth refusals
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {error}", markup=False)
        raise typer.Exit(EXIT_FAILED) from None


def _password(variable: str | None) -> str:
    from platonicam.service.auth import check_password_strength

    if variable is not None:
        value = os.environ.get(variable)
        if not value:
            raise _Failure(f"environment variable {variable} is not set or empty")
    else:
        value = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    check_password_strength(value)
    return value


def _hash(password: str) -> str:
    from platonicam.service.auth import Passwords

    return Passwords().hash(password)


def _user_json(user: UserRecord) -> dict[str, object]:
    return {
        "name": user.name,
        "role": user.role.value,
        "disabled": user.disabled,
        "grants": sorted(user.grants),
        "createdAt": user.created_at.isoformat(),
    }


def _echo(user: UserRecord, as_json: bool, what: str) -> None:
    if as_json:
        typer.echo(json.dumps(_user_json(user)))
    else:
        typer.echo(f"{what} user {user.name} ({user.role.value})")


@users_app.command()
def create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The login name.")],
    role: Annotated[Role, typer.Option(help="viewer, operator or admin.")],
    password_env: PasswordEnv = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a user."""

    async def action(users: UserRepository, audit: AuditRepository) -> UserRecord:
        password = _password(password_env)
        digest = await asyncio.to_thread(_hash, password)
        user = await users.create(name, role, digest)
        await audit.record(ACTOR, "user.create", f"created user {name} with role {role.value}")
        return user

    _echo(_run(data_dir, config, action), as_json, "created")


@users_app.command("list")
def list_users(
    data_dir: DataDir = None,
    config: ConfigFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the users with their roles and camera grants."""

    async def action(users: UserRepository, audit: AuditRepository) -> list[UserRecord]:
        return await users.list()

    found = _run(data_dir, config, action)
    if as_json:
        typer.echo(json.dumps({"users": [_user_json(user) for user in found]}))
        return
    table = Table("name", "role", "disabled", "grants")
    for user in found:
        table.add_row(
            user.name,
            user.role.value,
            "yes" if user.disabled else "",
            " ".join(sorted(user.grants)),
        )
    Console(highlight=False).print(table)


@users_app.command()
def update(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The login name.")],
    role: Annotated[Role | None, typer.Option(help="A new role.")] = None,
    password_env: Annotated[
        str | None,
        typer.Option("--password-env", metavar="VAR", help="Set the password from this variable."),
    ] = None,
    disabled: Annotated[
        bool | None, typer.Option("--disable/--enable", help="Lock or unlock the user.")
    ] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Change a user's role, password or disabled state (this logs them out)."""

    async def action(users: UserRepository, audit: AuditRepository) -> UserRecord:
        digest = None
        if password_env is not None:
            digest = await asyncio.to_thread(_hash, _password(password_env))
        user = await users.update(name, role=role, password_hash=digest, disabled=disabled)
        parts = [
            f"role {role.value}" if role is not None else "",
            "password changed" if digest is not None else "",
            ("disabled" if disabled else "enabled") if disabled is not None else "",
        ]
        summary = ", ".join(p for p in parts if p) or "no change"
        await audit.record(ACTOR, "user.update", f"updated user {name}: {summary}")
        return user

    _echo(_run(data_dir, config, action), as_json, "updated")


@users_app.command()
def delete(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The login name.")],
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Delete a user with their grants and tokens."""

    async def action(users: UserRepository, audit: AuditRepository) -> None:
        await users.delete(name)
        await audit.record(ACTOR, "user.delete", f"deleted user {name}")

    _run(data_dir, config, action)
    typer.echo(f"deleted user {name}")


@users_app.command()
def grant(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The login name.")],
    camera_id: Annotated[str, typer.Argument(metavar="CAMERA_ID", help="The camera's id.")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Take the grant away instead.")] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Let a user use a camera (or, with --revoke, no longer)."""

    async def action(users: UserRepository, audit: AuditRepository) -> UserRecord:
        if revoke:
            user = await users.revoke(name, camera_id)
            await audit.record(
                ACTOR,
                "grant.remove",
                f"revoked camera {camera_id} from {name}",
                camera_id=camera_id,
            )
        else:
            user = await users.grant(name, camera_id)
            await audit.record(
                ACTOR, "grant.add", f"granted camera {camera_id} to {name}", camera_id=camera_id
            )
        return user

    user = _run(data_dir, config, action)
    if as_json:
        typer.echo(json.dumps(_user_json(user)))
    else:
        cameras = " ".join(sorted(user.grants)) or "none"
        typer.echo(f"user {user.name} ({user.role.value}) may use cameras: {cameras}")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
