"""A throwaway PostgreSQL cluster from Debian's binaries, on 127.0.0.1 only.

``initdb`` refuses to run as root, so when the tests run as root (CI does) the
cluster's directory is handed to the ``postgres`` OS user and the server runs
as that user. The cluster lives in a temporary directory, listens on
127.0.0.1 and a Unix socket inside that directory, trusts local connections
(no password exists to leak), and is stopped and deleted at the end.
"""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


class PostgresUnavailable(RuntimeError):
    """The cluster could not be started; the message says why and what to install."""


def _bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not candidates:
        raise PostgresUnavailable(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: "
            "run scripts/install (apt-get install postgresql)"
        )
    return Path(candidates[0]).parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PostgresCluster:
    root: Path
    port: int
    bin_dir: Path
    run_as: str | None

    def _command(self, *args: str) -> list[str]:
        if self.run_as is None:
            return list(args)
        return ["runuser", "-u", self.run_as, "--", *args]

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            self._command(*args), capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"{Path(args[0]).name} failed ({result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-800:]}"
            )

    @classmethod
    def start(cls) -> PostgresCluster:
        bin_dir = _bin_dir()
        run_as = None
        root = Path(tempfile.mkdtemp(prefix="platonicam-pg-"))
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    "running as root but there is no 'postgres' OS user to run the server as "
                    "(Debian's postgresql package creates it)"
                ) from None
            run_as = "postgres"
            os.chown(root, account.pw_uid, account.pw_gid)
        cluster = cls(root=root, port=_free_port(), bin_dir=bin_dir, run_as=run_as)
        data = root / "data"
        cluster._run(
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        options = (
            f"-k {root} -p {cluster.port} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        cluster._run(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        return cluster

    def stop(self) -> None:
        subprocess.run(
            self._command(
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.root / "data"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ),
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; its SQLAlchemy URL."""
        deadline = time.monotonic() + 30
        while True:
            result = subprocess.run(
                self._command(
                    str(self.bin_dir / "psql"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    "postgres",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-qc",
                    f'CREATE DATABASE "{name}"',
                ),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            if result.returncode == 0:
                return self.url(name)
            if time.monotonic() > deadline:
                raise PostgresUnavailable(f"CREATE DATABASE failed: {result.stderr.strip()}")
            time.sleep(0.2)


_shared: PostgresCluster | PostgresUnavailable | None = None
_names = itertools.count()


def shared_cluster() -> PostgresCluster:
    """The one cluster of this test process, started on first use and stopped at exit.

    Raises :class:`PostgresUnavailable` (the same error on every call) when it
    cannot start, so each test that needs it fails with the reason.
    """
    global _shared
    if _shared is None:
        try:
            _shared = PostgresCluster.start()
        except PostgresUnavailable as error:
            _shared = error
        else:
            atexit.register(_shared.stop)
    if isinstance(_shared, PostgresUnavailable):
        raise _shared
    return _shared


def database_url_for(backend: str, tmp_path: Path) -> str:
    """A fresh empty database on ``backend`` ("sqlite" or "postgresql")."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'platonicam.db'}"
    try:
        cluster = shared_cluster()
    except PostgresUnavailable as error:
        pytest.fail(f"PostgreSQL backend unavailable: {error}")
    return cluster.create_database(f"t{next(_names)}")
