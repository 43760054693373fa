"""A real mosquitto broker (Debian's package) on loopback, for the MQTT tests.

:class:`Mosquitto` writes a config into its own folder, starts ``mosquitto -c``
on free 127.0.0.1 ports (plain, and TLS when given a certificate), waits until
the port answers, and can be stopped and started again on the *same* ports
(the reconnect tests). Any failure to start raises :class:`BrokerError` with
mosquitto's own log, which the fixtures turn into a test failure: a missing
broker must not look like a passing suite.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


class BrokerError(RuntimeError):
    """mosquitto could not be started (the message says why)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files for a TLS listener: the server's chain and key, and the CA to trust."""

    ca: Path
    cert: Path
    key: Path


class Mosquitto:
    """One mosquitto process. ``users`` (name -> password) turns anonymous access off;
    ``persistent`` keeps sessions and retained messages across :meth:`stop`/:meth:`start`."""

    def __init__(
        self,
        folder: Path,
        *,
        users: dict[str, str] | None = None,
        tls: TlsFiles | None = None,
        persistent: bool = False,
    ) -> None:
        binary = shutil.which("mosquitto")
        if binary is None:
            raise BrokerError("mosquitto is not installed (apt-get install mosquitto)")
        self.binary = binary
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.tls_port = free_port() if tls is not None else None
        self.log = folder / "mosquitto.log"
        self.config = folder / "mosquitto.conf"
        self._process: subprocess.Popen[bytes] | None = None
        lines = [
            # Run as whoever runs the tests: as root, mosquitto would otherwise
            # switch to the "mosquitto" user, who cannot read our temp folder.
            f"user {pwd.getpwuid(os.getuid()).pw_name}",
            # Persistent: sessions and retained messages survive a restart
            # (mosquitto writes them out on SIGTERM).
            *(
                ["persistence true", f"persistence_location {folder}/"]
                if persistent
                else ["persistence false"]
            ),
            f"log_dest file {self.log}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "per_listener_settings false",
            f"allow_anonymous {'false' if users else 'true'}",
            f"listener {self.port} 127.0.0.1",
        ]
        if users:
            passwords = folder / "passwords"
            for index, (name, password) in enumerate(users.items()):
                create = ["-c"] if index == 0 else []
                subprocess.run(
                    ["mosquitto_passwd", *create, "-b", str(passwords), name, password],
                    check=True,
                    capture_output=True,
                )
            lines.append(f"password_file {passwords}")
        if tls is not None:
            lines += [
                f"listener {self.tls_port} 127.0.0.1",
                f"cafile {tls.ca}",
                f"certfile {tls.cert}",
                f"keyfile {tls.key}",
            ]
        self.config.write_text("\n".join(lines) + "\n")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        if self.tls_port is None:
            raise BrokerError("this broker has no TLS listener")
        return f"mqtts://127.0.0.1:{self.tls_port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except FileNotFoundError:
            return "(no log written)"

    def start(self, timeout: float = 10.0) -> None:
        """Start (again, on the same ports); raises :class:`BrokerError` with the log."""
        if self.running:
            return
        self._process = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        ports = [p for p in (self.port, self.tls_port) if p is not None]
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                pipe = self._process.stderr
                stderr = pipe.read().decode(errors="replace") if pipe is not None else ""
                self._process = None
                raise BrokerError(
                    f"mosquitto exited at start: {stderr.strip()}\nlog:\n{self._log_text()}"
                )
            if all(_answers(port) for port in ports):
                return
            time.sleep(0.02)
        self.stop()
        raise BrokerError(
            f"mosquitto did not listen on 127.0.0.1:{ports} within {timeout} s\n"
            f"log:\n{self._log_text()}"
        )

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL) and wait for it."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process.stderr is not None:
            process.stderr.close()
        # The port must be free again before a restart binds it.
        deadline = time.monotonic() + 5
        while any(_answers(p) for p in (self.port, self.tls_port) if p) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.02)


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False
