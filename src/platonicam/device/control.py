"""The control channel of a running device: a Unix socket in its data folder.

``platonicam device trigger`` and ``platonicam device users`` talk to the
device that runs with a data folder through ``<data folder>/control.sock``
(mode 0600: whoever may read the folder's secrets may drive the device). The
protocol is one JSON object per line each way: the client sends a request
``{"command": "...", ...}`` and reads one answer, ``{"ok": true, ...}`` or
``{"ok": false, "error": "one line for people"}``, then the connection ends.

Commands (answered by :class:`platonicam.device.runtime.DeviceRuntime`):
``ping``; ``trigger`` (``event``: ``motion``/``tamper``/``input``, ``number``,
``state``: true, false or null for a pulse); ``users.list``,
``users.create``/``users.update`` (``username``, ``password``, ``level``),
``users.delete`` (``username``); ``reboot``; ``stop``.

User commands also work with no device running: :func:`user_command` applies
them to the folder's ``users.yaml`` directly, the same code the running device
uses for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Final

from platonicam.device.faults import DeviceFault
from platonicam.device.security import UserDirectory
from platonicam.errors import PlatonicamError
from platonicam.onvif.models.device import User, UserLevel

CONTROL_SOCKET: Final = "control.sock"
#: A request or answer longer than this is refused (users lists are short).
MAX_LINE: Final = 64 * 1024
#: Unix socket paths longer than this do not fit ``sockaddr_un`` (108 bytes with the NUL).
_MAX_SUN_PATH: Final = 100

#: One JSON object (the decoded line).
JsonObject = dict[str, object]
Handler = Callable[[JsonObject], Awaitable[JsonObject]]


class ControlError(PlatonicamError):
    """The control request failed; the message is one line for people."""


class NoDeviceRunning(ControlError):
    """No device answers on the data folder's control socket."""


def control_path(data_dir: Path) -> Path:
    return data_dir / CONTROL_SOCKET


@contextlib.contextmanager
def reachable(path: Path) -> Iterator[str]:
    """A name for ``path`` short enough for a Unix socket address.

    Long data-folder paths (deep CI temp folders) do not fit the 108 bytes of
    ``sockaddr_un``; on Linux the folder is then reached through an open
    descriptor, ``/proc/self/fd/N/control.sock``, for the duration of the block.
    """
    if len(os.fsencode(path)) <= _MAX_SUN_PATH:
        yield str(path)
        return
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def _answering(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe, reachable(path) as name:
        probe.settimeout(1.0)
        try:
            probe.connect(name)
        except OSError:
            return False
    return True


class ControlServer:
    """Serves the control socket of ``data_dir`` with ``handler`` until closed.

    :meth:`start` raises :class:`ControlError` when another device already
    answers there (two devices on one data folder would overwrite each other's
    files); a socket left by a device that died is replaced.
    """

    def __init__(self, data_dir: Path, handler: Handler) -> None:
        self.path = control_path(data_dir)
        self._handler = handler
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        if self.path.exists() or self.path.is_symlink():
            if _answering(self.path):
                raise ControlError(
                    f"a device already runs with data folder {self.path.parent} "
                    "(stop it first, or use another --data-dir)"
                )
            self.path.unlink()
        # Bind under a temporary name, restrict it, then rename: the socket is
        # never reachable with looser permissions than 0600.
        temporary = self.path.with_name(f".{CONTROL_SOCKET}.{os.getpid()}")
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with reachable(temporary) as name:
                sock.bind(name)
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
            self._server = await asyncio.start_unix_server(self._serve, sock=sock, limit=MAX_LINE)
        except BaseException:
            sock.close()
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                async with asyncio.timeout(5.0):
                    line = await reader.readline()
                request = json.loads(line)
                if not isinstance(request, dict):
                    raise ValueError("a JSON object expected")
                answer = await self._handler(request)
            except (ValueError, asyncio.LimitOverrunError, TimeoutError) as exc:
                answer = {"ok": False, "error": f"bad control request: {exc}"}
            except (ControlError, DeviceFault) as exc:
                answer = {"ok": False, "error": str(exc)}
            writer.write(json.dumps(answer).encode() + b"\n")
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def control_request(
    data_dir: Path, request: JsonObject, *, timeout: float = 5.0
) -> JsonObject:
    """Send one request to the device running with ``data_dir`` and return its answer.

    Raises :class:`NoDeviceRunning` when nothing answers on the control socket,
    :class:`ControlError` when the device refused the request (its reason) or
    did not answer within ``timeout`` seconds.
    """
    path = control_path(data_dir)
    if not path.exists():
        raise NoDeviceRunning(f"no device runs with data folder {data_dir}")
    try:
        async with asyncio.timeout(timeout):
            with reachable(path) as name:
                reader, writer = await asyncio.open_unix_connection(name, limit=MAX_LINE)
            try:
                writer.write(json.dumps(request).encode() + b"\n")
                await writer.drain()
                line = await reader.readline()
            finally:
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()
    except (ConnectionRefusedError, FileNotFoundError):
        raise NoDeviceRunning(f"no device runs with data folder {data_dir}") from None
    except TimeoutError:
        raise ControlError(f"the device with data folder {data_dir} did not answer") from None
    try:
        answer = json.loads(line)
    except ValueError:
        raise ControlError("the device sent an unreadable answer") from None
    if not isinstance(answer, dict):
        raise ControlError("the device sent an unreadable answer")
    if answer.get("ok") is not True:
        raise ControlError(str(answer.get("error", "the device refused the request")))
    return answer


def _string(request: JsonObject, key: str) -> str:
    value = request.get(key)
    if not isinstance(value, str) or not value:
        raise ControlError(f"the request needs {key!r}")
    return value


def parse_level(raw: str) -> UserLevel:
    """``Administrator``, ``Operator`` or ``User`` (any case) -> :class:`UserLevel`."""
    for level in (UserLevel.ADMINISTRATOR, UserLevel.OPERATOR, UserLevel.USER):
        if raw.strip().lower() == level.value.lower():
            return level
    raise ControlError(f"unknown level {raw!r} (Administrator, Operator or User)")


def user_command(users: UserDirectory, request: JsonObject) -> JsonObject:
    """Apply a ``users.*`` request to ``users``; the answer lists the accounts after it.

    Raises :class:`DeviceFault` (with the reason the ONVIF operation would give)
    for a refused change, :class:`ControlError` for a malformed request.
    """
    command = request.get("command")
    if command == "users.create":
        users.create(
            [
                User(
                    _string(request, "username"),
                    parse_level(_string(request, "level")),
                    _string(request, "password"),
                )
            ]
        )
    elif command == "users.update":
        name = _string(request, "username")
        record = users.find(name)
        if record is None:
            raise ControlError(f"no user {name!r}")
        level = request.get("level")
        password = request.get("password")
        if not isinstance(password, str) or not password:
            # Keeping the password needs it in clear: it is sealed with the device key.
            password = users.password(record)
            if password is None:
                raise ControlError(f"the password of {name!r} cannot be kept: give a new one")
        users.update(
            [
                User(
                    name,
                    parse_level(level) if isinstance(level, str) else record.level,
                    password,
                )
            ]
        )
    elif command == "users.delete":
        users.delete([_string(request, "username")])
    elif command != "users.list":
        raise ControlError(f"unknown command {command!r}")
    return {
        "ok": True,
        "users": [{"username": u.username, "level": u.user_level.value} for u in users.users()],
    }
